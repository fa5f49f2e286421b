"""The tuning notebook in JupyterLab, in Debian's chromium (playwright), as a new user meets it: Run All gives
the widgets and a first preview; ticking "preview on change" and moving a slider gives a new preview a moment
after the slider is let go; a click on the sync curve puts the side-by-side player, the frame and the pictures
at that moment. Lab runs on 127.0.0.1 over a copy of the notebook in a temporary project (Lab saves into the
notebook it runs), and is stopped by the test. Screenshots are left in the test's folder."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import nbformat
import pytest

from heygem_core.resources import notebook
from browser import chromium_path, free_port, launch_chromium

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (make browser)")]


@pytest.fixture(scope="module")
def project(tmp_path_factory, speech_wav):
    """A project folder: a workspace, tiny media, and the tuning notebook set to use them."""
    from heygem_core.demo import face_photo
    from heygem_core.media.audio import load_audio, write_wav

    root = tmp_path_factory.mktemp("tune_lab")
    (root / "workspace").mkdir()
    (root / "media").mkdir()
    write_wav(root / "media" / "talk.wav", load_audio(speech_wav).samples[: int(2.4 * 16000)], 16000)
    cv2.imwrite(str(root / "media" / "face.png"), cv2.resize(face_photo(), (512, 600), interpolation=cv2.INTER_AREA))
    nb = nbformat.read(notebook("tune.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = (cell.source.replace('"builtin:speech"', '"media/talk.wav"', 1)   # project-relative paths
                   .replace('"builtin:clip"', '"media/face.png"', 1).replace("preview_seconds = 1.5", "preview_seconds = 1.0"))
    (root / "notebooks").mkdir()
    nbformat.write(nb, root / "notebooks" / "tune.ipynb")
    return root


@pytest.fixture(scope="module")
def lab(project, tmp_path_factory):
    port, token = free_port(), secrets.token_hex(8)
    private = tmp_path_factory.mktemp("jupyter")
    env = {**os.environ, "HEYGEM_PARAMS_DIR": str(private / "params"), "JUPYTER_RUNTIME_DIR": str(private / "rt"),
           "JUPYTER_CONFIG_DIR": str(private / "config"), "JUPYTERLAB_SETTINGS_DIR": str(private / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(private / "workspaces")}
    log = open(project / "lab.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                             f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
                             f"--ServerApp.root_dir={project}", "--LabApp.news_url=", "--ServerApp.open_browser=False"]
                            + (["--allow-root"] if os.geteuid() == 0 else []),
                            cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            assert proc.poll() is None, (project / "lab.log").read_text()[-3000:]
            time.sleep(0.5)
    yield url, token
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def wait_for(page, predicate: str, timeout_s: float = 180.0):
    try:
        page.wait_for_function(predicate, timeout=timeout_s * 1000, polling=250)
    except sync_api.TimeoutError:
        shot = Path(os.environ.get("TMPDIR", "/tmp")) / "tune_lab_timeout.png"
        page.screenshot(path=str(shot), full_page=True)
        raise AssertionError(f"waited {timeout_s:.0f} s for {predicate}; the page is in {shot}") from None


def test_run_all_then_a_slider_gives_a_debounced_preview(lab, project):
    url, token = lab
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/notebooks/tune.ipynb?token={token}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        wait_for(page, "() => document.querySelector('#jp-main-statusbar')?.innerText.includes('Idle')", 120)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

        # the widgets, and the preview the notebook renders once
        wait_for(page, "() => [...document.querySelectorAll('.widget-html')].some("
                       "e => e.innerText.includes('preview_001.mp4'))")
        assert "Traceback" not in page.inner_text(".jp-Notebook")
        nulls = page.eval_on_selector_all("[title]", "els => els.filter(e => e.title === 'null')"
                                                     ".map(e => (e.parentElement.className + ': ' + e.innerText).slice(0, 80))")
        assert nulls == [], f"tooltips reading 'null': {nulls}"
        for image in page.locator(".jp-Notebook img.widget-image").all()[:4]:
            box = image.bounding_box()
            natural = image.evaluate("e => [e.naturalWidth, e.naturalHeight]")
            if box and natural[0]:                                        # shown at half its pixels: sharp, not stretched
                assert abs(box["width"] * 2 - natural[0]) <= 2 and abs(box["height"] * 2 - natural[1]) <= 2

        # preview on change; move "Mouth opening" one step with the keyboard (a release, as after a drag)
        page.locator(".widget-checkbox", has_text="Preview on change").locator("input").check()
        handle = page.locator(".widget-slider", has_text="Mouth gain").locator(".noUi-handle").first
        handle.focus()
        start = time.monotonic()
        page.keyboard.press("ArrowRight")
        wait_for(page, "() => [...document.querySelectorAll('.widget-html')].some("
                       "e => e.innerText.includes('preview_002.mp4'))", 120)
        seconds = time.monotonic() - start
        no_thanks = page.locator(".Toastify button", has_text="No")
        if no_thanks.count():
            no_thanks.first.click()
        page.locator(".widget-html", has_text="Options").first.evaluate("e => e.scrollIntoView({block: 'start'})")
        shot = project / "tune_lab.png"
        page.screenshot(path=str(shot))
        page.locator(".jp-Notebook .hg-curve").first.scroll_into_view_if_needed()
        page.screenshot(path=str(project / "tune_lab_pictures.png"))
        status = page.locator(".widget-html", has_text="preview_002.mp4").first.inner_text()
        assert re.search(r"frames \d+–\d+ of 60 \(25 frames from \d\.\d\d s\)", status)
        assert "Traceback" not in page.inner_text(".jp-Notebook")

        # one cursor: a click on the sync curve, 70 % across its plot area, pauses the player at that moment
        # and moves the frame (its label and the pictures) there
        player = "document.querySelector('video[class*=hg-tune-]')"
        wait_for(page, f"() => {player}?.readyState >= 2", 60)
        curve = page.locator(".hg-curve").nth(1)
        curve.scroll_into_view_if_needed()
        axis = {k: float(v) for k, v in curve.evaluate("c => ({...c.dataset})").items() if k != "hgTune"}
        box = curve.bounding_box()
        x = axis["left"] + 0.7 * (axis["right"] - axis["left"])
        wanted = axis["t0"] + 0.7 * (axis["t1"] - axis["t0"])
        frame = round(wanted * 25)
        page.mouse.click(box["x"] + x * box["width"], box["y"] + 0.5 * box["height"])
        wait_for(page, f"() => {player}.paused && Math.abs({player}.currentTime - "
                       f"{(frame + 0.25) / 25 - axis['offset']:.4f}) < 0.02", 60)
        wait_for(page, f"() => [...document.querySelectorAll('.widget-html')].some("
                       f"e => e.innerText.trim().startsWith('frame {frame} (template frame'))", 60)
        cursors = page.eval_on_selector_all(".hg-curve .hg-cursor", "cs => cs.map(c => c.style.display)")
        assert cursors == ["block", "block"]                       # the player's time drawn on both curves
        page.locator(".widget-html", has_text="Left: the template").first.evaluate(
            "e => e.scrollIntoView({block: 'start'})")
        page.set_viewport_size({"width": 1400, "height": 1500})
        page.wait_for_timeout(500)
        page.screenshot(path=str(project / "tune_lab_player.png"))
        assert "Traceback" not in page.inner_text(".jp-Notebook")
        browser.close()
    print(f"debounced preview after the slider moved: {seconds:.1f} s; screenshot {shot}")
    if os.environ.get("HEYGEM_SCREENSHOT_TO"):
        shutil.copy(shot, os.environ["HEYGEM_SCREENSHOT_TO"])
