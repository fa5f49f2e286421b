"""Parameter sets and the before/after view, in a real browser: a set chosen in the options panel drives the
batch, "save these settings as…" writes one of the user's sets, the choice comes back after a reload, and
a result opens beside its template with one play/pause/seek for both.

Debian's chromium driven by playwright against `heygem serve` on 127.0.0.1 with a temporary workspace and a
temporary folder for the user's sets, the real worker and pipeline on tiny media (face clips of 1.0 and
1.2 s, a 2 s speech: the templates are played back and forth). The tests run in file order and share one
server and page. With ``HEYGEM_SCREENSHOTS=<folder>`` they leave screenshots there (1280 px and 390 px).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dashboard_media import make_media
from browser import (ServerProcess, chromium_path, open_app, pick, tab, visible, wait_saved, wait_text,
                     wait_until)
from heygem_core.jobs import Workspace
from heygem_core.options import LipSyncOptions

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (make browser)")]

SHOTS = os.environ.get("HEYGEM_SCREENSHOTS")


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("sets_media"))


@pytest.fixture(scope="module")
def user_sets(tmp_path_factory):
    return tmp_path_factory.mktemp("sets_user") / "params"


@pytest.fixture(scope="module")
def root(tmp_path_factory, media):
    """A workspace holding the speech and the two presenters from an earlier visit."""
    root = tmp_path_factory.mktemp("sets_ws") / "ws"
    ws = Workspace(root)
    for key in ("talk", "anna", "ben"):
        ws.store_upload(media[key].name, media[key])
    return root


@pytest.fixture(scope="module")
def server(root, user_sets):
    srv = ServerProcess(root, args=["--lang", "en"], env={"HEYGEM_PARAMS_DIR": str(user_sets)})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def store(root: Path):
    return Workspace(root).store


def shot(page, name: str, selector: str | None = None) -> None:
    """A screenshot into $HEYGEM_SCREENSHOTS (of the element ``selector``, or the window)."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    target = visible(page, selector).first if selector else page
    target.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def slider(page, label: str) -> str:
    """The readout of the shown option slider labelled ``label``."""
    row = visible(page, ".hg-options .widget-slider").filter(has_text=label).first
    return row.locator(".widget-readout").inner_text().strip()


def chosen_set(page) -> str:
    """The text of the set menu's choice (the widget writes spaces as no-break spaces)."""
    menu = visible(page, ".hg-set-pick select")
    return menu.evaluate("s => s.selectedOptions[0].text").replace("\xa0", " ") if menu.count() else ""


def open_group(page, title: str) -> None:
    visible(page, ".hg-options .jupyter-widget-Collapse-header").filter(has_text=title).first.click()


def test_the_set_menu_lists_the_sets_and_choosing_one_loads_its_values(server, page):
    open_app(page, server.local_url, timeout_s=60)
    tab(page, 1)
    menu = visible(page, ".hg-set-pick select")
    menu.wait_for(timeout=15_000)
    labels = [t.replace("\xa0", " ") for t in menu.locator("option").all_inner_texts()]
    assert labels == ["— own settings —", "ads (shipped)", "default (shipped)", "news (shipped)"], labels
    open_group(page, "Mouth motion")
    assert slider(page, "Mouth gain") == "1.00"
    pick(page, ".hg-set-pick select", "news")
    news = LipSyncOptions.load("news")
    wait_text(page, ".hg-set-message", r"Loaded the parameter set 'news'")     # every widget is set by then
    wait_until(lambda: slider(page, "Mouth gain") == f"{news.mouth_gain:.2f}"
               and slider(page, "Teeth") == f"{news.teeth:.2f}", 15, "the news set's mouth gain and teeth")
    shot(page, "options_sets", ".hg-card:has(.hg-options)")


def test_save_as_refuses_a_shipped_name_then_saves_and_asks_before_replacing(server, page, user_sets):
    name = visible(page, ".hg-set-name input")
    name.fill("news")
    visible(page, ".hg-set-save").click()
    wait_text(page, ".hg-set-message", r"'news' is a shipped set and cannot be replaced")
    assert not (user_sets / "news.yaml").exists()
    name.fill("weekly")
    visible(page, ".hg-set-save").click()
    wait_text(page, ".hg-set-message", r"Saved as the parameter set 'weekly'")
    assert LipSyncOptions.from_yaml(user_sets / "weekly.yaml") == LipSyncOptions.load("news")
    assert chosen_set(page) == "weekly"
    # a change: the menu says "own settings"; saving under the same name asks first
    readout = visible(page, ".hg-options .widget-slider").filter(has_text="Mouth gain").first.locator(".widget-readout")
    readout.fill("1.5")
    readout.press("Enter")
    wait_until(lambda: chosen_set(page) == "— own settings —", 15,
               "the menu to show own settings")
    visible(page, ".hg-set-save").click()
    wait_text(page, ".hg-set-message", r"A set called 'weekly' exists: click again to replace it")
    assert visible(page, ".hg-set-save").inner_text().strip() == "Replace 'weekly'?"
    assert LipSyncOptions.from_yaml(user_sets / "weekly.yaml").mouth_gain == LipSyncOptions.load("news").mouth_gain
    visible(page, ".hg-set-save").click()
    wait_text(page, ".hg-set-message", r"Saved as the parameter set 'weekly'")
    assert LipSyncOptions.from_yaml(user_sets / "weekly.yaml").mouth_gain == 1.5


def test_the_batch_runs_with_the_chosen_set_and_the_choice_survives_a_reload(server, page, root, user_sets):
    pick(page, ".hg-choice-audio select", "talk.wav")
    visible(page, ".hg-library-all").click()                   # both presenters
    wait_until(lambda: visible(page, ".hg-chosen-row").count() == 2, 15, "two chosen videos")
    visible(page, ".hg-start-batch").click()
    wait_text(page, ".hg-action-message", r"Queued: 2 video")
    job = store(root).list_jobs()[0]
    assert LipSyncOptions.from_dict(job.options) == LipSyncOptions.from_yaml(user_sets / "weekly.yaml")
    wait_saved(page, lambda s: s.get("params") == "weekly" and len(s.get("batch", {}).get("videos", [])) == 2
               and s.get("batch", {}).get("job") == job.id, "the set, the two presenters and the batch")
    page.reload()
    open_app(page, server.local_url, timeout_s=60)
    wait_until(lambda: chosen_set(page) == "weekly", 30, "the chosen set back after the reload")
    wait_until(lambda: store(root).get_job(job.id).status == "done", 180, "the batch to finish")


def test_the_batch_results_open_before_and_after(server, page, root):
    results = visible(page, ".hg-batch-results .hg-compare-open")
    wait_until(lambda: results.count() == 2, 240, "two before/after buttons")    # two videos made on a busy machine
    results.first.click()
    view = page.locator("#hg-compare")
    view.wait_for(timeout=10_000)
    before, after = view.locator("video.hg-compare-before"), view.locator("video.hg-compare-after")
    src = before.get_attribute("src")
    assert "/voila/files/uploads/" in src and "/voila/files/outputs/" in after.get_attribute("src")
    kind = page.evaluate("u => fetch(u).then(r => [r.status, r.headers.get('content-type')])", src)
    assert kind == [200, "video/mp4"], kind
    speech = next(root.glob("uploads/*/talk.wav")).relative_to(root).as_posix()      # the speech is not served
    assert page.evaluate("u => fetch(u).then(r => r.status)", f"/voila/files/{speech}") in (403, 404)
    assert view.locator("figcaption").all_inner_texts() == ["Before: the template", "After: the result"]
    page.keyboard.press("Escape")
    wait_until(lambda: page.locator("#hg-compare").count() == 0, 5, "the view to close")


SAMPLE = """() => { window.__hgPairs = []; const v = document.querySelector('#hg-compare');
  const b = v.querySelector('.hg-compare-before'), a = v.querySelector('.hg-compare-after');
  window.__hgSampler = setInterval(() => window.__hgPairs.push([a.currentTime, b.currentTime, a.paused, b.paused,
    b.duration]), 40); }"""


def test_a_history_card_opens_its_result_beside_the_template_playing_in_step(server, page):
    tab(page, 2)
    page.wait_for_function("() => document.querySelectorAll('.hg-history-card .hg-compare-open').length >= 2",
                           timeout=20_000)
    card = visible(page, ".hg-history-card").filter(has_text="anna__talk.mp4").first
    card.locator(".hg-compare-open").click()
    view = page.locator("#hg-compare")
    view.wait_for(timeout=10_000)
    assert view.locator(".hg-compare-title").inner_text() == "anna__talk.mp4"
    page.wait_for_function("() => { const v = document.querySelector('#hg-compare');"
                           " return [...v.querySelectorAll('video')].every(x => x.readyState >= 2); }", timeout=20_000)
    page.evaluate(SAMPLE)
    view.locator(".hg-compare-play").click()                   # one button plays both
    page.wait_for_function("() => document.querySelector('.hg-compare-after').ended", timeout=30_000)
    pairs = page.evaluate("() => { clearInterval(window.__hgSampler); return window.__hgPairs; }")
    playing = [p for p in pairs if not p[2]]
    length = playing[0][4]                                     # the template's length: 1.0 s of anna
    assert 0.9 < length < 1.1 and max(p[0] for p in playing) > 1.8, (length, pairs[-1])
    ahead = [p for p in playing if 0.2 < p[0] < length - 0.15]
    back = [p for p in playing if length + 0.15 < p[0] < 2 * length - 0.15]
    assert len(ahead) >= 5 and len(back) >= 5, (len(ahead), len(back))
    # (most samples, not all: a busy machine can stall one video for a moment before it is put back in step)
    together = [not p[3] and abs(p[1] - p[0]) < 0.2 for p in ahead]                 # playing together
    mirrored = [abs(p[1] - (2 * length - p[0])) < 0.2 for p in back]                # then back and forth
    assert sum(together) >= 0.8 * len(ahead) and sum(mirrored) >= 0.8 * len(back), (ahead, back)
    # the seek bar moves both; pause holds both
    seek = view.locator(".hg-compare-seek")
    seek.evaluate("s => { s.value = '0.5'; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("() => { const a = document.querySelector('.hg-compare-after'),"
                           " b = document.querySelector('.hg-compare-before');"
                           " return Math.abs(a.currentTime - 0.5) < 0.05 && Math.abs(b.currentTime - 0.5) < 0.05; }",
                           timeout=5_000)
    view.locator(".hg-compare-play").click()
    page.wait_for_function("() => document.querySelector('.hg-compare-after').currentTime > 0.7", timeout=10_000)
    view.locator(".hg-compare-play").click()
    page.wait_for_function("() => [...document.querySelectorAll('#hg-compare video')].every(v => v.paused)",
                           timeout=5_000)
    shot(page, "compare", ".hg-compare-box")
    view.locator(".hg-compare-close").click()
    wait_until(lambda: page.locator("#hg-compare").count() == 0, 5, "the view to close")


def _as_mkv(src: Path, dst: Path) -> Path:
    """The same H.264 picture in a Matroska file: a template the server does not serve to the page."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        copy = out.add_stream_from_template(stream)
        for packet in inp.demux(stream):
            if packet.dts is not None:
                packet.stream = copy
                out.mux(packet)
    return dst


def test_a_template_the_page_cannot_play_shows_as_its_still(server, page, root, media):
    s = store(root)
    carl = Workspace(root).store_upload("carl.mkv", _as_mkv(media["ben"], media["ben"].with_name("carl.mkv")))
    job = s.submit(media["talk"], [carl])
    tab(page, 1)                                               # the upload list makes carl's thumbnail
    wait_until(lambda: s.get_job(job).status == "done", 180, "carl's video to finish")
    tab(page, 2)
    card = visible(page, ".hg-history-card").filter(has_text="carl__talk.mp4")
    wait_until(lambda: card.count() == 1 and card.locator(".hg-compare-open").count() == 1, 30,
               "carl's card with its before/after button")
    card.locator(".hg-compare-open").click()
    view = page.locator("#hg-compare")
    view.wait_for(timeout=10_000)
    assert view.locator(".hg-compare-before").is_hidden()
    still = view.locator(".hg-compare-still")
    assert "/voila/files/thumbnails/upload-" in still.get_attribute("src")
    page.wait_for_function("() => document.querySelector('.hg-compare-still').naturalWidth > 0", timeout=10_000)
    assert view.locator(".hg-compare-note").inner_text() == \
        "This browser cannot play the template's format; a still of it is shown."
    view.locator(".hg-compare-play").click()                   # the result still plays
    page.wait_for_function("() => document.querySelector('.hg-compare-after').currentTime > 0.3", timeout=10_000)
    page.keyboard.press("Escape")
    wait_until(lambda: page.locator("#hg-compare").count() == 0, 5, "the view to close")


def test_on_a_phone_the_set_menu_and_the_view_fit_the_screen(server, page):
    page.set_viewport_size({"width": 390, "height": 800})
    try:
        visible(page, ".hg-history-card").filter(has_text="anna__talk.mp4").locator(".hg-compare-open").click()
        box = page.locator(".hg-compare-box")
        box.wait_for(timeout=10_000)
        page.wait_for_function("() => [...document.querySelectorAll('#hg-compare video')]"
                               ".every(v => v.readyState >= 2)", timeout=20_000)
        r = box.bounding_box()
        assert r["x"] >= 0 and r["x"] + r["width"] <= 390, r
        shot(page, "phone_compare")
        page.keyboard.press("Escape")
        tab(page, 1)
        menu = visible(page, ".hg-set-pick select")
        menu.scroll_into_view_if_needed()
        for el in (menu, visible(page, ".hg-set-save")):
            r = el.bounding_box()
            assert r["x"] >= 0 and r["x"] + r["width"] <= 390, r
        shot(page, "phone_options_sets", ".hg-card:has(.hg-options)")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
