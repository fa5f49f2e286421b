"""Decode the sound of any audio or video file into a float32 array.

    audio = load_audio("speech.m4a")                       # 16 kHz mono, for speech features
    native = load_audio("speech.m4a", sample_rate=None, mono=False)   # all of it, at its own rate
    sound = AudioStream("speech.m4a")       # the output's sound track, decoded piece by piece as it is encoded

Every common format goes through PyAV (FFmpeg): WAV, MP3, M4A/AAC, FLAC, OGG/Opus, and the sound of video
containers. Lossy codecs pad their last block; the padding is cut so the array is as long as the stream says.
"""
from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from ..errors import InputError
from .files import SOUND_EXTS, VIDEO_EXTS, check_file, decoded_frames, open_container

log = logging.getLogger(__name__)

#: Extensions `load_audio` accepts: sound files and the video containers whose sound it can take.
AUDIO_EXTS = SOUND_EXTS + VIDEO_EXTS

# Decoded length beyond the declared duration that is treated as codec padding and cut. Larger excesses
# mean the declared duration is an estimate (e.g. an MP3 without a header), so nothing is cut.
_MAX_PADDING_S = 0.1
# Containers whose stated length is exact (not estimated from the bit rate): decoding much less than it
# means the file was cut short.
_EXACT_LENGTH_FORMATS = ("wav", "flac", "mov,mp4,m4a,3gp,3g2,mj2", "aiff", "w64", "caf")


@dataclass(frozen=True, eq=False)
class Audio:
    """Decoded sound.

    Attributes
    ----------
    samples : np.ndarray [shape=(n,) when mono, else (channels, n), dtype=float32]
        Samples in [-1, 1].
    sample_rate : int
        Samples per second.
    path : Path or None
        The file it came from, if any.
    """

    samples: np.ndarray
    sample_rate: int
    path: Path | None = None

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim not in (1, 2):
            raise ValueError(f"samples must have shape (n,) or (channels, n), got {samples.shape}")
        if not (isinstance(self.sample_rate, (int, np.integer)) and self.sample_rate > 0):
            raise ValueError(f"sample_rate must be a positive integer, got {self.sample_rate!r}")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[-1] / self.sample_rate

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else self.samples.shape[0]

    def __repr__(self) -> str:
        return (f"Audio({self.duration:.3f} s, {self.sample_rate} Hz, {self.channels} ch, "
                f"path={str(self.path) if self.path else None!r})")


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = 16_000) -> Path:
    """A 16-bit PCM WAV of float samples in [-1, 1], shape (n,) or (channels, n); zero samples allowed.

    The standard library's writer, so a file of any length (even empty) can be written, which no encoder
    will do; samples are rounded to the nearest step and clipped to the 16-bit range."""
    data = np.atleast_2d(np.asarray(samples, np.float32))
    pcm = (np.clip(data.T, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return Path(path)


def load_audio(path: str | Path, sample_rate: int | None = 16000, mono: bool = True) -> Audio:
    """Decode the first sound stream of ``path``.

    Parameters
    ----------
    path : str or Path
        Any file with an extension in `AUDIO_EXTS`.
    sample_rate : int or None
        Resample to this rate; ``None`` keeps the file's own rate.
    mono : bool
        Average the channels into one (shape ``(n,)``); otherwise keep them (shape ``(channels, n)``).

    Raises
    ------
    InputError
        Missing, empty, unsupported, unreadable or damaged file; no sound stream; no samples.
    """
    if sample_rate is not None and not (isinstance(sample_rate, (int, np.integer)) and sample_rate > 0):
        raise ValueError(f"sample_rate must be a positive integer or None, got {sample_rate!r}")
    p = check_file(path, AUDIO_EXTS, "an audio file (or a video with sound)")
    with open_container(p) as container:
        if not container.streams.audio:
            what = "it holds only video" if container.streams.video else "it holds no streams FFmpeg can use"
            raise InputError(p, f"no audio stream ({what})")
        stream = container.streams.audio[0]
        native = stream.codec_context.sample_rate or stream.sample_rate
        rate = int(sample_rate or native or 0)
        if rate <= 0:
            raise InputError(p, "the audio stream declares no sample rate")
        samples = _decode(p, container, stream, rate, mono, declared=_declared_duration(stream))
        declared = _declared_duration(stream)
        exact = container.format.name in _EXACT_LENGTH_FORMATS

    missing = _wav_missing_bytes(p) if container.format.name == "wav" else 0
    if missing:
        raise InputError(p, f"truncated: {missing} bytes of sound its header announces are missing")
    n = samples.shape[1]
    if n == 0:
        raise InputError(p, "the audio stream is empty (no samples decoded)")
    if declared is not None:
        want = int(round(declared * rate))
        if 0 < want < n <= want + _MAX_PADDING_S * rate:
            samples = samples[:, :want]  # codec padding after the last real sample
        elif n < want - max(0.05 * rate, 0.01 * want):
            if exact:
                raise InputError(p, f"truncated or damaged: holds {n / rate:.2f} s of the {declared:.2f} s "
                                    f"its header states")
            log.warning("%s: decoded %.2f s, the header estimates %.2f s", p, n / rate, declared)
    if mono:
        samples = samples[0]
    log.debug("decoded %s: %d samples at %d Hz (native %s Hz)", p, samples.shape[-1], rate, native)
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), rate, p)


def _decode(p: Path, container, stream, rate: int, mono: bool = False, declared: float | None = None
            ) -> np.ndarray:
    """All samples of ``stream`` at ``rate``, shape ``(channels, n)`` float32 (``(1, n)``, the channels'
    mean, when ``mono``).

    Collected in one buffer sized from the stated duration (grown if the stream runs longer), each piece
    averaged to mono as it arrives: a long speech is never held twice, nor in all its channels when only
    their mean is wanted. Packets the decoder rejects are skipped with a warning (FFmpeg's players do the
    same); a file that yields nothing at all is an error.
    """
    # Packed (interleaved) samples, never planar: PyAV 18 miscounts the planes of a planar frame with 8 or
    # more channels, and reading it then crashes the process. One packed plane holds any channel count.
    resampler = av.AudioResampler(format="flt", layout=stream.layout, rate=rate)
    source = max(1, stream.channels or 1)
    channels = 1 if mono else source
    buf = _Buffer(channels, int(declared * rate) + rate // 10 if declared else rate)
    bad = [0]

    def add(frames) -> None:
        for f in frames:
            a = _channels_first(f, source)
            buf.append(a.mean(axis=0, keepdims=True) if mono and a.shape[0] > 1 else a)

    try:
        for frame in decoded_frames(container, stream, bad):
            add(resampler.resample(frame))
    except av.error.FFmpegError as exc:
        if not buf.n:
            raise InputError(p, f"cannot decode the audio ({exc.strerror or exc})") from None
        log.warning("%s: the audio stops early, keeping what decoded (%s)", p, exc)
    except ValueError as exc:  # a frame whose layout or format changes mid-stream
        raise InputError(p, f"cannot decode the audio ({exc})") from None
    add(resampler.resample(None))
    if bad[0]:
        log.warning("%s: skipped %d damaged audio packet(s)", p, bad[0])
    return buf.data


class _Buffer:
    """A ``(channels, n)`` float32 array appended to in place, grown by half when full."""

    def __init__(self, channels: int, capacity: int):
        self.array = np.empty((channels, max(capacity, 1024)), np.float32)
        self.n = 0

    def append(self, a: np.ndarray) -> None:
        k = a.shape[1]
        if self.n + k > self.array.shape[1]:
            grown = np.empty((self.array.shape[0], max(self.n + k, self.array.shape[1] * 3 // 2)), np.float32)
            grown[:, :self.n] = self.array[:, :self.n]
            self.array = grown
        self.array[:, self.n:self.n + k] = a
        self.n += k

    @property
    def data(self) -> np.ndarray:
        return self.array[:, :self.n]


class AudioStream:
    """The sound of a file, decoded a piece at a time: for the output's sound track, which then never
    sits in memory whole (two hours of 44.1 kHz stereo are 2.5 GB as float32).

    Opening checks the file as `load_audio` does (raising `InputError`); `chunks()` decodes it from the
    start, each time it is called, at the file's own rate (or ``sample_rate``) with its own channels. The
    codec padding past the stated length is cut, as `load_audio` cuts it.
    """

    def __init__(self, path: str | Path, sample_rate: int | None = None):
        p = check_file(path, AUDIO_EXTS, "an audio file (or a video with sound)")
        with open_container(p) as container:
            if not container.streams.audio:
                raise InputError(p, "no audio stream")
            stream = container.streams.audio[0]
            native = stream.codec_context.sample_rate or stream.sample_rate
            self.sample_rate = int(sample_rate or native or 0)
            if self.sample_rate <= 0:
                raise InputError(p, "the audio stream declares no sample rate")
            self.channels = max(1, stream.channels or 1)
            self.declared = _declared_duration(stream)
        self.path = p

    def __repr__(self) -> str:
        return f"AudioStream({self.sample_rate} Hz, {self.channels} ch, path={str(self.path)!r})"

    def chunks(self) -> Iterator[np.ndarray]:
        """Pieces of ``(channels, k)`` float32 samples, in order. Damaged packets are skipped; a stream that
        fails midway ends there, with a warning."""
        want = int(round(self.declared * self.sample_rate)) if self.declared else None
        sent, held = 0, []          # pieces past the stated length: padding, unless far more follows
        with open_container(self.path) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout=stream.layout, rate=self.sample_rate)  # packed
            bad = [0]

            def pieces():
                try:
                    for frame in decoded_frames(container, stream, bad):
                        yield from resampler.resample(frame)
                except av.error.FFmpegError as exc:
                    log.warning("%s: the audio stops early (%s)", self.path, exc)
                yield from resampler.resample(None)

            for frame in pieces():
                a = _channels_first(frame, self.channels)
                if want is None:
                    yield a
                    continue
                if sent < want:
                    head = a[:, :want - sent]
                    sent += head.shape[1]
                    yield head
                    a = a[:, head.shape[1]:]
                if a.shape[1]:
                    held.append(a)
                    if sum(h.shape[1] for h in held) > _MAX_PADDING_S * self.sample_rate:
                        yield from held         # the stated length was an estimate: keep everything
                        held, want = [], None
            if bad[0]:
                log.warning("%s: skipped %d damaged audio packet(s)", self.path, bad[0])


def _channels_first(frame, channels: int) -> np.ndarray:
    """A packed float frame as shape ``(channels, n)``."""
    n_ch = frame.layout.nb_channels or channels
    data = np.frombuffer(frame.planes[0], dtype=np.float32, count=frame.samples * n_ch)
    return data.reshape(frame.samples, n_ch).T.copy()


def _wav_missing_bytes(p: Path) -> int:
    """How many bytes short of its ``data`` chunk's stated size a WAV file is (FFmpeg silently reads what
    is there). 0 when complete or when the header leaves the size open, as streaming writers do."""
    with open(p, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        while len(chunk := f.read(8)) == 8:
            size = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                if size in (0, 0xFFFFFFFF):
                    return 0
                return max(0, size - (p.stat().st_size - f.tell()))
            f.seek(size + (size & 1), 1)
    return 0


def _declared_duration(stream) -> float | None:
    """The stream's own length in seconds, when the container states one."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None
