"""Time face tracking on real clips and report how often a face is found and how far the mouth opens.

    python benchmarks/track_clips.py VIDEO [VIDEO ...] [--frames 100] [--smoothing 0.5] [--png-dir DIR]

With ``--png-dir``, saves for each clip the frame with the widest mouth opening, with the inner and outer lip
contours drawn, cropped around the mouth and enlarged, for checking the lip gap by eye.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from heygem_core.face import landmarks as L
from heygem_core.options import LipSyncOptions
from heygem_core.face.track import track_frames
from heygem_core.media.video import FrameReader, probe_video


def read_frames(path: Path, limit: int) -> tuple[list[np.ndarray], float]:
    info = probe_video(path)
    indices = range(min(limit, info.frame_count))
    return [frame for _, frame in FrameReader(info).frames(indices)], info.fps


def mouth_picture(frame: np.ndarray, lm: np.ndarray, zoom: int = 4) -> np.ndarray:
    x0, y0, x1, y1 = L.face_box(lm[list(L.OUTER_LIPS)])
    m = int(0.5 * (x1 - x0))
    x0, y0 = max(int(x0) - m, 0), max(int(y0) - m, 0)
    x1, y1 = int(x1) + m, int(y1) + m
    crop = cv2.resize(frame[y0:y1, x0:x1], None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)
    for idx, colour in ((L.OUTER_LIPS, (0, 0, 255)), (L.INNER_LIPS, (0, 255, 0))):
        pts = ((lm[list(idx)] - [x0, y0]) * zoom).astype(np.int32)
        cv2.polylines(crop, [pts], True, colour, 1, cv2.LINE_AA)
    return crop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="+", type=Path)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--smoothing", type=float, default=0.5)
    ap.add_argument("--png-dir", type=Path)
    args = ap.parse_args()
    options = LipSyncOptions(track_smoothing=args.smoothing)
    for path in args.videos:
        frames, fps = read_frames(path, args.frames)
        track_frames(frames[:2], options, fps=fps)  # warm-up: graph construction is not per frame
        t, cpu = time.perf_counter(), time.process_time()
        track = track_frames(frames, options, fps=fps)
        ms = 1000 * (time.perf_counter() - t) / len(frames)
        cpu_ms = 1000 * (time.process_time() - cpu) / len(frames)  # all threads; steadier on a busy machine
        opening = L.mouth_opening(track.landmarks)
        h, w = frames[0].shape[:2]
        print(f"{path.name}: {w}x{h}, {len(frames)} frames, {ms:.1f} ms/frame ({cpu_ms:.1f} ms CPU), "
              f"face_ratio {track.face_ratio:.3f}, "
              f"mouth opening median {np.nanmedian(opening):.3f} max {np.nanmax(opening):.3f}, "
              f"mouth width median {np.nanmedian(L.mouth_width(track.landmarks)):.1f} px")
        if args.png_dir:
            i = int(np.nanargmax(opening))
            args.png_dir.mkdir(parents=True, exist_ok=True)
            out = args.png_dir / f"{path.stem}_open_{i}.png"
            cv2.imwrite(str(out), mouth_picture(frames[i], track.landmarks[i]))
            print(f"  widest opening at frame {i} ({opening[i]:.3f}) -> {out}")


if __name__ == "__main__":
    main()
