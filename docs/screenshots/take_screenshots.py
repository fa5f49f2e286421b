"""Screenshots of the tabs from the real page (1280×900 and a 390 px phone, chromium), with the built-in media.

    python docs/screenshots/take_screenshots.py [--lang en|zh] [--out docs/screenshots]

Starts `heygem serve` on 127.0.0.1 with a temporary workspace, makes one single result and runs a batch of
three, and saves single.png (a finished result), batch.png (a batch under way), history.png,
batch_results.png (the finished batch on its tab), queue.png, and each tab on a phone: phone_single.png,
phone_batch.png, phone_history.png and phone_queue.png.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parents[1] / "tests"))   # the browser harness lives with the tests

APP = ".hg-app .jupyter-widget-TabPanel-tabBar .lm-TabBar-tab"


def make_media(folder: Path) -> dict[str, Path]:
    from heygem_core.demo import animate_photo, demo_speech_path, face_photo, write_clip

    photo = face_photo()
    warm = cv2.convertScaleAbs(cv2.flip(photo, 1), alpha=1.05, beta=6)
    a = write_clip(folder / "presenter_a.mp4", animate_photo(photo, 50, size=(320, 360)))
    b = write_clip(folder / "presenter_b.mp4", animate_photo(warm, 60, size=(360, 360), zoom=0.06))
    still = folder / "portrait.jpg"
    cv2.imwrite(str(still), cv2.resize(photo, (300, 352)))
    return {"speech": demo_speech_path(), "a": a, "b": b, "still": still}


def take(out: Path, lang: str = "en") -> list[Path]:
    from playwright.sync_api import sync_playwright

    from browser import ServerProcess, launch_chromium

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="heygem-shots-") as tmp:
        media = make_media(Path(tmp))
        with ServerProcess(Path(tmp) / "ws", args=["--lang", lang]) as server, sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.local_url)
            page.wait_for_selector(APP, timeout=60_000)
            shown = lambda sel: page.locator(sel).locator("visible=true")  # noqa: E731

            def upload(selector: str, files: list[Path]) -> None:
                with page.expect_file_chooser() as chooser:
                    shown(selector).click()
                chooser.value.set_files([str(f) for f in files])

            def wait_for(selector: str, pattern: str, timeout: float = 120) -> None:
                deadline = time.monotonic() + timeout
                while not re.search(pattern, shown(selector).first.inner_text()):
                    if time.monotonic() > deadline:
                        page.screenshot(path=str(out / "timeout.png"))
                        raise TimeoutError(f"{selector}: {pattern}: {shown(selector).first.inner_text()!r}")
                    time.sleep(0.1)

            # Single: one result.
            upload(".hg-upload-audio", [media["speech"]])
            upload(".hg-upload-video", [media["a"]])
            wait_for(".hg-upload-box-video .hg-upload-status", r"✓")
            shown(".hg-generate").click()
            shown(".hg-result video").wait_for(timeout=180_000)
            # its first frame loaded: the player's loading spinner is gone
            page.wait_for_function("() => [...document.querySelectorAll('.hg-result video')]"
                                   ".some(v => v.offsetParent !== null && v.readyState >= 2)", timeout=30_000)
            page.wait_for_timeout(800)
            page.evaluate("document.querySelector('.hg-app').scrollIntoView({block: 'start'})")
            page.screenshot(path=str(out / "single.png"))

            # Batch: three presenters, caught half-way.
            page.locator(APP).nth(1).click()
            select = shown(".hg-choice-audio select")
            select.select_option(label=next(t for t in select.locator("option").all_inner_texts()
                                            if t.startswith("demo_speech")))
            upload(".hg-upload-video", [media["a"], media["b"], media["still"]])
            wait_for(".hg-upload-box-video .hg-upload-status", r"portrait\.jpg")
            page.wait_for_function("() => [...document.querySelectorAll('.hg-chosen-row')]"
                                   ".filter(e => e.offsetParent).length === 3")
            page.wait_for_timeout(500)
            shown(".hg-start-batch").click()
            wait_for(".hg-start-batch ~ .hg-action-message, .hg-actions .hg-action-message", r"3")
            wait_for(".hg-progress-line", r"2 / 3.*(synth|合成)", timeout=120)
            page.evaluate("document.querySelector('.hg-app').scrollIntoView({block: 'start'})")
            page.screenshot(path=str(out / "batch.png"))

            # History: everything, two picked for a ZIP.
            wait_for(".hg-progress-line", r"3 / 3|Finished|完成", timeout=300)
            wait_for(".hg-progress-line", r"Finished|完成", timeout=300)
            page.locator(APP).nth(2).click()
            page.wait_for_function("() => document.querySelectorAll('.hg-history-card').length >= 4")
            for i in (0, 1):
                shown(".hg-history-card .hg-select input").nth(i).check()
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / "history.png"))

            # Batch again: its own results, with the ZIP and "again with a new speech track".
            page.locator(APP).nth(1).click()
            shown(".hg-batch-results video").first.wait_for(timeout=30_000)
            shown(".hg-zip-batch").click()
            shown(".hg-zip-batch-link a").wait_for(timeout=60_000)
            page.wait_for_timeout(800)
            page.evaluate("document.querySelector('.hg-app').scrollIntoView({block: 'start'})")
            page.screenshot(path=str(out / "batch_results.png"))

            # Queue: a long job running and two waiting.
            from heygem_core.jobs import Workspace

            store = Workspace(server.root).store
            jobs = [store.submit(media["speech"], [media["a"], media["b"], media["still"]]),
                    store.submit(media["speech"], [media["b"]]), store.submit(media["speech"], [media["a"]])]
            page.locator(APP).nth(3).click()
            page.wait_for_function("() => document.querySelectorAll('.hg-queue-row').length >= 3",
                                   timeout=30_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "queue.png"))

            # A phone: every tab at 390 px (the queue first, while its jobs wait).
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / "phone_queue.png"))
            page.locator(APP).nth(0).click()
            page.wait_for_timeout(1000)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out / "phone_single.png"))
            page.locator(APP).nth(1).click()
            page.wait_for_timeout(1000)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out / "phone_batch.png"))
            page.locator(APP).nth(2).click()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / "phone_history.png"))
            for job in jobs:
                store.cancel(job)
            browser.close()
    return [out / f"{name}.png" for name in ("single", "batch", "history", "batch_results", "queue",
                                             "phone_single", "phone_batch", "phone_history", "phone_queue")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    for path in take(args.out, args.lang):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
