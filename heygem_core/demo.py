"""Built-in media: a real face photo shipped inside matplotlib (Grace Hopper, public domain) made into a
short clip with gentle camera motion, and a short speech clip shipped with the package."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import av
import cv2
import numpy as np


def demo_speech_path() -> Path:
    """A 7-second English speech clip (16 kHz mono WAV) with a short pause at each end."""
    return Path(str(resources.files("heygem_core") / "assets" / "demo_speech.wav"))


def face_photo() -> np.ndarray:
    """Grace Hopper's portrait (600×512, BGR uint8), from matplotlib's bundled sample data."""
    import matplotlib.cbook as cbook

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:  # pragma: no cover - matplotlib always ships it
        raise RuntimeError(f"cannot read {path}")
    return image


def animate_photo(image: np.ndarray, n_frames: int, *, size: tuple[int, int] = (480, 540),
                  zoom: float = 0.04, drift: float = 0.025) -> list[np.ndarray]:
    """Frames of a slow push-in with a little sway, as a hand-held camera would give.

    size is (width, height) of the output; ``zoom`` and ``drift`` are fractions of the frame.
    """
    w, h = size
    ih, iw = image.shape[:2]
    base = max(w / iw, h / ih) * 1.08  # cover the frame with a margin for the motion
    frames = []
    for i in range(n_frames):
        t = i / max(1, n_frames - 1)
        s = base * (1.0 + zoom * t)
        dx = drift * w * np.sin(2 * np.pi * 0.35 * i / 25.0)
        dy = drift * 0.5 * h * np.sin(2 * np.pi * 0.22 * i / 25.0 + 1.0)
        m = np.array([[s, 0, w / 2 - s * iw / 2 + dx], [0, s, h / 2 - s * ih / 2 + dy]], np.float32)
        frames.append(cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return frames


def write_clip(path: str | Path, frames: list[np.ndarray], fps: float = 25.0, *, codec: str = "libx264",
               pix_fmt: str = "yuv420p", options: dict | None = None) -> Path:
    """Encode BGR frames into a video file (no audio) with PyAV. Used for built-in and test media."""
    path = Path(path)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=_rate(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if options:
            stream.options = options
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def demo_face_clip(path: str | Path, *, seconds: float = 3.0, fps: float = 25.0,
                   size: tuple[int, int] = (480, 540)) -> Path:
    """Write the built-in face clip (Grace Hopper with gentle motion) to ``path`` as H.264 MP4."""
    frames = animate_photo(face_photo(), int(round(seconds * fps)), size=size)
    return write_clip(path, frames, fps, options={"crf": "18", "preset": "veryfast"})


def _rate(fps: float):
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)
