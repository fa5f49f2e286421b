"""Index a video's packets in one pass: keyframe times for seeking, the constant-rate timeline (rate, frame
count, start and end), the first frame's size and rotation, and whether the file is whole.

Only packet headers are read, plus enough packets to decode the first frame, so indexing costs about one
read of the file.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import InputError
from .files import open_container

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoIndex:
    """What one pass over a video's packets tells (no decoding beyond the first frame)."""

    path: Path
    stream_index: int
    time_base: Fraction
    start: float                 # first presentation time (s)
    end: float                   # end of the last frame (s)
    key_times: list[float]       # presentation times of keyframes, ascending (s)
    key_seek: list[int]          # the timestamp to seek to for each keyframe (stream time base)
    fps: float
    frame_count: int
    coded_w: int
    coded_h: int
    rotation: int
    codec: str
    has_audio: bool
    frame_bytes: int             # memory one decoded frame holds


def index_video(path: Path) -> VideoIndex:
    """The index of ``path``, built once per file version (size and modification time).

    Raises `InputError` for a file with no video stream, no decodable frame, or fewer frames than its
    header promises.
    """
    st = Path(path).stat()
    return _index_cached(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _index_cached(path: str, size: int, mtime_ns: int) -> VideoIndex:
    p = Path(path)
    with open_container(p) as container:
        streams = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
        if not streams:
            what = " (it holds only sound)" if container.streams.audio else ""
            raise InputError(p, f"no video stream{what}")
        stream = streams[0]
        tb = stream.time_base or Fraction(1, 90000)
        try:
            codec = stream.codec_context.codec.canonical_name
        except Exception:  # noqa: BLE001 - a codec this FFmpeg build does not know
            raise InputError(p, "the video codec is not supported") from None
        pts, ends, keys, key_seek = [], [], [], []
        first: av.VideoFrame | None = None
        try:
            for packet in container.demux(stream):
                if first is None:  # decode just enough for the first picture: size and rotation
                    first = _first_frame(packet)
                if packet.size == 0 or packet.is_discard or packet.pts is None:
                    continue
                t = float(packet.pts * tb)
                pts.append(t)
                ends.append(t + float((packet.duration or 0) * tb))
                if packet.is_keyframe:
                    keys.append(t)
                    key_seek.append(packet.pts)
        except av.error.FFmpegError as exc:
            if first is None:
                raise InputError(p, f"damaged or truncated video ({exc.strerror or exc})") from None
            log.warning("%s: the video stops early at %.2f s (%s)", p, max(pts, default=0.0), exc)
        if first is None:
            raise InputError(p, f"no frame of the {codec} video could be decoded (damaged or truncated?)")
        fps, count, start, end = _timing(stream, pts, ends)
        _check_complete(p, stream, len(pts), end - start, fps)
        position = list(container.streams.video).index(stream)
        has_audio = bool(container.streams.audio)
    # PyAV gives the display matrix's turn counter-clockwise (an upright phone clip stored sideways reads
    # -90); keep it as the clockwise turn to apply, snapped to a quarter turn.
    rot = int(round(-(first.rotation or 0) / 90.0)) % 4 * 90
    log.debug("indexed %s: %d packets, %d keyframes, %.3f fps, %d frames, rotation %d", p, len(pts),
              len(keys), fps, count, rot)
    order = np.argsort(keys, kind="stable")
    return VideoIndex(p, position, tb, start, end, [keys[i] for i in order], [key_seek[i] for i in order], fps,
                 count, first.width, first.height, rot, codec, has_audio, frame_bytes(first))


def _check_complete(p: Path, stream, n_packets: int, seconds: float, fps: float) -> None:
    """Raise if the container promises more video than the file holds (a copy or download cut short)."""
    promised = stream.frames or 0
    if promised and n_packets < promised:
        raise InputError(p, f"truncated or damaged: holds {n_packets} of the {promised} frames its header lists")
    declared = None if promised else _declared_seconds(stream)
    if declared and seconds < declared - 1.5 / fps:
        raise InputError(p, f"truncated or damaged: the video stops at {seconds:.2f} s of {declared:.2f} s")


def _declared_seconds(stream) -> float | None:
    """The video stream's own stated length: from the container, or Matroska's DURATION tag."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tag = (stream.metadata or {}).get("DURATION")
    if tag:
        try:
            h, m, sec = tag.split(":")
            return int(h) * 3600 + int(m) * 60 + float(sec)
        except ValueError:
            return None
    return None


def frame_bytes(frame: av.VideoFrame) -> int:
    """Memory a decoded frame holds (its planes, row padding included)."""
    return max(1, sum(plane.buffer_size for plane in frame.planes))


def _first_frame(packet: av.Packet) -> av.VideoFrame | None:
    try:
        frames = packet.decode()
    except av.error.InvalidDataError:
        return None
    return frames[0] if frames else None


def _timing(stream, pts: list[float], ends: list[float]) -> tuple[float, int, float, float]:
    """(fps, frame_count, start, end) of the constant-rate timeline for these packet times.

    The header's rate is kept when the timestamps agree with it, either on average or frame to frame (a
    constant-rate clip with a gap); otherwise the clip has a variable rate and its average rate is used.
    """
    declared = stream.average_rate or stream.guessed_rate
    declared = float(declared) if declared and 0 < float(declared) <= 1000 else None
    ts = np.unique(np.asarray(pts, dtype=np.float64))
    if ts.size == 0:
        fps = declared or 25.0
        return fps, 1, 0.0, 1.0 / fps
    average = typical = None
    if ts.size >= 2 and ts[-1] > ts[0]:
        average = (ts.size - 1) / (ts[-1] - ts[0])
        typical = 1.0 / float(np.median(np.diff(ts)))
    if declared and (average is None or abs(declared / average - 1) < 0.01 or abs(declared / typical - 1) < 0.01):
        fps = declared
    else:
        fps = average or declared or 25.0
    start = float(ts[0])
    end = max(e if e > t else t + 1.0 / fps for t, e in zip(pts, ends))
    return fps, max(1, int(round((end - start) * fps))), start, end
