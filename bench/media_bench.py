"""Speed and memory of the media layer on real clips.

    python bench/media_bench.py decode CLIP...        # frames/s reading forward (BGR out)
    python bench/media_bench.py backward CLIP [MB]    # reading last -> first frame: time and peak memory
    python bench/media_bench.py encode [N] [W] [H]    # VideoWriter: N frames, threaded vs inline

Each measurement of peak memory needs its own process: run one `backward` per call.
"""
from __future__ import annotations

import resource
import sys
import time

import cv2
import numpy as np

from heygem_core.media.encode import VideoWriter
from heygem_core.media.video import FrameReader, probe_video


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def decode(paths: list[str]) -> None:
    for path in paths:
        info = probe_video(path)
        with FrameReader(info) as reader:
            t = time.perf_counter()
            for _ in reader.frames(range(info.frame_count)):
                pass
            dt = time.perf_counter() - t
        print(f"{path}: {info.width}x{info.height} {info.codec} {info.frame_count} frames, "
              f"{info.frame_count / dt:.0f} frames/s forward")


def backward(path: str, budget_mb: float = 256) -> None:
    info = probe_video(path)
    base = peak_rss_mb()
    with FrameReader(info, memory_budget=int(budget_mb * 2**20)) as reader:
        t = time.perf_counter()
        for _ in reader.frames(range(info.frame_count - 1, -1, -1)):
            pass
        dt = time.perf_counter() - t
        stats = reader.stats
    print(f"{path}: backward {info.frame_count} frames in {dt:.1f} s ({info.frame_count / dt:.0f} frames/s); "
          f"budget {budget_mb:.0f} MB = {stats.block_frames} frames; {stats}; "
          f"peak RSS {peak_rss_mb():.0f} MB (before reading {base:.0f} MB); whole clip decoded would be "
          f"{info.frame_count * info.width * info.height * 3 / 2**20:.0f} MB as BGR")


def encode(n: int = 250, width: int = 1280, height: int = 720, repeats: int = 2) -> None:
    """Encode time alone, then alongside per-frame work of the caller's kind (OpenCV filtering, which
    releases the GIL like the pipeline's compositing and face tracking). Inline and threaded runs
    alternate and the best of ``repeats`` is kept, to damp the noise of a shared machine."""
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 256, (height // 8, width // 8 + n, 3), dtype=np.uint8),
                      (width + 8 * n, height), interpolation=cv2.INTER_CUBIC)
    frames = [np.ascontiguousarray(base[:, 8 * i:8 * i + width]) for i in range(n)]

    def work(frame):
        return cv2.GaussianBlur(frame, (31, 31), 0)

    t = time.perf_counter()
    for frame in frames[:50]:
        work(frame)
    work_ms = (time.perf_counter() - t) / 50 * 1000
    for busy in (False, True):
        best = {}
        for _ in range(repeats):
            for threaded in (False, True):
                t = time.perf_counter()
                with VideoWriter("/tmp/media_bench.mp4", width, height, 25, threaded=threaded) as w:
                    for frame in frames:
                        w.write(work(frame) if busy else frame)
                dt = time.perf_counter() - t
                best[threaded] = min(dt, best.get(threaded, dt))
        label = f"with {work_ms:.0f} ms/frame of caller work" if busy else "encode only"
        print(f"{n} frames {width}x{height} veryfast, {label}: inline {best[False]:.2f} s, "
              f"threaded {best[True]:.2f} s")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "decode":
        decode(args)
    elif cmd == "backward":
        backward(args[0], *(float(a) for a in args[1:]))
    elif cmd == "encode":
        encode(*(int(a) for a in args))
    else:
        sys.exit(__doc__)
