"""Cluster benchmark: the same job of N videos (default 8, 10 s of speech each) on one local worker and on
`heygem worker --dask local:2`, side by side.

Prints, for each run: wall time submit → last output, the items' run times, and the CPU the whole process
tree used (children's rusage) as average busy cores — the figure that says how much a second worker process
can add on this machine. For the cluster run also what going through Dask costs per item: claim → start on
a Dask worker, and result ready → recorded in the store, each as a share of the item's run time (target:
under 5 %). And what a batch's speech costs to decode (done once per job per Dask worker thread) next to its
pickled size (what scattering it instead would move through the scheduler).

    PYTHONPATH=. python bench/dask_queue.py [--items 8] [--seconds 10] [--size 320x360] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.jobs_queue import make_media  # noqa: E402
from heygem_core.jobs import Workspace  # noqa: E402
from heygem_core.options import LipSyncOptions  # noqa: E402


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_job(tmp: Path, audio: Path, videos: list[Path], dask: str | None) -> dict:
    """One job through a real `heygem worker` process (with ``--dask`` when given); its figures."""
    ws = Workspace(tmp / ("ws-dask" if dask else "ws-local"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "heygem_core.jobs.worker", "--root-path", str(ws.root), "--idle-exit", "1"]
    cpu0 = _children_cpu()
    t_start = time.time()
    proc = subprocess.Popen(cmd + (["--dask", dask] if dask else []), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if dask:    # measure the queue, not the cluster's start (it happens once per worker process)
        while not (ws.root / "cluster.json").is_file():
            if proc.poll() is not None:
                raise RuntimeError(f"the worker exited with {proc.returncode}; see {ws.root}/logs")
            time.sleep(0.05)
    startup = time.time() - t_start
    job_id = ws.store.submit(audio, videos, LipSyncOptions())
    t_submit = time.time()
    while (job := ws.store.get_job(job_id)).status not in ("done", "failed", "cancelled"):
        time.sleep(0.1)
    wall = max(i.finished for i in job.items) - t_submit
    proc.wait(timeout=120)
    cpu = _children_cpu() - cpu0
    total = time.time() - t_start
    run_s = [i.finished - i.started for i in job.items]
    report = {"mode": f"--dask {dask}" if dask else "local worker", "status": job.status, "errors": job.errors,
              "startup_s": round(startup, 2), "wall_s": round(wall, 2),
              "item_run_s": {"mean": round(statistics.mean(run_s), 2), "min": round(min(run_s), 2),
                             "max": round(max(run_s), 2)},
              "cpu_s": round(cpu, 1), "busy_cores": round(cpu / total, 2), "hosts": sorted({i.host or "-" for i
                                                                                             in job.items})}
    if dask and job.status == "done":
        timings = [i.result["cluster"] for i in job.items]
        start = [t["submit_to_start_s"] for t in timings]
        record = [t["result_to_record_s"] for t in timings]
        runs = [t["run_s"] for t in timings]
        share = [(a + b) / r for a, b, r in zip(start, record, runs)]
        report["overhead"] = {
            "submit_to_start_s": {"median": round(statistics.median(start), 4), "max": round(max(start), 4)},
            "result_to_record_s": {"median": round(statistics.median(record), 4), "max": round(max(record), 4)},
            "task_run_s_mean": round(statistics.mean(runs), 2),
            "share_of_item": {"median": round(statistics.median(share), 4), "max": round(max(share), 4)},
            # items after each worker's first: the first pays the worker process's imports and engine load
            "share_of_item_warm_max": round(max(sorted(share)[:-2] or share), 4)}
    return report


def speech_cost(audio: Path) -> dict:
    from heygem_core.pipeline import prepare_speech

    t = time.perf_counter()
    speech = prepare_speech(audio)
    decode = time.perf_counter() - t
    try:
        size = len(pickle.dumps(speech))
        note = "the Speech object as it pickles"
    except TypeError as exc:     # it memoises its features behind a lock: only the samples could travel
        size = len(pickle.dumps(speech.samples))
        note = f"the samples only (the Speech object does not pickle: {exc})"
    return {"decode_s": round(decode, 3), "scatter_mb": round(size / 1e6, 2), "scatter_what": note}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0, help="speech length per item")
    ap.add_argument("--size", default="320x360", help="face clip WxH")
    ap.add_argument("--workers", type=int, default=2, help="N of --dask local:N")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "dask_queue.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="heygem-dask-bench-") as tmp:
        tmp = Path(tmp)
        audio, videos = make_media(tmp, args.items, args.seconds, tuple(int(v) for v in args.size.split("x")))
        speech = speech_cost(audio)
        local = run_job(tmp, audio, videos, None)
        print(json.dumps(local), flush=True)
        dask = run_job(tmp, audio, videos, f"local:{args.workers}")
    report = {"cores": os.cpu_count(), "items": args.items, "speech_s": args.seconds, "clip": args.size,
              "local": local, "dask": dask, "speech": speech,
              "speedup": round(local["wall_s"] / dask["wall_s"], 2) if dask["wall_s"] else None}
    print(json.dumps(report, indent=2))
    print(f"\n{'':24}{'local worker':>16}{'--dask local:' + str(args.workers):>18}")
    for label, key in (("wall, submit→done (s)", "wall_s"), ("busy cores", "busy_cores"), ("CPU (s)", "cpu_s")):
        print(f"{label:24}{local[key]:>16}{dask[key]:>18}")
    print(f"{'item run, mean (s)':24}{local['item_run_s']['mean']:>16}{dask['item_run_s']['mean']:>18}")
    print(f"speed-up {report['speedup']}x on {report['cores']} cores")
    if "overhead" in dask:
        o = dask["overhead"]
        print(f"through Dask per item: submit→start {o['submit_to_start_s']['median'] * 1000:.0f} ms, "
              f"result→record {o['result_to_record_s']['median'] * 1000:.0f} ms (median) = "
              f"{o['share_of_item']['median'] * 100:.2f} % of an item (max {o['share_of_item']['max'] * 100:.2f} %; "
              f"target < 5 %)")
    print(f"speech of the batch: {speech['decode_s']} s to decode per worker thread, {speech['scatter_mb']} MB "
          f"to scatter ({speech['scatter_what']})")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2))
    ok = local["status"] == dask["status"] == "done" and dask["overhead"]["share_of_item"]["median"] < 0.05
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
