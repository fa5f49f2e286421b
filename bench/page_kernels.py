"""Memory of the dashboard server after many page loads: page kernels are capped and freed.

Loads the page N times (default 200) as a browser tab that is closed at once would (the page, no websocket),
then reports the kernels alive and the resident memory (RSS) of the server and all its kernels: right after
the loads, and after the grace period in which kernels without a page are shut down. For comparison it
prints what the same loads would hold without the cap (one kernel per load, at the measured mean kernel
size), which is what the server did before.

    PYTHONPATH=. python bench/page_kernels.py [--loads 200] [--max-pages 20] [--page-grace 60]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import ServerProcess  # noqa: E402
from test_page_kernels import kernel_pids, load_page  # noqa: E402


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def snapshot(server_pid: int) -> dict:
    kernels = kernel_pids(server_pid)
    kernel_mb = [rss_mb(k) for k in kernels]
    return {"kernels": len(kernels), "server_mb": rss_mb(server_pid), "kernels_mb": sum(kernel_mb),
            "mean_kernel_mb": sum(kernel_mb) / len(kernel_mb) if kernel_mb else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loads", type=int, default=200)
    ap.add_argument("--max-pages", type=int, default=20)
    ap.add_argument("--page-grace", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(
            Path(tmp) / "ws", args=["--max-pages", str(args.max_pages), "--page-grace", str(args.page_grace)],
            timeout=180) as srv:
        pid = srv.proc.pid
        t0 = time.monotonic()
        codes = [load_page(srv.port)[0] for _ in range(args.loads)]
        loaded = snapshot(pid)
        took = time.monotonic() - t0
        deadline = time.monotonic() + args.page_grace + 90
        while snapshot(pid)["kernels"] > 1 and time.monotonic() < deadline:
            time.sleep(1)
        freed = snapshot(pid)
        freed_after = time.monotonic() - t0 - took
    per_kernel = loaded["mean_kernel_mb"] or freed["mean_kernel_mb"]
    unbounded = loaded["server_mb"] + per_kernel * (args.loads + 1)
    print(f"{args.loads} page loads in {took:.0f} s: {codes.count(200)} pages, {codes.count(503)} 'too many open "
          f"pages' (cap {args.max_pages}, grace {args.page_grace:.0f} s)")
    print(f"{'':28}{'kernels':>8}{'server MB':>11}{'kernels MB':>12}{'total MB':>10}")
    for label, s in (("right after the loads", loaded), (f"{freed_after:.0f} s later", freed)):
        print(f"{label:28}{s['kernels']:8d}{s['server_mb']:11.0f}{s['kernels_mb']:12.0f}"
              f"{s['server_mb'] + s['kernels_mb']:10.0f}")
    print(f"{'without cap (estimated)':28}{args.loads + 1:8d}{loaded['server_mb']:11.0f}"
          f"{per_kernel * (args.loads + 1):12.0f}{unbounded:10.0f}")
    total = loaded["server_mb"] + loaded["kernels_mb"]
    print(f"after the loads / without cap: {total / unbounded:.2f}   (mean kernel {per_kernel:.0f} MB)")


if __name__ == "__main__":
    main()
