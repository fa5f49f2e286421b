"""Peak memory of `generate` on one second of 8K video, with the frame budget and without it.

The frame queues between the reader, the engine and the encoder hold at most `FRAME_BUDGET_BYTES` of frames
each; before, they held a fixed count (16 + a batch of 8 + 8), which at 8K (100 MB a frame) is gigabytes.
Both runs use the same code, each in a fresh process; "without" lifts the budget so the counts apply.

    PYTHONPATH=. python bench/frame_budget.py [--size 7680x4320] [--seconds 1]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import RSS_SUFFIX, peak_rss_mb, write_wav  # noqa: E402
from heygem_core.demo import demo_speech_path, face_photo  # noqa: E402
from heygem_core.media.audio import load_audio  # noqa: E402
from heygem_core.media.encode import VideoWriter  # noqa: E402

GENERATE = """
import sys
import heygem_core.pipeline as pipeline
from heygem_core.options import LipSyncOptions
if sys.argv[4] == "off":
    pipeline.FRAME_BUDGET_BYTES = 1 << 62
pipeline.generate(sys.argv[1], sys.argv[2], sys.argv[3], LipSyncOptions(preset="ultrafast"))
""" + RSS_SUFFIX


def make_clip(path: Path, size: tuple[int, int], seconds: float, fps: float = 25.0) -> Path:
    """The built-in portrait scaled to ``size``, drifting slowly; written frame by frame (never all held)."""
    w, h = size
    photo = face_photo()
    scale = min(w / photo.shape[1], h / photo.shape[0])
    base = cv2.resize(photo, (int(photo.shape[1] * scale), int(photo.shape[0] * scale)),
                      interpolation=cv2.INTER_CUBIC)
    canvas = np.full((h, w, 3), 60, np.uint8)
    y0, x0 = (h - base.shape[0]) // 2, (w - base.shape[1]) // 2
    canvas[y0:y0 + base.shape[0], x0:x0 + base.shape[1]] = base
    with VideoWriter(path, w, h, fps, crf=23, preset="ultrafast", queue_size=1) as writer:
        for i in range(int(round(seconds * fps))):
            shift = np.float32([[1, 0, 2 * np.sin(i / 5)], [0, 1, 1.5 * np.cos(i / 7)]])
            writer.write(cv2.warpAffine(canvas, shift, (w, h), borderMode=cv2.BORDER_REPLICATE))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="7680x4320")
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = make_clip(tmp / "face8k.mp4", size, args.seconds)
        speech = load_audio(demo_speech_path())
        audio = write_wav(tmp / "speech.wav", speech.samples[: int(args.seconds * speech.sample_rate)],
                          speech.sample_rate)
        runs = {}
        for mode in ("on", "off"):
            runs[mode] = peak_rss_mb(GENERATE, str(audio), str(video), str(tmp / f"out_{mode}.mp4"), mode)
    frame_mb = size[0] * size[1] * 3 / 2**20
    print(f"{size[0]}x{size[1]}, {args.seconds:g} s ({frame_mb:.0f} MB a decoded frame)")
    print(f"{'':22}{'peak RSS MB':>12}{'seconds':>9}")
    for mode, label in (("on", "frame budget"), ("off", "count-bounded (old)")):
        print(f"{label:22}{runs[mode][0]:12.0f}{runs[mode][1]:9.1f}")
    print(f"budget / old peak: {runs['on'][0] / runs['off'][0]:.2f}")


if __name__ == "__main__":
    main()
