"""File checks shared by the audio and video readers: which extensions are accepted, and opening a
container so that every failure becomes an `InputError` naming the file and the reason."""
from __future__ import annotations

import errno
import logging
import os
import tempfile
from pathlib import Path
from typing import Iterator

import av

from ..errors import InputError

log = logging.getLogger(__name__)

#: Containers whose video (and sound) the readers accept.
VIDEO_EXTS = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".flv", ".wmv", ".mpg", ".mpeg", ".ts",
              ".mts", ".m2ts", ".3gp")
#: Still images; each is a video of one frame.
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Sound-only files.
SOUND_EXTS = (".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma", ".aif", ".aiff")


def check_file(path: str | Path, exts: tuple[str, ...], what: str) -> Path:
    """``path`` as a `Path` once it is known to be a non-empty file with one of ``exts``.

    ``what`` names the expected kind of file in the message ("an audio file", "a video or image").
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "no such file")
    if p.is_dir():
        raise InputError(p, "is a folder, not a file")
    ext = p.suffix.lower()
    if ext not in exts:
        kind = ("a sound file" if ext in SOUND_EXTS else "a picture" if ext in IMAGE_EXTS
                else "a video" if ext in VIDEO_EXTS else None)
        shown = f"{ext} ({kind})" if kind else (ext or "(no extension)")
        raise InputError(p, f"unsupported file type {shown}; expected {what}: {' '.join(exts)}")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputError(p, f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(p, "empty file (0 bytes)")
    return p


def check_output(path: str | Path) -> Path:
    """``path`` as a `Path` once a new file can be written there: its folder exists (it is made if missing)
    and takes files, and the name is not a folder. Raises `InputError` naming the path and the reason, before
    any work is done."""
    p = Path(path)
    if p.is_dir():
        raise InputError(p, "is a folder; the output file cannot take its place")
    folder = p.parent
    for above in (folder, *folder.parents):      # the nearest existing part of the path must be a folder
        if above.exists():
            if not above.is_dir():
                raise InputError(above, "is a file, not a folder: the output cannot go inside it")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".heygem-", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(folder, f"cannot write the output here ({_os_reason(exc)})") from None
    return p


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or str(exc)


def decoded_frames(container, stream, skipped: list[int]) -> Iterator:
    """Every frame of ``stream``, skipping packets the decoder rejects as damaged (as FFmpeg's own players
    do); ``skipped[0]`` counts them. Any other decoding error propagates to the caller."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            skipped[0] += 1
            continue
        yield from frames


def open_container(p: Path) -> av.container.InputContainer:
    """Open ``p`` for reading with PyAV; a file FFmpeg cannot parse raises `InputError`."""
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore")
    except PermissionError:
        raise InputError(p, "cannot be read: permission denied") from None
    except av.error.FFmpegError as exc:
        raise InputError(p, f"not a readable media file, or damaged/truncated ({_why(exc)})") from None


def _why(exc: Exception) -> str:
    """FFmpeg's own words for a failure, without the file name it repeats."""
    msg = getattr(exc, "strerror", None) or str(exc)
    return msg.split(":")[0].strip() if msg else exc.__class__.__name__
