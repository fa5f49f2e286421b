"""Shared pieces of the benchmarks: the plain transcode baseline, PSNR, peak memory of a child process."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from heygem_core.media.audio import load_audio, write_wav  # noqa: F401 - the benches' one WAV writer
from heygem_core.media.encode import VideoWriter
from heygem_core.options import LipSyncOptions
from heygem_core.media.timeline import output_frame_count, template_indices
from heygem_core.media.video import FrameReader, probe_video


def plain_transcode(audio, video, out, options: LipSyncOptions | None = None) -> float:
    """Decode the template in the order the pipeline would and re-encode it with the same encoder settings
    and sound track: the baseline a lip-sync pipeline is compared with. Returns seconds taken."""
    options = options or LipSyncOptions()
    t = time.perf_counter()
    sound = load_audio(audio, sample_rate=None, mono=False)
    info = probe_video(video, image_fps=options.image_fps)
    n_out = output_frame_count(sound.duration, info.fps)
    order = template_indices(n_out, info.frame_count, options.loop_mode)
    with VideoWriter(out, info.width, info.height, info.fps, audio=sound, crf=options.crf,
                     preset=options.preset, audio_bitrate=options.audio_bitrate) as writer:
        for _, frame in FrameReader(info).frames(order):
            writer.write(frame)
    return time.perf_counter() - t


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    err = (a - b) ** 2
    if mask is not None:
        err = err[mask > 0]
    mse = float(err.mean()) if err.size else 0.0
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def peak_rss_mb(code: str, *args: str) -> tuple[float, float]:
    """Run ``python -c code args`` in a fresh process; return (peak resident memory in MB, seconds)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])["rss_mb"], time.perf_counter() - t


# The child's own peak: VmHWM belongs to its address space, made new at exec. (ru_maxrss is not: Linux
# carries the parent's peak over fork and exec, so a child of a large process would report the parent's.)
RSS_SUFFIX = """
import json, re
hwm = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
print(json.dumps({"rss_mb": hwm / 1024}))
"""


def fmt(x, nd=2):
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def table(rows: list[dict], cols: list[str]) -> str:
    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    return "\n".join([line, "-" * len(line)] + ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells])


def clip_name(p) -> str:
    return Path(p).stem[:28]
