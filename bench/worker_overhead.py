"""What running each item in a supervised child process costs the queue, next to running it in the worker.

Each mode runs in a fresh interpreter (so both pay the heavy imports once): one job of N tiny items through
`Worker` with the `Inline` executor, then with the default `ChildProcess`. Prints the first item's time
(imports included: the child pays them in its own interpreter), the mean of the others, and the ratios.

    PYTHONPATH=. python bench/worker_overhead.py [--items 6] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def run_mode(mode: str, items: int, folder: Path) -> dict:
    """One queue in this interpreter; item times come from the store (started → finished)."""
    from heygem_core.jobs import Workspace
    from heygem_core.jobs.executors import ChildProcess, Inline
    from heygem_core.jobs.worker import Worker
    from heygem_core.options import LipSyncOptions
    from jobs_media import face_clip, speech_snippet

    speech = speech_snippet(folder / "speech.wav", seconds=1.0)
    faces = [face_clip(folder / f"face{i}.mp4", seconds=1.0) for i in range(items)]
    ws = Workspace(folder / f"ws-{mode}")
    job_id = ws.store.submit(speech, faces, LipSyncOptions(preset="ultrafast"))
    executor = Inline() if mode == "inline" else ChildProcess(log_root=ws.root)
    worker = Worker(ws.root, executor=executor, idle_exit=0)
    worker.run()
    if hasattr(executor, "close"):
        executor.close()
    job = ws.store.get_job(job_id)
    assert job.status == "done", job.errors
    times = [i.finished - i.started for i in job.items]
    gaps = [b.started - a.finished for a, b in zip(job.items, job.items[1:])]
    return {"first_s": times[0], "rest_mean_s": statistics.mean(times[1:]), "gap_mean_s": statistics.mean(gaps)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=6)
    ap.add_argument("--json")
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.items, Path(args.folder))))
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("inline", "child"):
            out = subprocess.run([sys.executable, __file__, "--mode", mode, "--items", str(args.items),
                                  "--folder", tmp], check=True, capture_output=True, text=True)
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    a, b = results["inline"], results["child"]
    print(f"{'':24}{'inline':>10}{'child':>10}{'child/inline':>14}")
    for key, label in (("first_s", "first item (s)"), ("rest_mean_s", "later items, mean (s)"),
                       ("gap_mean_s", "gap between items (s)")):
        ratio = b[key] / a[key] if a[key] > 0 else float("nan")
        print(f"{label:24}{a[key]:10.3f}{b[key]:10.3f}{ratio:14.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
