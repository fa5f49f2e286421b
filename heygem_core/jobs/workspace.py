"""The workspace: one folder that holds everything the app keeps.

    workspace/
      uploads/<upload-id>/<name>   files received from the browser (the id is derived from the content)
      outputs/                     finished videos only: <video>__<audio>.mp4
      thumbnails/                  a JPEG per output, same stem
      cache/                       face tracks and speech timelines; cache/work/<item>/ while an item runs
      logs/heygem.log              the live log (rotated by size)
      jobs.sqlite                  the job store (SQLite, WAL)
      worker.lock                  held by the one worker of this workspace
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from pathlib import Path

from ..errors import InputError
from ..names import safe_name

log = logging.getLogger(__name__)

SUBDIRS = ("uploads", "outputs", "thumbnails", "cache", "logs")
_HASH_CHARS = 16        # 64 bits of SHA-256: collisions are not a concern for one person's uploads


class Workspace:
    """The folders of one workspace, created on first use, and its job store."""

    def __init__(self, root: str | Path = "workspace"):
        self.root = Path(root).expanduser().absolute()
        if self.root.exists() and not self.root.is_dir():
            raise InputError(self.root, "not a folder")
        for name in SUBDIRS:
            try:
                (self.root / name).mkdir(parents=True, exist_ok=True)
            except OSError as exc:      # a read-only workspace can still be read; writing says why not
                log.debug("cannot make %s: %s", self.root / name, exc)
        self.uploads = self.root / "uploads"
        self.outputs = self.root / "outputs"
        self.thumbnails = self.root / "thumbnails"
        self.cache = self.root / "cache"
        self.logs = self.root / "logs"
        self.log_file = self.logs / "heygem.log"
        self.db_path = self.root / "jobs.sqlite"
        self.lock_path = self.root / "worker.lock"
        self._store = None
        self._store_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def __getstate__(self):
        return {"root": self.root}

    def __setstate__(self, state):
        self.__init__(state["root"])

    @property
    def store(self):
        """The workspace's ``JobStore`` (opened on first use)."""
        with self._store_lock:
            if self._store is None:
                from .store import JobStore

                self._store = JobStore(self.db_path, self.root)
            return self._store

    def work_dir(self, item_id: str) -> Path:
        """A fresh private folder for one run of an item (partial files live here, never in outputs/)."""
        path = self.cache / "work" / safe_name(item_id)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def store_upload(self, name: str, data: bytes | bytearray | memoryview | str | Path) -> Path:
        """Keep an uploaded file (its bytes, or a file to copy) under uploads/ and return its path.

        The name is sanitised (no path, no hidden file, unicode kept). The same content uploaded again is
        not stored twice: the earlier file is returned, or hard-linked under the new name.
        """
        filename = safe_name(name)
        if isinstance(data, (str, Path)):
            source = Path(data)
            if not source.is_file():
                raise InputError(source, "no such file")
            digest = _hash_file(source)
        else:
            source = None
            data = memoryview(data)
            digest = hashlib.sha256(data).hexdigest()[:_HASH_CHARS]
        folder = self.uploads / digest
        target = folder / filename
        if target.is_file():
            return target
        folder.mkdir(exist_ok=True)
        existing = next((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), None)
        tmp = folder / f".{filename}.{os.getpid()}.{threading.get_ident()}.part"
        try:
            if existing is not None:
                try:
                    os.link(existing, tmp)
                except OSError:             # file systems without hard links: copy
                    shutil.copyfile(existing, tmp)
            elif source is not None:
                shutil.copyfile(source, tmp)
            else:
                with open(tmp, "wb") as fh:
                    fh.write(data)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        log.info("upload stored: %s", target.relative_to(self.root))
        return target


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()[:_HASH_CHARS]
