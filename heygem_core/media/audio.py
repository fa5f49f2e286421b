"""Decode the sound of any audio or video file into a float32 array.

    audio = load_audio("speech.m4a")                       # 16 kHz mono, for speech features
    native = load_audio("speech.m4a", sample_rate=None, mono=False)   # for the output's sound track

Every common format goes through PyAV (FFmpeg): WAV, MP3, M4A/AAC, FLAC, OGG/Opus, and the sound of video
containers. Lossy codecs pad their last block; the padding is cut so the array is as long as the stream says.
"""
from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path

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
        samples = _decode(p, container, stream, rate)
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
        samples = samples.mean(axis=0) if samples.shape[0] > 1 else samples[0]
    log.debug("decoded %s: %d samples at %d Hz (native %s Hz)", p, samples.shape[-1], rate, native)
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), rate, p)


def _decode(p: Path, container, stream, rate: int) -> np.ndarray:
    """All samples of ``stream`` at ``rate``, shape ``(channels, n)`` float32.

    Packets the decoder rejects are skipped with a warning (FFmpeg's players do the same); a file that
    yields nothing at all is an error.
    """
    resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=rate)
    chunks: list[np.ndarray] = []
    bad = [0]
    try:
        for frame in decoded_frames(container, stream, bad):
            chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
    except av.error.FFmpegError as exc:
        if not chunks:
            raise InputError(p, f"cannot decode the audio ({exc.strerror or exc})") from None
        log.warning("%s: the audio stops early, keeping what decoded (%s)", p, exc)
    except ValueError as exc:  # a frame whose layout or format changes mid-stream
        raise InputError(p, f"cannot decode the audio ({exc})") from None
    chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    if bad[0]:
        log.warning("%s: skipped %d damaged audio packet(s)", p, bad[0])
    if not chunks:
        return np.zeros((max(1, stream.channels or 1), 0), np.float32)
    return np.concatenate(chunks, axis=1).astype(np.float32, copy=False)


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
