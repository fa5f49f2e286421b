"""The little media work the queue itself does: checking inputs at submit time and drawing thumbnails.

Checking at submit time turns a typo or a wrong file into a one-line error for the person submitting,
instead of a failed item found later in the queue.
"""
from __future__ import annotations

import os
from pathlib import Path

import av
import cv2
import numpy as np

from ..media.audio import AUDIO_EXTS
from ..errors import InputError
from ..media.files import IMAGE_EXTS, VIDEO_EXTS, check_file

THUMB_WIDTH = 320


def check_audio(path: str | Path) -> Path:
    """``path`` as an absolute Path if it is a readable file with an audio stream, else ``InputError``."""
    return _check(path, "audio")


def check_video(path: str | Path) -> Path:
    """``path`` as an absolute Path if it is a readable video (or still image), else ``InputError``."""
    return _check(path, "video")


def _check(path: str | Path, kind: str) -> Path:
    exts = AUDIO_EXTS if kind == "audio" else VIDEO_EXTS + IMAGE_EXTS
    path = check_file(Path(path).expanduser(), exts, "an audio file (or a video with sound)" if kind == "audio"
                      else "a video or an image")
    if not os.access(path, os.R_OK):
        raise InputError(path, "not readable (permission denied)")
    try:
        with av.open(str(path)) as container:
            types = {s.type for s in container.streams}
    except (av.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise InputError(path, f"not a media file that can be decoded ({exc.__class__.__name__})") from None
    if kind not in types:
        raise InputError(path, f"has no {kind} stream")
    return path.absolute()


def write_thumbnail(video: str | Path, out: str | Path, width: int = THUMB_WIDTH) -> Path:
    """A JPEG of the middle frame of ``video``, ``width`` pixels wide, written atomically to ``out``."""
    frame = middle_frame(video)
    h, w = frame.shape[:2]
    if w > width:
        frame = cv2.resize(frame, (width, max(2, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 BGR image
        raise InputError(video, "could not encode a thumbnail")
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.tobytes())
    os.replace(tmp, out)
    return out


def middle_frame(video: str | Path) -> np.ndarray:
    """The frame nearest the middle of ``video`` (BGR uint8, rotation not applied)."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        middle = None
        if container.duration:
            middle = container.duration / 2 / 1_000_000  # seconds
        elif stream.duration and stream.time_base:
            middle = float(stream.duration * stream.time_base) / 2
        if middle:
            container.seek(int(middle / stream.time_base), stream=stream, backward=True)
        first = None
        for frame in container.decode(stream):
            first = first if first is not None else frame
            if middle is None or frame.time is None or frame.time >= middle - 1e-3:
                return frame.to_ndarray(format="bgr24")
        if first is not None:
            return first.to_ndarray(format="bgr24")
    raise InputError(video, "has no decodable frame")
