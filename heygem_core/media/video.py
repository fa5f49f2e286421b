"""Read template videos and still images as BGR frames on a constant-rate timeline.

    info = probe_video("presenter.mp4")
    with FrameReader(info) as reader:
        for index, frame in reader.frames(template_indices(n_out, info.frame_count)):
            ...                                  # frame: (info.height, info.width, 3) uint8, BGR

Timeline frame ``j`` is the picture on screen at ``j / fps`` seconds after the first frame, so a
variable-frame-rate clip reads as a steady ``fps``. Rotation metadata is applied: frames come out the way a
player shows them. A still image is a video of one frame.

`FrameReader.frames` takes any index sequence. Forward runs decode straight through. Backward runs (the
template played in reverse once the speech outlasts it) decode a block from the nearest earlier keyframe and
hand it out reversed, holding at most ``memory_budget`` bytes of frames. Other jumps seek.
"""
from __future__ import annotations

import bisect
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import av
import cv2
import numpy as np

from ..errors import InputError
from .files import IMAGE_EXTS, VIDEO_EXTS, check_file, decoded_frames, open_container
from .videoindex import VideoIndex, frame_bytes, index_video
from .planar import PlanarFrame, planar_ok
from .yuv import frame_to_bgr

log = logging.getLogger(__name__)

__all__ = ["VIDEO_EXTS", "IMAGE_EXTS", "VideoInfo", "probe_video", "FrameReader", "ReadStats"]

DEFAULT_MEMORY_BUDGET = 256 * 2**20
_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@dataclass(frozen=True)
class VideoInfo:
    """What a template is, as the rest of the package sees it.

    Attributes
    ----------
    path : Path
    width, height : int
        Size of the displayed frame (after rotation).
    fps : float
        Rate of the constant-rate timeline (the average rate of a variable-rate clip; ``image_fps`` for a
        still image).
    frame_count : int
        Frames on that timeline (1 for a still image).
    duration : float
        Seconds from the first frame's start to the last frame's end.
    rotation : int
        Clockwise turn applied to the decoded picture for display: 0, 90, 180 or 270 (a phone's portrait
        clip stored sideways says 90). Images report 0: their EXIF orientation is applied on decoding.
    codec : str
        Codec name ("h264", "hevc", "vp9", "av1", …; "png", "jpeg", … for images).
    is_image : bool
    has_audio : bool
        The container also carries a sound stream.
    """

    path: Path
    width: int
    height: int
    fps: float
    frame_count: int
    duration: float
    rotation: int
    codec: str
    is_image: bool
    has_audio: bool


@dataclass
class ReadStats:
    """Work a `FrameReader` has done, for tests and tuning."""

    seeks: int = 0              #: times the demuxer jumped to a keyframe
    decoded: int = 0            #: frames that came out of the decoder
    peak_buffered: int = 0      #: most frames held at once for a backward run
    block_frames: int = 0       #: frames per backward block the memory budget allows


def probe_video(path: str | Path, image_fps: float = 25.0) -> VideoInfo:
    """Describe a video or still image.

    A video's packets are indexed in one pass over the file (cached per file version, so the
    `FrameReader` that follows does not repeat it); only its first frame is decoded.

    Raises
    ------
    InputError
        Missing, empty, unsupported, unreadable or damaged file, or a file with no video stream.
    """
    if not image_fps > 0:
        raise ValueError(f"image_fps must be positive, got {image_fps}")
    p = check_file(path, VIDEO_EXTS + IMAGE_EXTS, "a video or an image")
    if p.suffix.lower() in IMAGE_EXTS:
        image = _read_image(p)
        h, w = image.shape[:2]
        codec = {".jpg": "jpeg", ".jpeg": "jpeg"}.get(p.suffix.lower(), p.suffix.lower()[1:])
        return VideoInfo(p, w, h, float(image_fps), 1, 1.0 / image_fps, 0, codec, True, False)
    index = index_video(p)
    w, h = (index.coded_h, index.coded_w) if index.rotation in (90, 270) else (index.coded_w, index.coded_h)
    return VideoInfo(p, w, h, index.fps, index.frame_count, index.end - index.start, index.rotation,
                     index.codec, False, index.has_audio)


class FrameReader:
    """Frames of one template by timeline index; see the module docstring.

    Parameters
    ----------
    info : VideoInfo
        From `probe_video`. Frames are mapped onto ``info.fps``: a copy with another ``fps`` (and the
        matching ``frame_count``) reads the clip resampled to that rate.
    memory_budget : int
        Most bytes of decoded frames held at once while reading backward.
    planar : bool
        Hand out the frames the decoder gives as 8-bit BT.709 4:2:0 as `PlanarFrame`s (read as BGR where
        read, no whole-frame conversion); others are BGR arrays as always.

    Not thread-safe: one reader per thread. Close it (or use ``with``) to release the file.
    """

    def __init__(self, info: VideoInfo, *, memory_budget: int = DEFAULT_MEMORY_BUDGET, planar: bool = False):
        self.info = info
        self.planar = planar
        self.memory_budget = int(memory_budget)
        self.stats = ReadStats()
        self._image: np.ndarray | None = None
        self._cursor: _Cursor | None = None

    def frames(self, indices: Iterable[int]) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` for each index, in the order given.

        Each frame is a new ``(height, width, 3)`` uint8 BGR array the caller may modify.

        Raises
        ------
        IndexError
            An index outside ``[0, frame_count)``.
        """
        idx = [int(i) for i in indices]
        n = self.info.frame_count
        bad = next((i for i in idx if not 0 <= i < n), None)
        if bad is not None:
            raise IndexError(f"{self.info.path}: frame {bad} is outside 0..{n - 1}")
        if self.info.is_image:
            if self._image is None:
                self._image = _read_image(self.info.path)
            for i in idx:
                yield i, self._image.copy()
            return
        pos = 0
        while pos < len(idx):
            if pos + 1 < len(idx) and idx[pos + 1] < idx[pos]:
                end = pos + 1
                while end < len(idx) and idx[end] <= idx[end - 1]:
                    end += 1
                yield from self._backward(idx[pos:end])
                pos = end
            else:
                yield idx[pos], self._forward(idx[pos])
                pos += 1

    @property
    def frame_bytes(self) -> int:
        """Bytes one decoded frame occupies while held (an estimate until the first frame is decoded)."""
        return self._open().frame_bytes if not self.info.is_image else self.info.width * self.info.height * 3

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals
    def _open(self) -> "_Cursor":
        if self._cursor is None:
            self._cursor = _Cursor(self.info, index_video(self.info.path), self.stats)
        return self._cursor

    def _forward(self, j: int) -> np.ndarray:
        return self._to_bgr(self._open().frame_at(j))  # a repeated index converts the held frame again

    def _backward(self, run: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        """Serve a non-increasing run of indices block by block, each block decoded forward once."""
        cursor = self._open()
        i = 0
        while i < len(run):
            block = max(1, self.memory_budget // cursor.frame_bytes)
            self.stats.block_frames = block
            top, lowest = run[i], run[-1]
            if top - lowest + 1 <= block:         # the rest of the run fits: one pass
                start = lowest
            else:                                 # the longest block that starts on a keyframe, if any
                start = cursor.first_key_slot(top - block + 1, top)
            k = i
            while k < len(run) and run[k] >= start:
                k += 1
            held = cursor.collect(sorted(set(run[i:k])))
            self.stats.peak_buffered = max(self.stats.peak_buffered, len({id(f) for f in held.values()}))
            for j in run[i:k]:
                yield j, self._to_bgr(held[j])
            del held
            i = k

    def _to_bgr(self, frame: av.VideoFrame) -> np.ndarray | PlanarFrame:
        if (self.planar and not self.info.rotation and (frame.width, frame.height) == (self.info.width,
                                                                                       self.info.height)
                and planar_ok(frame)):
            return PlanarFrame.from_video_frame(frame)
        image = frame_to_bgr(frame)
        rot = _ROTATE.get(self.info.rotation)
        if rot is not None:
            image = cv2.rotate(image, rot)
        if image.shape[:2] != (self.info.height, self.info.width):  # the stream changed size midway
            image = cv2.resize(image, (self.info.width, self.info.height), interpolation=cv2.INTER_AREA)
        return image


# -- decoding -------------------------------------------------------------------------------------------

class _Cursor:
    """A decoder positioned on the timeline: ``cur`` is on screen, ``nxt`` is the frame after it."""

    def __init__(self, info: VideoInfo, index: VideoIndex, stats: ReadStats):
        self.index, self.stats, self.fps = index, stats, info.fps
        self.container = self.stream = None
        # Timestamps are rounded to the time base; a frame up to this late still counts as on time.
        self.tol = min(0.6 * float(index.time_base), 0.25 / self.fps)
        self.frame_bytes = index.frame_bytes  # of the first frame; updated from the first frame decoded here
        self._sized = False
        self._seekable = True
        self._key_slots: list[int] | None = None
        self._gen: Iterator[tuple[float, av.VideoFrame]] | None = None
        self.cur: tuple[float, av.VideoFrame] | None = None
        self.nxt: tuple[float, av.VideoFrame] | None = None

    def time_of(self, j: int) -> float:
        return self.index.start + j / self.fps

    def first_key_slot(self, lo: int, hi: int) -> int:
        """The first timeline index in ``[lo, hi]`` that shows a keyframe, else ``lo``.

        Decoding from there needs nothing before it; a block starting at ``lo`` instead has to decode
        from the keyframe before ``lo`` and throw those frames away.
        """
        if self._key_slots is None:
            self._key_slots = [max(0, math.ceil((t - self.tol - self.index.start) * self.fps - 1e-9))
                               for t in self.index.key_times]
        k = bisect.bisect_left(self._key_slots, lo)
        return self._key_slots[k] if k < len(self._key_slots) and self._key_slots[k] <= hi else lo

    def frame_at(self, j: int) -> av.VideoFrame:
        t = self.time_of(j)
        if self._gen is None or (self.cur is not None and t + self.tol < self.cur[0]):
            self._seek(t)
        elif self.nxt is not None:
            ki = bisect.bisect_right(self.index.key_times, t + self.tol) - 1
            if ki >= 0 and self.index.key_times[ki] > self.nxt[0] + self.tol:
                self._seek(t)  # a keyframe lies ahead: jumping there skips decoding what is between
        while self.nxt is not None and self.nxt[0] <= t + self.tol:
            self.cur, self.nxt = self.nxt, self._next()
        if self.cur is None:  # the first frame starts after the timeline does: show it from the start
            self.cur, self.nxt = self.nxt, self._next()
        if self.cur is None:
            raise InputError(self.index.path, f"no frame could be decoded at {t:.3f} s")
        return self.cur[1]

    def collect(self, slots: list[int]) -> dict[int, av.VideoFrame]:
        """Frames for ascending ``slots``, decoded in one forward pass from the keyframe before the first."""
        t0 = self.time_of(slots[0])
        if self._gen is None or self.cur is None or t0 + self.tol < self.cur[0] or self._key_ahead(t0):
            self._seek(t0)
        return {j: self.frame_at(j) for j in slots}

    def _key_ahead(self, t: float) -> bool:
        ki = bisect.bisect_right(self.index.key_times, t + self.tol) - 1
        return ki >= 0 and self.nxt is not None and self.index.key_times[ki] > self.nxt[0] + self.tol

    def _seek(self, t: float) -> None:
        """Position the decoder so that ``cur`` becomes the last frame at or before ``t``.

        Some demuxers land on a packet that is not the keyframe asked for, or after it: frames before the
        first decoded keyframe are dropped, and a landing past ``t`` is retried from the keyframe before.
        A few (MPEG program streams) also mislabel the timestamps after a seek; once a keyframe shows up
        at a time the index does not know, this file is read from the start whenever it has to go back.
        The start itself is reached by reopening the file, which no demuxer gets wrong.
        """
        ki = bisect.bisect_right(self.index.key_times, t + self.tol) - 1
        while True:
            self.stats.seeks += 1
            if ki <= 0 or not self._seekable:
                self._reopen()
                self._gen = self._decode()
                self.cur, self.nxt = None, self._next()
                return
            if self.container is None:
                self._reopen()
            self.container.seek(self.index.key_seek[ki], stream=self.stream, backward=True, any_frame=False)
            self._gen = self._decode()
            first = self._next()
            while first is not None and not first[1].key_frame and first[0] <= t + self.tol:
                first = self._next()  # decoded from a non-key landing: not a clean picture
            if first is not None and first[1].key_frame and first[0] <= t + self.tol:
                if self._known_key(first[0]):
                    self.cur, self.nxt = None, first
                    return
                log.info("%s: timestamps are unreliable after seeking; reading from the start instead",
                         self.index.path)
                self._seekable = False
                continue
            log.debug("%s: seek for %.3f s landed at %s, retrying from the keyframe before", self.index.path,
                      t, first and round(first[0], 3))
            ki -= 1

    def _known_key(self, t: float) -> bool:
        keys = self.index.key_times
        k = bisect.bisect_left(keys, t - self.tol)
        return k < len(keys) and abs(keys[k] - t) <= self.tol

    def _reopen(self) -> None:
        if self.container is not None:
            self.container.close()
        self.container = open_container(self.index.path)
        self.stream = self.container.streams.video[self.index.stream_index]
        self.stream.thread_type = "AUTO"

    def _next(self) -> tuple[float, av.VideoFrame] | None:
        return next(self._gen, None) if self._gen is not None else None

    def _decode(self) -> Iterator[tuple[float, av.VideoFrame]]:
        """Decoded frames with their presentation times (s). Damage ends the stream early, with a warning:
        the last good frame then stays on screen."""
        last = None
        bad = [0]
        try:
            for frame in decoded_frames(self.container, self.stream, bad):
                t = float(frame.pts * self.stream.time_base) if frame.pts is not None else (
                    (last + 1.0 / self.fps) if last is not None else self.index.start)
                last = t
                self.stats.decoded += 1
                if not self._sized:
                    self.frame_bytes = frame_bytes(frame)
                    self._sized = True
                yield t, frame
        except av.error.FFmpegError as exc:
            log.warning("%s: video unreadable after %.2f s (%s)", self.index.path, last or 0.0, exc)
        if bad[0]:
            log.warning("%s: skipped %d damaged video packet(s)", self.index.path, bad[0])

    def close(self) -> None:
        self._gen = None
        self.cur = self.nxt = None
        if self.container is not None:
            self.container.close()
            self.container = None


def _read_image(p: Path) -> np.ndarray:
    """A still image as BGR uint8, turned upright by its EXIF orientation."""
    data = np.fromfile(str(p), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise InputError(p, "not a readable image (damaged, truncated or not really a picture)")
    return image

