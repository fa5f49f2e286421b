"""Queue benchmark: one job of N items (default 20) through a real worker process.

Measures what the queue adds, not how fast the pipeline is:
  * the worker's peak memory (VmHWM, the worker plus the child process it runs items in) after the first
    item and at the end: a leak grows it item by item;
  * queue overhead per item: submit → start for the first item, previous item's end → next start for the
    others, as a share of the item's run time;
  * how often progress reaches the store (updates per second a page can show).

    PYTHONPATH=. python bench/jobs_queue.py [--items 20] [--seconds 3] [--size 320x360] [--json out.json]

Each item gets its own face clip (the same photo, different camera motion), so no face track is reused.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from heygem_core.demo import animate_photo, demo_speech_path, face_photo, write_clip  # noqa: E402
from heygem_core.jobs import Workspace, worker_pid  # noqa: E402
from heygem_core.options import LipSyncOptions  # noqa: E402


def make_media(folder: Path, n: int, seconds: float, size: tuple[int, int]) -> tuple[Path, list[Path]]:
    audio = folder / "speech.wav"
    with wave.open(str(demo_speech_path())) as src:
        params = src.getparams()
        src.setpos(int(0.5 * params.framerate))
        frames = src.readframes(int(seconds * params.framerate))
    with wave.open(str(audio), "wb") as dst:
        dst.setparams(params)
        dst.writeframes(frames)
    photo = face_photo()
    videos = []
    for i in range(n):
        clip = animate_photo(photo, 50, size=size, zoom=0.02 + 0.002 * i, drift=0.01 + 0.001 * i)
        videos.append(write_clip(folder / f"presenter_{i + 1:02d}.mp4", clip, 25.0))
    return audio, videos


def vm_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def tree_kb(pid: int, key: str) -> int:
    """``key`` summed over the worker and the item process it runs each item in (its child)."""
    try:
        kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        kids = []
    total = vm_kb(pid, key)
    for kid in kids:
        try:
            total += vm_kb(kid, key)
        except (OSError, KeyError):
            pass
    return total


def measure(items: int = 20, seconds: float = 3.0, size: tuple[int, int] = (320, 360)) -> dict:
    """Run one job of ``items`` videos through a real worker process and return the measurements."""
    with tempfile.TemporaryDirectory(prefix="heygem-bench-") as tmp:
        tmp = Path(tmp)
        audio, videos = make_media(tmp, items, seconds, size)
        ws = Workspace(tmp / "ws")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        proc = subprocess.Popen([sys.executable, "-m", "heygem_core.jobs.worker", "--root-path", str(ws.root),
                                 "--idle-exit", "5"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while worker_pid(ws.root) != proc.pid:          # measure the queue, not the process start
            time.sleep(0.05)
        time.sleep(1.0)                                  # let the idle worker settle
        rss_idle = tree_kb(proc.pid, "VmRSS")

        job_id = ws.store.submit(audio, videos, LipSyncOptions())
        t_submit = time.time()
        peak_first = None
        peaks: list[int] = []
        rss: list[int] = []
        updates: dict[str, list[float]] = {}
        last_seen: dict[str, tuple] = {}
        while True:
            job = ws.store.get_job(job_id)
            cur = job.current_item
            if cur is not None:                           # what a page polling at 20 Hz would see change
                state = (cur.stage, cur.done, cur.percent)
                if last_seen.get(cur.id) != state:
                    last_seen[cur.id] = state
                    updates.setdefault(cur.id, []).append(time.monotonic())
            n_finished = sum(i.is_finished for i in job.items)
            while len(peaks) < n_finished:             # the worker's peak as each item finishes
                peaks.append(tree_kb(proc.pid, "VmHWM"))
                rss.append(tree_kb(proc.pid, "VmRSS"))
            if peak_first is None and peaks:
                peak_first = peaks[0]
            if job.status in ("done", "failed", "cancelled"):
                break
            time.sleep(0.05)
        peak_end = tree_kb(proc.pid, "VmHWM")
        proc.wait(timeout=60)

    done_items = job.items
    run_s = [i.finished - i.started for i in done_items]
    gaps = [done_items[0].started - t_submit] + [b.started - a.finished for a, b in zip(done_items, done_items[1:])]
    ratios = [g / r for g, r in zip(gaps, run_s)]
    rates = []
    for item in done_items:
        stamps = updates.get(item.id, [])
        if len(stamps) > 2:
            rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
    report = {
        "items": len(done_items), "status": job.status, "errors": job.errors,
        "speech_s": seconds, "clip_size": f"{size[0]}x{size[1]}",
        "item_run_s": {"mean": statistics.mean(run_s), "min": min(run_s), "max": max(run_s)},
        "generate_s_mean": statistics.mean(i.result["seconds"] for i in done_items if i.result),
        "queue_gap_s": {"first_submit_to_start": gaps[0], "between_items_mean": statistics.mean(gaps[1:]),
                        "between_items_max": max(gaps[1:])},
        "queue_overhead_ratio": {"mean": statistics.mean(ratios), "max": max(ratios)},
        "progress_updates_per_s_mean": statistics.mean(rates) if rates else None,
        "worker_rss_idle_mb": rss_idle / 1024,
        "worker_peak_after_first_mb": peak_first / 1024, "worker_peak_end_mb": peak_end / 1024,
        "peak_growth": peak_end / peak_first - 1.0,
        # after a few items the peak stops moving: a leak would keep climbing to the end
        "peak_growth_after_item_5": peak_end / peaks[min(4, len(peaks) - 1)] - 1.0,
        "worker_peak_per_item_mb": [round(p / 1024) for p in peaks],
        "worker_rss_per_item_mb": [round(p / 1024) for p in rss],
    }
    ok_mem = report["peak_growth"] <= 0.10
    ok_queue = report["queue_overhead_ratio"]["max"] < 0.01
    report["pass"] = {"memory_within_10pct": ok_mem, "queue_overhead_under_1pct": ok_queue}
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=3.0, help="speech length per item")
    ap.add_argument("--size", default="320x360", help="face clip WxH")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "jobs_queue.json"))
    args = ap.parse_args()
    report = measure(args.items, args.seconds, tuple(int(v) for v in args.size.split("x")))
    print(json.dumps(report, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2))
    return 0 if report["status"] == "done" and all(report["pass"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
