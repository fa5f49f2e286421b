"""Synthetic test media in many formats, written with PyAV. Any test may import these helpers.

Content is chosen so a reader's answer can be checked: tones of a known frequency; frames whose flat grey
level encodes their number (`level_frames` / `frame_number`); moving texture for inter-frame coding.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import Interpolation

from heygem_core.media.audio import write_wav  # noqa: F401 - the one WAV writer, used by the tests through here

# Encoder and container for each sound extension.
AUDIO_CODECS = {
    ".wav": ("pcm_s16le", "wav"),
    ".mp3": ("libmp3lame", "mp3"),
    ".m4a": ("aac", "ipod"),
    ".aac": ("aac", "adts"),
    ".flac": ("flac", "flac"),
    ".ogg": ("vorbis", "ogg"),
    ".opus": ("libopus", "ogg"),
}
LEVEL_STEP = 12  # grey levels between consecutive frames in `level_frames`
# swscale's default BGR -> YUV path tints flat greys by a few levels; test media must be exact.
_ACCURATE = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


def encoder_available(name: str) -> bool:
    """Whether this FFmpeg build can encode with ``name``."""
    try:
        av.codec.Codec(name, "w")
    except Exception:  # noqa: BLE001 - unknown codec or decoder only
        return False
    return True


def sine(freq: float, seconds: float, sr: int, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    """A tone, shape ``(channels, n)`` float32; channel ``c`` is scaled by ``1 / (c + 1)`` to tell them apart."""
    t = np.arange(int(round(seconds * sr))) / sr
    tone = amp * np.sin(2 * np.pi * freq * t)
    return np.stack([tone / (c + 1) for c in range(channels)]).astype(np.float32)


def write_audio(path: str | Path, samples: np.ndarray, sr: int, codec: str | None = None,
                container_options: dict | None = None) -> Path:
    """Encode ``samples`` (shape ``(n,)`` or ``(channels, n)``, float in [-1, 1]) into ``path``."""
    path = Path(path)
    samples = np.atleast_2d(np.asarray(samples, np.float32))
    default_codec, fmt = AUDIO_CODECS[path.suffix.lower()]
    codec = codec or default_codec
    layout = channel_layout(samples.shape[0])
    with av.open(str(path), "w", format=fmt, options=container_options) as out:
        # FFmpeg's own Vorbis encoder is marked experimental; it is the one this build has.
        options = {"strict": "experimental"} if codec == "vorbis" else None
        stream = out.add_stream(codec, rate=sr, options=options)
        stream.layout = layout
        _mux_audio(out, stream, samples, sr, layout)
    return path


# FFmpeg's standard layout for each channel count; other counts get an unordered "<n>c" layout.
LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1",
           16: "hexadecagonal"}


def channel_layout(channels: int) -> str:
    return LAYOUTS.get(channels, f"{channels}c")


def _mux_audio(out, stream, samples: np.ndarray, sr: int, layout: str) -> None:
    block = 4096
    for start in range(0, samples.shape[1], block):
        # Interleaved ("flt"), not planar: PyAV 18 miscounts the planes of planar frames with 8+ channels.
        chunk = np.ascontiguousarray(samples[:, start:start + block].T).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = sr, start, Fraction(1, sr)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def level_frames(n: int, width: int = 64, height: int = 48) -> list[np.ndarray]:
    """``n`` flat grey BGR frames; frame ``i`` has level ``16 + LEVEL_STEP * i`` (so ``n <= 19``)."""
    if 16 + LEVEL_STEP * (n - 1) > 240:
        raise ValueError("too many frames to tell apart by grey level")
    return [np.full((height, width, 3), 16 + LEVEL_STEP * i, np.uint8) for i in range(n)]


def frame_number(frame: np.ndarray) -> int:
    """Which `level_frames` frame this decoded frame shows."""
    return int(round((float(frame.mean()) - 16) / LEVEL_STEP))


def textured_frames(n: int, width: int = 64, height: int = 48, seed: int = 0) -> list[np.ndarray]:
    """``n`` BGR frames of smooth random texture sliding right by 2 px per frame, with a white bar on the
    left whose height grows with the frame number; gives encoders real motion to code.

    Brightness varies over ~4 px and colour over ~16 px, as in camera footage, so 4:2:0 chroma subsampling
    keeps the frames nearly intact.
    """
    import cv2

    rng = np.random.default_rng(seed)
    wide = width + 2 * n
    luma = cv2.resize(rng.uniform(40, 215, (height // 4 + 2, wide // 4 + 2)), (wide, height),
                      interpolation=cv2.INTER_CUBIC)
    tint = cv2.resize(rng.uniform(-30, 30, (height // 16 + 2, wide // 16 + 2, 3)), (wide, height),
                      interpolation=cv2.INTER_LINEAR)
    base = np.clip(luma[..., None] + tint, 0, 255).astype(np.uint8)
    frames = []
    for i in range(n):
        f = np.ascontiguousarray(base[:, 2 * i:2 * i + width])
        f[: 1 + (i * (height - 1)) // max(1, n - 1), :4] = 255
        frames.append(f)
    return frames


def write_video(path: str | Path, frames: list[np.ndarray], fps: float = 25.0, *, codec: str = "libx264",
                pix_fmt: str = "yuv420p", fmt: str | None = None, options: dict | None = None,
                times: list[float] | None = None, display_matrix: list[int] | None = None,
                audio: tuple[np.ndarray, int] | None = None) -> Path:
    """Encode BGR ``frames``.

    ``times`` (seconds, one per frame) gives a variable frame rate; ``display_matrix`` is written as the
    stream's 9-integer display matrix (rotation metadata); ``audio`` is ``(samples (channels, n), rate)``.
    """
    path = Path(path)
    h, w = frames[0].shape[:2]
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if options:
            stream.options = dict(options)
        if display_matrix is not None:
            stream.set_display_matrix(display_matrix)
        tb = Fraction(1, 1000) if times is not None else 1 / rate
        stream.codec_context.time_base = tb
        astream = None
        if audio is not None:
            astream = out.add_stream("aac", rate=audio[1])
            astream.layout = "mono" if audio[0].shape[0] == 1 else "stereo"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            frame = frame.reformat(format=pix_fmt, interpolation=_ACCURATE)
            frame.pts = int(round(times[i] * 1000)) if times is not None else i
            frame.time_base = tb
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        if astream is not None:
            _mux_audio(out, astream, np.atleast_2d(audio[0]).astype(np.float32), audio[1], astream.layout.name)
    return path


def write_garbage(path: str | Path, nbytes: int = 4096, seed: int = 0) -> Path:
    """Random bytes under a media file name."""
    path = Path(path)
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, nbytes, dtype=np.uint8).tobytes())
    return path


def write_truncated(src: str | Path, dst: str | Path, fraction: float = 0.5) -> Path:
    """The first ``fraction`` of ``src``'s bytes, as a download cut short would leave them."""
    data = Path(src).read_bytes()
    dst = Path(dst)
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def dominant_frequency(samples: np.ndarray, sr: int) -> float:
    """Frequency (Hz) of the strongest spectral peak of a mono signal, refined between bins."""
    x = samples * np.hanning(len(samples))
    spec = np.abs(np.fft.rfft(x))
    k = int(np.argmax(spec[1:-1])) + 1
    a, b, c = np.log(spec[k - 1:k + 2] + 1e-12)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + offset) * sr / len(samples)
