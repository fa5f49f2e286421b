"""ZIP export of finished outputs, streamed file by file to disk.

The videos are already compressed, so they are stored, not deflated (no CPU spent for nothing); each is
copied into the archive in chunks, so memory stays flat whatever the total size. A ``results.json`` inside
says which face, which speech, which options and which score produced each file.
"""
from __future__ import annotations

import json
import logging
import os
import time
import zipfile
from pathlib import Path
from typing import Iterable

from ..errors import InputError
from .records import HistoryEntry

log = logging.getLogger(__name__)


def export_zip(out_path: str | Path, entries: Iterable[HistoryEntry]) -> Path:
    """Write ``entries``' videos (and a ``results.json``) to ``out_path``; returns it.

    Written under a temporary name and renamed at the end: a crash never leaves a truncated archive.
    """
    out_path = Path(out_path).expanduser().absolute()
    if out_path.is_dir():
        raise InputError(out_path, "is a folder; give a .zip file name")
    if not out_path.parent.is_dir():
        raise InputError(out_path, "its folder does not exist")
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.part")
    manifest, used, chosen = [], set(), 0
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for entry in entries:
                chosen += 1
                src = Path(entry.output)
                if not src.is_file():
                    log.warning("export: %s is missing on disk, skipped", src)
                    continue
                arcname = _unique(src.name, used)
                zf.write(src, arcname)           # copies in chunks; never the whole file in memory
                manifest.append({"file": arcname, "video": entry.video_name, "audio": entry.audio_name,
                                 "duration": entry.duration, "engine": entry.engine, "score": entry.score,
                                 "finished": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(entry.created)),
                                 "options": entry.options, "job": entry.job_id, "item": entry.item_id})
            if not manifest:
                raise InputError(out_path, "nothing to export: none of the chosen outputs is on disk"
                                           if chosen else "nothing to export: the history is empty")
            zf.writestr("results.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    log.info("exported %d output(s) to %s", len(manifest), out_path)
    return out_path


def _unique(name: str, used: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 1
    while candidate in used or candidate == "results.json":
        n += 1
        candidate = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
    used.add(candidate)
    return candidate
