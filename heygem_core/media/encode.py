"""Write BGR frames and a sound track to an H.264 + AAC MP4 that browsers play.

    with VideoWriter("out.mp4", width, height, fps, audio=AudioStream(src)) as w:
        for frame in frames:
            w.write(frame)

The file is written as ``.out.part.mp4`` next to ``out.mp4`` and renamed on a clean `close()`; an exception
inside the ``with`` block, or `abort()`, removes it, so a finished name always holds a whole video.
The picture is H.264 (libx264, yuv420p, BT.709) with the index at the front (``+faststart``: playback starts
before the download ends). yuv420p needs even sizes: an odd width or height gets one extra column or row
repeating the edge, so no pixel of the frame is lost. The sound is AAC, at the audio's own rate when AAC
supports it (else 48 kHz), cut to the length of the video. An `AudioStream` is decoded as the picture
advances, so a long sound track is never held whole; a decoded `Audio` works too.

Encoding runs on a background thread behind a small queue so that it overlaps the caller's work; frames are
never collected in memory beyond that queue.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .audio import Audio, AudioStream
from .planar import PlanarFrame
from .yuv import SWS_FLAGS

log = logging.getLogger(__name__)

#: Sample rates the AAC encoder takes; others are resampled to 48 kHz.
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                "placebo")
_FINISH, _ABORT = object(), object()
_AUDIO_STEP_S = 0.25  # sound is fed to the encoder in steps of this length, following the picture


def temp_path(path: str | Path) -> Path:
    """Where `VideoWriter` writes until the file is complete: ``dir/.name.part.mp4`` for ``dir/name.mp4``."""
    path = Path(path)
    return path.with_name(f".{path.stem}.part{path.suffix or '.mp4'}")


class VideoWriter:
    """An MP4 being written; see the module docstring.

    Parameters
    ----------
    path : str or Path
        Final file name. Its folder must exist.
    width, height : int
        Size of the frames passed to `write`.
    fps : float
        Frame rate.
    audio : AudioStream or Audio, optional
        Sound track (any rate and channel count); cut to the video's length.
    crf : int
        x264 quality, 0–51 (lower is better and larger).
    preset : str
        x264 speed preset ("ultrafast" … "slow").
    audio_bitrate : int
        AAC bit rate in bits per second.
    threaded : bool
        Encode on a background thread (default) or inside `write`.
    queue_size : int
        Frames that may wait for the background thread; `write` blocks when they are all taken.

    Raises ``ValueError`` for bad settings and ``OSError`` for an unwritable folder at once, before any
    frame is written. Always `close` it (or use ``with``): an unclosed writer leaves its temporary file.
    """

    def __init__(self, path: str | Path, width: int, height: int, fps: float, *, audio: AudioStream | Audio | None = None,
                 crf: int = 20, preset: str = "veryfast", audio_bitrate: int = 160_000,
                 threaded: bool = True, queue_size: int = 8):
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {crf}")
        if preset not in X264_PRESETS:
            raise ValueError(f"unknown x264 preset {preset!r}; choose one of: {', '.join(X264_PRESETS)}")
        self.path = Path(path)
        self.temp = temp_path(self.path)
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.frames_written = 0
        self._closed = False
        self._error: BaseException | None = None
        self._encoder = _Encoder(self.temp, self.width + self.width % 2, self.height + self.height % 2,
                                 self.fps, audio, crf, preset, audio_bitrate)
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=max(1, queue_size))
            self._thread = threading.Thread(target=self._run, name=f"encode {self.path.name}", daemon=True)
            self._thread.start()

    def write(self, frame: np.ndarray | PlanarFrame) -> None:
        """Append one ``(height, width, 3)`` uint8 BGR frame, or a `PlanarFrame` (its planes go to the
        encoder as they are). The frame may be reused once this returns."""
        if self._closed:
            raise RuntimeError(f"{self.path}: writer is closed")
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"expected a ({self.height}, {self.width}, 3) uint8 frame, "
                             f"got {frame.shape} {frame.dtype}")
        if (self.height % 2 or self.width % 2) and not isinstance(frame, PlanarFrame):
            frame = cv2.copyMakeBorder(frame, 0, self.height % 2, 0, self.width % 2, cv2.BORDER_REPLICATE)
        # from_ndarray copies, so the caller may reuse its array while the frame waits in the queue.
        if isinstance(frame, PlanarFrame):
            vf = frame.video_frame()
        else:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        if self.frames_written == 0:
            log.debug("%s: first frame to the encoder at %.6f (%.3f s of CPU)", self.path.name, time.time(),
                      time.process_time())
        if self._queue is None:
            try:
                self._encoder.video(vf)
            except OSError as exc:
                raise _named(exc, self.path) from None
        else:
            self._put(vf)
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and move it to its final name. Returns the final path."""
        if self._closed:
            return self.path
        if self.frames_written == 0:
            self.abort()
            raise ValueError(f"{self.path}: no frames were written")
        try:
            if self._queue is None:
                try:
                    self._encoder.finish()
                except OSError as exc:
                    raise _named(exc, self.path) from None
            else:
                self._put(_FINISH)
                self._thread.join()
                if self._error is not None:
                    raise self._error
        except BaseException:
            self.abort()
            raise
        self._closed = True
        try:
            os.replace(self.temp, self.path)
        except OSError as exc:
            _remove(self.temp)
            raise _named(exc, self.path) from None
        log.info("wrote %s: %d frames, %.2f s", self.path, self.frames_written, self.frames_written / self.fps)
        return self.path

    def abort(self) -> None:
        """Stop writing and delete the partial file; the final name is left untouched."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            try:
                self._put(_ABORT)
            except BaseException:  # noqa: BLE001 - the worker already failed; it has stopped
                pass
            self._thread.join()
        self._encoder.discard()
        log.info("aborted %s after %d frames", self.path, self.frames_written)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- background thread
    def _put(self, item) -> None:
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                if not self._thread.is_alive() and self._error is None:
                    raise RuntimeError(f"{self.path}: the encoder stopped") from None

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _ABORT:
                    return
                if item is _FINISH:
                    self._encoder.finish()
                    return
                self._encoder.video(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller on its next call
            self._error = _named(exc, self.path) if isinstance(exc, OSError) else exc


class _Encoder:
    """The container and its two encoders. Touched by one thread at a time."""

    def __init__(self, temp: Path, width: int, height: int, fps: float, audio: AudioStream | Audio | None,
                 crf: int, preset: str, audio_bitrate: int):
        self.temp = temp
        self.fps = fps
        self.container = av.open(str(temp), mode="w", format="mp4", options={"movflags": "+faststart"})
        try:
            self.video_stream = self._add_video(width, height, fps, crf, preset)
            self.audio_stream = None
            self.sound: _SoundFeed | None = None
            if audio is not None and (isinstance(audio, AudioStream) or audio.samples.shape[-1] > 0):
                self._add_audio(audio, audio_bitrate)
            # Open the encoders and the file now, so a bad setting or an unwritable folder fails here and
            # not frames later on the encode thread.
            self.container.start_encoding()
        except BaseException:
            self.discard()
            raise
        self.n_video = 0
        self.n_sound_sent = 0

    def _add_video(self, width, height, fps, crf, preset):
        stream = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # Tag the picture as BT.709, limited range: the matrix the frames are converted with below.
        stream.codec_context.colorspace = 1
        stream.codec_context.color_primaries = 1
        stream.codec_context.color_trc = 1
        stream.codec_context.color_range = 1
        stream.options = {"crf": str(int(crf)), "preset": str(preset)}
        return stream

    def _add_audio(self, audio: AudioStream | Audio, bitrate: int) -> None:
        self.sound = _SoundFeed(audio)
        rate = audio.sample_rate if audio.sample_rate in AAC_RATES else 48000
        stream = self.container.add_stream("aac", rate=rate)
        stream.layout = "mono" if self.sound.channels == 1 else "stereo"
        stream.bit_rate = int(bitrate)
        self.audio_stream = stream
        self.sound_rate = audio.sample_rate
        self.sound_layout = stream.layout.name

    def video(self, frame: av.VideoFrame) -> None:
        if frame.format.name != "yuv420p":   # a PlanarFrame's planes are already BT.709 limited range
            frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG",
                                   interpolation=SWS_FLAGS)
        frame.pts = self.n_video
        for packet in self.video_stream.encode(frame):
            self.container.mux(packet)
        self.n_video += 1
        if self.audio_stream is not None:
            shown = self.n_video / self.fps
            if shown * self.sound_rate - self.n_sound_sent >= _AUDIO_STEP_S * self.sound_rate:
                self._sound_until(shown)

    def finish(self) -> None:
        for packet in self.video_stream.encode(None):
            self.container.mux(packet)
        if self.audio_stream is not None:
            self._sound_until(self.n_video / self.fps)
            for packet in self.audio_stream.encode(None):
                self.container.mux(packet)
        self.container.close()

    def discard(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away
            pass
        _remove(self.temp)

    def _sound_until(self, seconds: float) -> None:
        """Feed the sound up to ``seconds`` into the picture (never past the end of the audio)."""
        chunk = self.sound.take(int(round(seconds * self.sound_rate)) - self.n_sound_sent)
        if chunk is None:
            return
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.sound_layout)
        frame.sample_rate = self.sound_rate
        frame.pts = self.n_sound_sent
        frame.time_base = Fraction(1, self.sound_rate)
        for packet in self.audio_stream.encode(frame):
            self.container.mux(packet)
        self.n_sound_sent += chunk.shape[1]


class _SoundFeed:
    """The sound track handed out in order, ``take(n)`` samples at a time, from a decoded `Audio` or
    straight from the file (`AudioStream`). More than two channels are folded down to one (AAC in MP4 for
    browsers)."""

    def __init__(self, audio: AudioStream | Audio):
        if isinstance(audio, AudioStream):
            self.channels = audio.channels
            self._pieces = audio.chunks()
        else:
            samples = audio.samples if audio.samples.ndim == 2 else audio.samples[None, :]
            self.channels = samples.shape[0]
            self._pieces = (samples[:, i:i + audio.sample_rate] for i in range(0, samples.shape[1],
                                                                                audio.sample_rate))
        self._fold = self.channels > 2
        if self._fold:
            self.channels = 1
        self._held: list[np.ndarray] = []
        self._n_held = 0

    def take(self, n: int) -> np.ndarray | None:
        """The next ``n`` samples ``(channels, n)`` float32, fewer at the end of the sound; None when none."""
        while self._n_held < n:
            piece = next(self._pieces, None)
            if piece is None:
                break
            if self._fold:
                piece = piece.mean(axis=0, keepdims=True)
            self._held.append(piece)
            self._n_held += piece.shape[1]
        if n <= 0 or not self._n_held:
            return None
        joined = self._held[0] if len(self._held) == 1 else np.concatenate(self._held, axis=1)
        out, rest = joined[:, :n], joined[:, n:]
        self._held = [rest] if rest.shape[1] else []
        self._n_held = rest.shape[1]
        return np.ascontiguousarray(out, dtype=np.float32)



def _named(exc: OSError, path: Path) -> OSError:
    """A disk error (full, read-only, gone) as a plain ``OSError`` naming the output the user asked for, not
    the hidden temporary file that is being removed."""
    if not exc.errno:
        return exc
    return OSError(exc.errno, os.strerror(exc.errno), str(path))


def _remove(path: Path) -> None:
    """Delete a temporary file; a folder that refuses (read-only) is logged, never a second exception."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc)
