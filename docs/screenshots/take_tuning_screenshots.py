"""Screenshots of the tuning notebook in JupyterLab (chromium, 1400 px wide), with the built-in clip and a
sentence spoken by espeak-ng, whose words go in the script box.

    python docs/screenshots/take_tuning_screenshots.py [--out docs/screenshots]

Starts JupyterLab on 127.0.0.1 over a temporary project, runs the notebook, clicks the sync curve, then sends
the settings to a batch with two templates, and saves tuning_player.png (the side-by-side player, the
stills and the curves with their shared cursor) and tuning_batch.png (the media with the script box above,
Send to batch with its message below). Needs espeak-ng and chromium.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parents[1] / "tests"))   # the browser harness lives with the tests

WORDS = "Bob, my mom made a map. Pam bought a big bump of bubble gum."


def make_project(root: Path) -> None:
    import cv2
    import nbformat

    from heygem_core.demo import animate_photo, face_photo, write_clip
    from heygem_core.resources import notebook

    for sub in ("workspace", "media", "notebooks"):
        (root / sub).mkdir(parents=True)
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(root / "media" / "talk.wav"), WORDS],
                   check=True)
    photo = face_photo()
    write_clip(root / "media" / "presenter_a.mp4", animate_photo(photo, 90, size=(480, 540)))
    warm = cv2.convertScaleAbs(cv2.flip(photo, 1), alpha=1.05, beta=6)
    write_clip(root / "media" / "presenter_b.mp4", animate_photo(warm, 90, size=(480, 540), zoom=0.06))
    nb = nbformat.read(notebook("tune.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = (cell.source.replace('"builtin:speech"', '"media/talk.wav"', 1)
                   .replace('"builtin:clip"', '"media/presenter_a.mp4"', 1)
                   .replace("preview_seconds = 1.5", "preview_seconds = 1.6")
                   .replace("script = None", f"script = {WORDS!r}"))
    nbformat.write(nb, root / "notebooks" / "tune.ipynb")


def take(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from browser import free_port, launch_chromium

    tmp = Path(tempfile.mkdtemp(prefix="heygem-tune-shots-"))
    root = tmp / "project"
    make_project(root)
    quiet = tmp / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    quiet.parent.mkdir(parents=True)
    quiet.write_text('{"fetchNews": "false", "checkForUpdates": false}')    # no question about news
    port, token = free_port(), secrets.token_hex(8)
    env = {**os.environ, "HEYGEM_PARAMS_DIR": str(tmp / "params"), "JUPYTER_RUNTIME_DIR": str(tmp / "rt"),
           "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"), "HEYGEM_WORKSPACE": str(root / "workspace")}
    lab = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                            f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
                            f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--ServerApp.open_browser=False"]
                           + (["--allow-root"] if os.geteuid() == 0 else []),
                           cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    saved = []

    def wait_for(page, predicate: str, timeout_s: float = 300.0):
        try:
            page.wait_for_function(predicate, timeout=timeout_s * 1000, polling=250)
        except Exception:
            page.screenshot(path=str(out / "tuning_failed.png"))
            raise SystemExit(f"waited {timeout_s:.0f} s for {predicate}; the page is in {out / 'tuning_failed.png'}")

    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(f"{url}/lab/tree/notebooks/tune.ipynb?token={token}", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            wait_for(page, "() => document.querySelector('#jp-main-statusbar')?.innerText.includes('Idle')")
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            wait_for(page, "() => [...document.querySelectorAll('.widget-html')].some("
                           "e => e.innerText.includes('preview_001.mp4'))")
            wait_for(page, "() => document.querySelector('video[class*=hg-tune-]')?.readyState >= 2")

            curve = page.locator(".hg-curve").nth(1)                 # the sync curve, clicked 60 % across
            curve.scroll_into_view_if_needed()
            axis = curve.evaluate("c => ({...c.dataset})")
            box = curve.bounding_box()
            x = float(axis["left"]) + 0.6 * (float(axis["right"]) - float(axis["left"]))
            page.mouse.click(box["x"] + x * box["width"], box["y"] + 0.5 * box["height"])
            wait_for(page, "() => document.querySelector('video[class*=hg-tune-]').paused")
            page.wait_for_timeout(2500)                              # the pictures redrawn at that frame
            page.locator(".widget-html", has_text="Left: the template").first.evaluate(
                "e => e.scrollIntoView({block: 'start'})")
            page.mouse.wheel(0, -40)
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / "tuning_player.png"))
            saved.append(out / "tuning_player.png")

            add = page.locator(".widget-text", has_text="Add videos").locator("input")
            add.fill("media/presenter_b.mp4")
            add.press("Enter")
            wait_for(page, "() => document.body.innerText.includes('Added and ticked')", 60)
            name = page.locator(".widget-text", has_text="As set").locator("input")
            name.fill("lecture")
            name.press("Tab")
            page.locator("button", has_text="Send to batch").click()
            wait_for(page, "() => document.body.innerText.includes('Queued as job')", 60)
            top = region(page, page.locator(".widget-html", has_text="Media").first, page.locator(".hg-script").first)
            bottom = region(page, page.locator(".widget-html", has_text="Send to batch").first,
                            page.locator(".widget-html", has_text="Queued as job").last)
            browser.close()
        stack(top, bottom, out / "tuning_batch.png")
        saved.append(out / "tuning_batch.png")
    finally:
        lab.terminate()
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()
        from heygem_core.jobs.lock import worker_pid

        pid = worker_pid(root / "workspace")      # the worker Send to batch started
        if pid:
            os.kill(pid, 15)
        shutil.rmtree(tmp, ignore_errors=True)
    return saved


def region(page, first, last, margin: int = 12) -> bytes:
    """A screenshot of the page from ``first``'s top to ``last``'s bottom, the notebook's width."""
    first.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    a, b = first.bounding_box(), last.bounding_box()
    cells = page.locator(".jp-Notebook").bounding_box()
    return page.screenshot(clip={"x": cells["x"], "y": a["y"] - margin, "width": cells["width"],
                                 "height": b["y"] + b["height"] - a["y"] + 2 * margin})


def stack(top: bytes, bottom: bytes, path: Path) -> None:
    """``top`` above ``bottom``, a thin grey line between."""
    import cv2
    import numpy as np

    a = cv2.imdecode(np.frombuffer(top, np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(bottom, np.uint8), cv2.IMREAD_COLOR)
    width = max(a.shape[1], b.shape[1])
    pad = lambda im: cv2.copyMakeBorder(im, 0, 0, 0, width - im.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255))
    cv2.imwrite(str(path), np.vstack([pad(a), np.full((3, width, 3), 200, np.uint8), pad(b)]))


def shrink(path: Path) -> None:
    """Keep the PNG small in the repository: 256 colours."""
    from PIL import Image

    Image.open(path).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    for path in take(args.out):
        shrink(path)
        print(path)


if __name__ == "__main__":
    main()
