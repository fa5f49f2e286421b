"""The weights store: model checkpoints kept in one folder, verified by sha256, referred to by name.

    store = WeightsStore()                          # $HEYGEM_WEIGHTS, else ~/.cache/heygem/weights
    entry = store.add("~/Downloads/wav2lip_gan.pth", sha256="…")
    LipSyncOptions(engine="wav2lip", checkpoint="wav2lip_gan")

Each checkpoint ``NAME.pth`` sits next to ``NAME.json`` (name, sha256, size, source, added). A file only
becomes an entry once it is complete, matches the expected hash and loads as a Wav2Lip generator; the
sidecar is written last, so an interrupted add leaves at most a ``.part`` file, never a half entry.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from ...atomic_file import write_atomic
from ...errors import CheckpointError, InputError

log = logging.getLogger(__name__)

ENV_VAR = "HEYGEM_WEIGHTS"
SUFFIX = ".pth"
CHUNK = 1 << 20          # file reads
NET_CHUNK = 1 << 16      # network reads: small enough for smooth progress
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

ProgressFn = Callable[[int, "int | None"], None]   # (bytes done, bytes total or None)


def default_weights_dir() -> Path:
    """``$HEYGEM_WEIGHTS`` when set, else ``~/.cache/heygem/weights``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "heygem" / "weights"


@dataclass(frozen=True)
class WeightsEntry:
    """One registered checkpoint. ``path`` is where the file lives; the rest is its JSON sidecar."""

    name: str
    sha256: str
    size: int
    source: str
    added: str
    allow_pickle: bool = False
    path: Path = Path()

    def sidecar(self) -> dict:
        data = asdict(self)
        del data["path"]
        return data


@dataclass(frozen=True)
class VerifyResult:
    entry: WeightsEntry
    ok: bool
    problem: str = ""    # "" when ok, else why (missing file, size or sha256 mismatch)


class WeightsStore:
    """A folder of named, hash-verified checkpoints."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root).expanduser() if root else default_weights_dir()

    # -- reading
    def list(self) -> list[WeightsEntry]:
        if not self.root.is_dir():
            return []
        entries = []
        for meta in sorted(self.root.glob("*.json")):
            try:
                entries.append(self._read(meta))
            except InputError as exc:
                log.warning("%s", exc)
        return entries

    def get(self, name: str) -> WeightsEntry | None:
        meta = self.root / f"{name}.json"
        return self._read(meta) if _NAME.match(name) and meta.is_file() else None

    def verify(self, names: list[str] | None = None, on_progress: ProgressFn | None = None) -> list[VerifyResult]:
        """Recompute every entry's sha256 (or those named) and compare with its sidecar."""
        results = []
        for entry in self.list():
            if names and entry.name not in names:
                continue
            if not entry.path.is_file():
                results.append(VerifyResult(entry, False, f"file missing: {entry.path}"))
                continue
            size = entry.path.stat().st_size
            if size != entry.size:
                results.append(VerifyResult(entry, False, f"size is {size} bytes, expected {entry.size}"))
                continue
            digest = sha256_file(entry.path, on_progress)
            ok = digest == entry.sha256
            results.append(VerifyResult(entry, ok, "" if ok else f"sha256 is {digest}, expected {entry.sha256}"))
        if names:
            unknown = sorted(set(names) - {r.entry.name for r in results})
            if unknown:
                raise InputError(unknown[0], f"no weights named so in {self.root}")
        return results

    # -- writing
    def add(self, source: str | Path, *, sha256: str | None = None, name: str | None = None,
            allow_pickle: bool = False, validate: bool = True, force: bool = False,
            on_progress: ProgressFn | None = None) -> WeightsEntry:
        """Copy (or download, for an http(s) URL) a checkpoint into the store and register it.

        ``sha256``: the expected hash (a mismatch registers nothing). ``validate``: the file must load as a
        Wav2Lip generator checkpoint (strict). ``allow_pickle``: record that this file may be unpickled in
        full (only for files whose source you trust). ``force`` replaces an entry of the same name.
        Raises InputError / CheckpointError naming the source and the reason."""
        source = str(source)
        is_url = source.startswith(("http://", "https://"))
        name = name or _name_from(source, is_url)
        if not _NAME.match(name):
            raise InputError(source, f"invalid weights name {name!r}: use letters, digits, '.', '_' or '-'")
        expected = _check_hex(sha256, source) if sha256 else None
        existing = self.get(name)
        if existing and not force:
            if _same_content(existing, source, is_url, expected):
                log.info("%s is already registered as %s", source, name)
                return existing
            raise InputError(source, f"weights named {name!r} already exist ({existing.path}); "
                                     "choose another --name or replace it with --force")
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / f"{name}{SUFFIX}"
        part = self.root / f"{name}{SUFFIX}.part"
        if is_url:
            digest = download(source, part, sha256=expected, on_progress=on_progress)
        else:
            digest = _copy(Path(source).expanduser(), part, expected, on_progress)
        try:
            if validate:
                from .checkpoint import check_state_dict, read_state_dict

                try:
                    check_state_dict(read_state_dict(part, allow_pickle=allow_pickle), part)
                except CheckpointError as exc:
                    raise CheckpointError(source, exc.reason) from None
            os.replace(part, final)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        entry = WeightsEntry(name=name, sha256=digest, size=final.stat().st_size, source=source,
                             added=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                             allow_pickle=allow_pickle, path=final)
        _write_json(self.root / f"{name}.json", entry.sidecar())
        log.info("registered %s (%s)", name, digest[:12])
        return entry

    def remove(self, name: str) -> None:
        entry = self.get(name)
        if entry is None:
            raise InputError(name, f"no weights named so in {self.root}")
        (self.root / f"{name}.json").unlink()   # sidecar first: never an entry without its file
        entry.path.unlink(missing_ok=True)

    def _read(self, meta: Path) -> WeightsEntry:
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            return WeightsEntry(name=str(data["name"]), sha256=str(data["sha256"]), size=int(data["size"]),
                                source=str(data.get("source", "")), added=str(data.get("added", "")),
                                allow_pickle=bool(data.get("allow_pickle", False)),
                                path=meta.with_suffix(SUFFIX))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(meta, f"unreadable weights sidecar ({exc.__class__.__name__}: {exc})") from None


def resolve_checkpoint(value: str, root: str | Path | None = None) -> tuple[Path, bool]:
    """``(path, allow_pickle)`` for a checkpoint option: a registered name first, else a file path
    (``wav2lip_gan`` is the store entry, ``./wav2lip_gan.pth`` the file). Raises CheckpointError."""
    store = WeightsStore(root)
    if _NAME.match(value):
        entry = store.get(value)
        if entry is not None:
            if not entry.path.is_file():
                raise CheckpointError(entry.path, f"weights {value!r} are registered but the file is missing; "
                                                  "add them again with `heygem weights add`")
            return entry.path, entry.allow_pickle
    path = Path(value).expanduser()
    if path.is_file():
        return path, False
    names = ", ".join(e.name for e in store.list()) or "none"
    raise CheckpointError(value, f"no such file, and no weights of that name in {store.root} "
                                 f"(registered: {names}; add one with `heygem weights add PATH|URL`)")


# -- files and downloads ------------------------------------------------------------------------------------

def sha256_file(path: Path, on_progress: ProgressFn | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if on_progress:
                on_progress(done, total)
    return digest.hexdigest()


def download(url: str, dest: str | Path, *, sha256: str | None = None, on_progress: ProgressFn | None = None,
             retries: int = 3, timeout: float = 30.0) -> str:
    """Download ``url`` into ``dest`` (a ``.part`` file), resuming what is already there; returns the sha256.

    A transfer that ends early is resumed with an HTTP Range request up to ``retries`` times; if it still
    ends early the partial file is kept for a later resume and InputError says so. A hash mismatch deletes
    the file (resuming cannot fix it) and raises CheckpointError."""
    dest = Path(dest)
    expected = _check_hex(sha256, url) if sha256 else None
    attempts = 0
    while True:
        have = dest.stat().st_size if dest.exists() else 0
        try:
            total = _fetch(url, dest, have, on_progress, timeout)
        except _EndedEarly as exc:
            attempts += 1
            if attempts > retries:
                raise InputError(url, f"download ended early ({exc}) {retries + 1} times; the partial file "
                                      f"{dest} is kept and the next add resumes it") from None
            log.info("download of %s ended early (%s); resuming", url, exc)
            time.sleep(min(0.2 * attempts, 2.0))
            continue
        break
    digest = sha256_file(dest)
    if expected and digest != expected:
        dest.unlink(missing_ok=True)
        raise CheckpointError(url, f"sha256 mismatch: got {digest}, expected {expected}; nothing registered")
    log.info("downloaded %s (%d bytes)", url, total)
    return digest


class _EndedEarly(Exception):
    pass


def _fetch(url: str, dest: Path, have: int, on_progress: ProgressFn | None, timeout: float) -> int:
    """One HTTP request appending to ``dest`` from byte ``have``. Returns the full size; raises _EndedEarly."""
    request = urllib.request.Request(url, headers={"User-Agent": "heygem-weights"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:   # nothing left to send: the part file is already complete
            total = _total_from_range(exc.headers.get("Content-Range"))
            if total == have:
                return have
            dest.unlink(missing_ok=True)   # the part file does not fit the server's file: start again
            raise _EndedEarly("server refused to resume; restarting") from None
        raise InputError(url, f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(url, f"cannot download: {reason}") from None
    with response:
        if have and response.status == 206:
            start = _start_from_range(response.headers.get("Content-Range"))
            if start != have:
                raise InputError(url, f"server resumed at byte {start}, not {have}")
            mode, done = "ab", have
            total = _total_from_range(response.headers.get("Content-Range"))
        else:
            mode, done = "wb", 0   # a plain 200: the server ignores ranges, start from the beginning
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        with open(dest, mode) as fh:
            try:
                while chunk := response.read(NET_CHUNK):
                    fh.write(chunk)
                    done += len(chunk)
                    if on_progress:
                        on_progress(done, total)
            except (OSError, ValueError, urllib.error.URLError) as exc:   # IncompleteRead, reset, timeout
                raise _EndedEarly(f"{exc.__class__.__name__} after {done} bytes") from None
    if total is not None and done < total:
        raise _EndedEarly(f"{done} of {total} bytes")
    if total is not None and done > total:
        raise InputError(url, f"server sent {done} bytes but announced {total}")
    return done


def _start_from_range(header: str | None) -> int | None:
    m = re.match(r"bytes (\d+)-\d+/(\d+|\*)", header or "")
    return int(m.group(1)) if m else None


def _total_from_range(header: str | None) -> int | None:
    m = re.search(r"/(\d+)$", header or "")
    return int(m.group(1)) if m else None


def _copy(source: Path, part: Path, expected: str | None, on_progress: ProgressFn | None) -> str:
    if not source.is_file():
        raise InputError(source, "no such file" if not source.exists() else "not a file")
    digest = hashlib.sha256()
    total, done = source.stat().st_size, 0
    try:
        with open(source, "rb") as src, open(part, "wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                done += len(chunk)
                if on_progress:
                    on_progress(done, total)
        if expected and digest.hexdigest() != expected:
            raise CheckpointError(source, f"sha256 mismatch: got {digest.hexdigest()}, expected {expected}; "
                                          "nothing registered")
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _same_content(entry: WeightsEntry, source: str, is_url: bool, expected: str | None) -> bool:
    if is_url:
        return expected == entry.sha256
    path = Path(source).expanduser()
    return path.is_file() and (expected in (None, entry.sha256)) and sha256_file(path) == entry.sha256


def _check_hex(value: str, source: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise InputError(source, f"--sha256 must be 64 hexadecimal digits, got {value!r}")
    return value


def _name_from(source: str, is_url: bool) -> str:
    base = unquote(Path(urlparse(source).path).name) if is_url else Path(source).name
    stem = base[:-len(SUFFIX)] if base.endswith(SUFFIX) else Path(base).stem
    name = re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip("._-")
    if not name:
        raise InputError(source, "cannot derive a weights name from it: give one with --name")
    return name


def _write_json(path: Path, data: dict) -> None:
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
