"""The dashboard's responsiveness in chromium: first paint after the server is up, and the progress update
rate while a job runs.

    python -m bench.dashboard_paint [--audio A --video V] [--json]

First paint = from navigation to the tabs being on screen (the page's widgets rendered), measured on a cold
page (the server's first kernel) and a warm one. The update rate counts the changes the page shows (bar
width or status line) per second while an item is running, watched by a MutationObserver in the page.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

WATCH = """() => {
  window.__hg = [];
  const line = [...document.querySelectorAll('.hg-progress-line')].find(e => e.offsetParent !== null);
  const bar = [...document.querySelectorAll('.hg-bar .progress-bar')].find(e => e.offsetParent !== null);
  const note = () => window.__hg.push([performance.now(), line.textContent, bar.style.width]);
  new MutationObserver(note).observe(line, {subtree: true, childList: true, characterData: true});
  new MutationObserver(note).observe(bar, {attributes: true, attributeFilter: ['style']});
}"""


def _media(folder: Path, audio: str | None, video: str | None) -> tuple[Path, Path]:
    if audio and video:
        return Path(audio), Path(video)
    from heygem_core.demo import demo_face_clip, demo_speech_path

    return demo_speech_path(), demo_face_clip(folder / "face.mp4", seconds=2.0, size=(320, 360))


def measure(audio: str | None = None, video: str | None = None, *, root: str | Path | None = None,
            repeats: int = 3) -> dict:
    """Start `heygem serve` on 127.0.0.1 with a fresh workspace, open the page in chromium, run one job.

    Returns seconds and rates: ``server_ready_s``, ``first_paint_cold_s``, ``first_paint_warm_s`` (median of
    ``repeats`` reloads), ``fcp_warm_ms``, ``interactive_warm_s``, ``job_s``, ``progress_updates_per_s``,
    ``progress_max_gap_s`` (longest wait between two updates while the item ran).
    """
    from playwright.sync_api import sync_playwright

    from heygem_core.jobs import Workspace
    from heygem_core.options import LipSyncOptions
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))   # the browser harness lives with the tests
    from browser import APP_SELECTOR as APP, ServerProcess, launch_chromium, open_app

    with tempfile.TemporaryDirectory(prefix="heygem-paint-") as tmp:
        tmp = Path(tmp)
        root = Path(root) if root else tmp / "ws"
        audio_path, video_path = _media(tmp, audio, video)
        result: dict = {}
        with ServerProcess(root, args=["--lang", "en"]) as server, sync_playwright() as p:
            result["server_ready_s"] = round(server.ready_s, 2)
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            cold = open_app(page, server.local_url)
            warm = []
            for _ in range(repeats):      # a person comes back after a while: the kernel pool has refilled
                time.sleep(3)
                warm.append(open_app(page, server.local_url))
            result["first_paint_cold_s"] = round(cold["tabs_s"], 2)
            result["first_paint_warm_s"] = round(statistics.median(w["tabs_s"] for w in warm), 2)
            result["fcp_warm_ms"] = round(statistics.median(w["fcp_ms"] or 0 for w in warm))
            result["interactive_warm_s"] = round(statistics.median(w["ready_s"] for w in warm), 2)

            page.locator(APP).nth(1).click()
            page.evaluate(WATCH)
            store = Workspace(root).store
            job_id = store.submit(audio_path, [video_path], LipSyncOptions())
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 600:
                job = store.get_job(job_id)
                if job.status in ("done", "failed", "cancelled"):
                    break
                time.sleep(0.2)
            result["job_s"] = round(time.perf_counter() - t0, 1)
            result["job_status"] = job.status
            time.sleep(0.6)
            events = page.evaluate("() => window.__hg")
            browser.close()
        result.update(_rate(events))
        return result


def _rate(events: list) -> dict:
    """Updates per second and the longest gap, over the stretch where the line names a running item."""
    shown, last = [], None
    for t, line, width in events:
        t /= 1000.0
        if (line, width) == last:
            continue
        if shown and t - shown[-1][0] < 0.05:     # the bar and the line of one refresh arrive together
            shown[-1] = (shown[-1][0], line, width)
        else:
            shown.append((t, line, width))
        last = (line, width)
    running = [t for t, line, _ in shown if " left" in line or "estimating" in line]
    if len(running) < 2:
        return {"progress_updates_per_s": None, "progress_max_gap_s": None, "progress_updates": len(shown)}
    span = running[-1] - running[0]
    gaps = [b - a for a, b in zip(running, running[1:])]
    return {"progress_updates_per_s": round((len(running) - 1) / span, 2) if span > 0 else None,
            "progress_max_gap_s": round(max(gaps), 2), "progress_updates": len(running),
            "progress_timeline": [(round(t - shown[0][0], 2), line) for t, line, _ in shown]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--audio", help="speech for the timed job (default: the built-in clip)")
    parser.add_argument("--video", help="face video for the timed job (default: a built-in 2 s clip)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = measure(args.audio, args.video)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            if key != "progress_timeline":
                print(f"{key:26s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
