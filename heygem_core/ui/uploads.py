"""Checking files as they arrive from the browser, before anything is kept or queued.

Three checks, cheapest first: the file type (by extension), the size against the upload limit, and then
whether the media really opens (the audio decodes, the video's first frame decodes) with the same readers
the pipeline uses.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from ..errors import InputError
from .i18n import format_size, tr

log = logging.getLogger(__name__)

KINDS = ("audio", "video")


class Problem(str):
    """A one-line message about a file (the whole text, technical reason included), plus ``short``: the same
    in plain words, and ``detail``: the technical reason, which the page folds away."""

    short: str
    detail: str

    def __new__(cls, text: str, *, short: str, detail: str) -> "Problem":
        obj = super().__new__(cls, text)
        obj.short, obj.detail = short, detail
        return obj


def supported_exts(kind: str) -> tuple[str, ...]:
    """Extensions accepted for ``kind``: speech may come from a sound file or a video's sound track; a face
    may be a video or a still picture."""
    if kind == "audio":
        from ..media.audio import AUDIO_EXTS

        return tuple(AUDIO_EXTS)
    if kind == "video":
        from ..media.video import IMAGE_EXTS, VIDEO_EXTS

        return tuple(VIDEO_EXTS) + tuple(IMAGE_EXTS)
    raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")


def short_exts(kind: str, n: int = 6) -> str:
    """The commonest accepted types, for a hint line (the file picker still offers them all)."""
    exts = supported_exts(kind)
    shown = [e.lstrip(".") for e in exts[:n]]
    return " ".join(shown) + (" …" if len(exts) > n else "")


def validate_upload(kind: str, name: str, data: bytes | memoryview | str | Path, *, limit_bytes: int,
                    lang: str = "en") -> str | None:
    """None when the file can be used as ``kind`` ("audio" or "video"), else a one-line message for the page.

    ``data`` is the uploaded content or a path to it. Nothing is stored; temporary copies are removed.
    """
    exts = supported_exts(kind)
    ext = Path(name).suffix.lower()
    if ext not in exts:
        return tr("bad_type", lang, name=name, ext=ext or "(—)", exts=" ".join(e.lstrip(".") for e in exts))
    size = Path(data).stat().st_size if isinstance(data, (str, Path)) else memoryview(data).nbytes
    if size > limit_bytes:
        return tr("too_big", lang, name=name, size=format_size(size), limit=format_size(limit_bytes))
    if size == 0:
        return tr("empty_file", lang, name=name)
    try:
        if isinstance(data, (str, Path)):
            _probe(kind, Path(data))
        else:
            with tempfile.TemporaryDirectory(prefix="heygem-upload-") as tmp:
                path = Path(tmp) / f"upload{ext}"
                with open(path, "wb") as fh:
                    fh.write(memoryview(data))
                _probe(kind, path)
    except InputError as exc:
        return _unreadable(kind, name, exc.reason, lang)
    except Exception as exc:  # a reader bug must not take the page down; say what happened
        log.exception("checking upload %s failed", name)
        return _unreadable(kind, name, f"{type(exc).__name__}: {exc}", lang)
    return None


def _unreadable(kind: str, name: str, reason: str, lang: str) -> Problem:
    return Problem(tr("unreadable", lang, name=name, reason=reason), detail=reason,
                   short=tr(f"unreadable_{kind}", lang, name=name))


def _probe(kind: str, path: Path) -> None:
    if kind == "audio":
        from ..media.audio import load_audio

        load_audio(path, sample_rate=16000, mono=True)       # raises for no sound, or an empty one
    else:
        from ..media.video import probe_video

        probe_video(path)


def list_uploads(uploads_dir: Path, kind: str) -> list[Path]:
    """Files kept under ``uploads_dir`` usable as ``kind``, newest first."""
    exts = supported_exts(kind)
    found = []
    if uploads_dir.is_dir():
        for folder in uploads_dir.iterdir():
            if not folder.is_dir():
                continue
            for f in folder.iterdir():
                if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in exts:
                    found.append(f)
    found.sort(key=lambda p: (-_mtime(p), p.name))
    return found


def _mtime(p: Path) -> float:
    try:
        return os.stat(p).st_mtime
    except OSError:
        return 0.0
