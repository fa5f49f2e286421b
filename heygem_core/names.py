"""File names that are safe to create from what a user typed or uploaded.

A browser sends any name it likes (``../../x.mp4``, ``C:\\x.mp4``, ``.bashrc``, 300 characters of CJK). What
lands on disk is one plain path component: no separators, no leading dot (no hidden files), no control or
shell-hostile characters, short enough for every file system once an output suffix is added, and with the
letters of any script kept as they were (NFC-normalised so that the same name typed on two systems is one name).
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Callable

# Bytes, not characters: file systems limit names to 255 bytes, and an output name joins two stems plus a
# suffix, so each part stays well below that.
MAX_NAME_BYTES = 120
MAX_STEM_BYTES = 100

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_SPACES = re.compile(r"\s+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_name(name: str, *, default: str = "upload", max_bytes: int = MAX_NAME_BYTES) -> str:
    """One safe path component for ``name`` (any path is reduced to its last part), extension kept."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _SPACES.sub(" ", _UNSAFE.sub("_", name)).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:          # "name" or ".ext" (a hidden file once the dot is stripped)
        stem, ext = name, ""
    ext = _truncate(ext, 16).strip(" .")
    stem = stem.strip(" .") or default
    if stem.split(".")[0].lower() in _RESERVED:
        stem = "_" + stem
    room = max_bytes - (len(ext.encode()) + 1 if ext else 0)
    stem = _truncate(stem, room).rstrip(" .") or default
    return f"{stem}.{ext}" if ext else stem


def safe_stem(name: str, *, default: str = "file", max_bytes: int = MAX_STEM_BYTES) -> str:
    """The safe stem of ``name`` (no extension), for building output names."""
    stem = Path(safe_name(name, default=default, max_bytes=max_bytes + 20)).stem
    return _truncate(stem, max_bytes).rstrip(" .") or default


def output_stem(video_name: str, audio_name: str) -> str:
    """``<video-stem>__<audio-stem>``: the name of a result says which face spoke which speech."""
    return f"{safe_stem(video_name, max_bytes=90)}__{safe_stem(audio_name, max_bytes=60)}"


def output_name(video: str | Path, audio: str | Path) -> str:
    """The result file's name for ``video`` speaking ``audio``: ``<video-stem>__<audio-stem>.mp4``."""
    return output_stem(Path(video).name, Path(audio).name) + ".mp4"


def free_path(folder: Path, stem: str, suffix: str = ".mp4", *,
              taken: Callable[[Path], bool] | None = None) -> Path:
    """``folder/<stem><suffix>``, or ``<stem>-2``, ``-3``, … when that name exists on disk or ``taken(path)``
    says it is already promised to another result: no result ever overwrites another."""
    for n in range(1, 100_000):
        path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        if not path.exists() and not (taken and taken(path)):
            return path
    raise FileExistsError(f"{folder}: no free name for {stem}{suffix}")  # pragma: no cover


def _truncate(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8 without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max(0, max_bytes)].decode("utf-8", errors="ignore")
