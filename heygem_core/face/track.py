"""Face tracking of a whole video: ``FaceTrack`` (478 FaceMesh landmarks per frame, NaN where there is no
face), ``track_frames`` for any sequence of frames, and ``track_video``, cached by the file's content and the
settings. How one face is followed from frame to frame lives in ``face_tracker``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..atomic_file import write_atomic
from ..errors import Cancelled, InputError, NoFaceError
from .detector import FaceTracker
from .landmarks import N_LANDMARKS
from ..options import LipSyncOptions
from ..progress import Progress

log = logging.getLogger(__name__)

# Bump whenever a change makes the tracker give different landmarks: it is part of the cache key.
TRACKER_VERSION = 2
PROGRESS_EVERY = 5      # frames between progress reports


@dataclass(eq=False)
class FaceTrack:
    """The landmarks of one face through a video.

    landmarks : (n, 478, 2) float32, pixel x, y of the displayed frame; NaN where ``found`` is False
    found : (n,) bool
    """

    landmarks: np.ndarray
    found: np.ndarray
    fps: float
    width: int
    height: int
    from_cache: bool = field(default=False, repr=False)  # True when loaded from the track cache

    def __len__(self) -> int:
        return len(self.found)

    def face(self, i: int) -> np.ndarray | None:
        """Landmarks (478, 2) of frame ``i``, or None when that frame has no face."""
        return self.landmarks[i] if self.found[i] else None

    @property
    def face_ratio(self) -> float:
        """Share of frames with a face, in [0, 1] (0 for an empty track)."""
        return float(self.found.mean()) if len(self.found) else 0.0

    def save(self, path: str | Path) -> Path:
        """Write the track to an ``.npz`` file atomically (a temp file in the same folder, then a rename)."""
        # Compressed in memory first (a few KB a frame): a full disk then fails one plain write, not numpy's
        # zip writer, whose half-closed archive would complain again when it is collected.
        data = io.BytesIO()
        np.savez_compressed(data, landmarks=self.landmarks, found=self.found,
                            meta=np.array([self.fps, self.width, self.height, TRACKER_VERSION], np.float64))
        return write_atomic(path, data.getbuffer())

    @classmethod
    def load(cls, path: str | Path) -> "FaceTrack":
        """Read a track written by :meth:`save`; ``InputError`` when the file is missing, corrupt or foreign."""
        try:
            with np.load(path, allow_pickle=False) as data:
                landmarks, found, meta = data["landmarks"], data["found"], data["meta"]
        except FileNotFoundError:
            raise InputError(path, "no such file") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise InputError(path, f"not a face track file ({exc.__class__.__name__})") from None
        n = len(found)
        if (landmarks.shape != (n, N_LANDMARKS, 2) or found.dtype != bool or meta.shape != (4,)
                or landmarks.dtype != np.float32):
            raise InputError(path, "not a face track file (unexpected array shapes)")
        fps, width, height, _version = meta.tolist()
        return cls(landmarks, found, float(fps), int(width), int(height))


class TrackBuilder:
    """A ``FaceTrack`` built one frame at a time, in order, so tracking can ride along another pass over the
    frames (the pipeline's synthesis pass) instead of decoding the video once more. Use as a context
    manager or call ``close()``; ``finish()`` returns the track of the frames added so far.

    ``capacity``: frames expected, when known; the landmarks then live in one array from the start (a long
    video's track is tens of MB, and never held twice)."""

    def __init__(self, options: LipSyncOptions | None = None, fps: float = 25.0, capacity: int = 0):
        self.options = options or LipSyncOptions()
        self.fps = float(fps)
        self._tracker = FaceTracker(self.options, fps)
        self._landmarks = np.empty((max(capacity, 16), N_LANDMARKS, 2), np.float32)
        self._found = np.zeros(len(self._landmarks), bool)
        self._count = 0
        self._shape = (0, 0)

    @property
    def count(self) -> int:
        """Frames added so far; the next ``add`` is frame number ``count``."""
        return self._count

    def add(self, frame: np.ndarray) -> np.ndarray | None:
        """Track the next frame; its landmarks (478, 2), or None when it has no face."""
        if self._count == 0:
            self._shape = frame.shape[:2]
        if self._count == len(self._landmarks):            # more frames than expected: grow by half
            extra = max(16, len(self._landmarks) // 2)
            self._landmarks = np.concatenate([self._landmarks, np.empty((extra, N_LANDMARKS, 2), np.float32)])
            self._found = np.concatenate([self._found, np.zeros(extra, bool)])
        pts = self._tracker.update(frame)
        i = self._count
        self._found[i] = pts is not None
        self._landmarks[i] = np.nan if pts is None else pts
        self._count += 1
        return self.face(i)

    def face(self, i: int) -> np.ndarray | None:
        return self._landmarks[i] if self._found[i] else None

    def finish(self) -> FaceTrack:
        log.debug("tracked %d frames, %d full-frame detections", self._count, self._tracker.detections)
        n = self._count
        return FaceTrack(self._landmarks[:n], self._found[:n].copy(), self.fps, self._shape[1], self._shape[0])

    def close(self) -> None:
        self._tracker.close()

    def __enter__(self) -> "TrackBuilder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track_frames(frames: Iterable[np.ndarray], options: LipSyncOptions | None = None, *, fps: float = 25.0,
                 total: int | None = None, on_progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> FaceTrack:
    """Track the face through BGR frames (any iterable, consumed once, in order).

    Frames without a face get NaN landmarks and ``found = False``; this never raises for a missing face
    (``track_video`` does, when no frame at all has one). ``total`` (when known) is only for progress.
    ``should_stop()`` is polled before every frame and raises ``Cancelled``.
    """
    with TrackBuilder(options, fps, capacity=total or 0) as builder:
        for i, frame in enumerate(frames):
            if should_stop is not None and should_stop():
                raise Cancelled(f"face tracking stopped at frame {i}")
            builder.add(frame)
            if on_progress is not None and (i + 1) % PROGRESS_EVERY == 0:
                on_progress(Progress("face", i + 1, total or 0))
        n = builder.count
        if on_progress is not None and n % PROGRESS_EVERY:
            on_progress(Progress("face", n, total or n))
        return builder.finish()


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """BLAKE2b digest (hex) of the file's bytes, read in chunks."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def cache_key(path: str | Path, options: LipSyncOptions, fps: float) -> str:
    """Content hash of the file plus every setting that changes the landmarks."""
    settings = {"tracker": TRACKER_VERSION, "face_confidence": options.face_confidence,
                "track_smoothing": options.track_smoothing, "fps": round(float(fps), 6)}
    text = file_digest(path) + json.dumps(settings, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def cache_path(info, options: LipSyncOptions, cache_dir: str | Path) -> Path:
    return Path(cache_dir) / f"{cache_key(info.path, options, info.fps)}.npz"


def cached_track(info, options: LipSyncOptions, cache_dir: str | Path | None, need: int | None = None
                 ) -> FaceTrack | None:
    """The cached track of ``info``'s video when it covers at least its first ``need`` frames (default: all).

    A template used with a short speech track is only tracked as far as that speech reaches, and that
    shorter track serves any later speech that is no longer."""
    if cache_dir is None:
        return None
    path = cache_path(info, options, cache_dir)
    if not path.exists():
        return None
    try:
        track = FaceTrack.load(path)
    except InputError as exc:
        log.warning("ignoring unreadable face track cache: %s", exc)
        return None
    need = info.frame_count if need is None else need
    if not need <= len(track) <= info.frame_count:
        log.info("face track cache %s covers %d frames, %d needed", path.name, len(track), need)
        return None
    track.from_cache = True
    return track


def track_video(info, options: LipSyncOptions | None = None, *, cache_dir: str | Path | None = None,
                on_progress: Callable[[Progress], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> FaceTrack:
    """Track the face through the video described by ``info`` (a ``heygem_core.media.video.VideoInfo``).

    With ``cache_dir``, the track is stored as ``<cache_dir>/<key>.npz`` (see :func:`cache_key`) and a later
    call on the same content with the same settings loads it (``FaceTrack.from_cache`` is then True).
    Raises ``NoFaceError`` when no frame has a face.
    """
    from ..media.video import FrameReader

    options = options or LipSyncOptions()
    track = cached_track(info, options, cache_dir)
    if track is not None:
        return track
    frames = (frame for _, frame in FrameReader(info).frames(range(info.frame_count)))
    track = track_frames(frames, options, fps=info.fps, total=info.frame_count, on_progress=on_progress,
                         should_stop=should_stop)
    if len(track) != info.frame_count:
        # The pipeline asks for every index below frame_count: never hand it a shorter track.
        log.warning("%s: decoded %d frames, expected %d", info.path, len(track), info.frame_count)
        track = _fit_length(track, info.frame_count)
    if not track.found.any():
        raise NoFaceError(info.path, f"no face found in any of {len(track)} frames")
    if cache_dir is not None:
        track.save(cache_path(info, options, cache_dir))
    return track


def _fit_length(track: FaceTrack, n: int) -> FaceTrack:
    """``track`` cut or padded with face-less frames to ``n`` frames."""
    extra = max(0, n - len(track))
    landmarks = np.concatenate([track.landmarks[:n], np.full((extra, N_LANDMARKS, 2), np.nan, np.float32)])
    found = np.concatenate([track.found[:n], np.zeros(extra, bool)])
    return FaceTrack(landmarks, found, track.fps, track.width, track.height)
