"""The dashboard used again and again, in a real browser: earlier uploads ticked several at once, a double
click that queues once, the queue (move up, remove, try a failed video again), the batch's own results with
its ZIP, "again with a new speech track", a reload that keeps the work, and a server restart the page
survives by itself.

Debian's chromium driven by playwright against `heygem serve` on 127.0.0.1 with a temporary workspace, the
real worker and the real pipeline on tiny media. The tests run in file order and share one server and page.
"""
from __future__ import annotations

import base64
import secrets
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from dashboard_media import make_media
from browser import (APP_SELECTOR as APP, ServerProcess, chromium_path, open_app, pick, tab, text_of, visible,
                     wait_saved, wait_text, wait_until)

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (make browser)")]

LONG = "Quarterly_sales_presenter_Anna_Lindqvist_final_version_with_a_very_long_name_take_3.mp4"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    files = make_media(tmp_path_factory.mktemp("repeat_media"))
    files["long"] = files["anna"].with_name(LONG)
    shutil.copyfile(files["anna"], files["long"])
    return files


@pytest.fixture(scope="module")
def root(tmp_path_factory, media):
    """A workspace that already holds last week's uploads."""
    from heygem_core.jobs import Workspace

    root = tmp_path_factory.mktemp("repeat_ws") / "ws"
    ws = Workspace(root)
    for key in ("talk", "ben", "long"):
        ws.store_upload(media[key].name, media[key])
        time.sleep(0.02)                      # distinct times: the list is newest first
    return root


@pytest.fixture(scope="module")
def server(root):
    srv = ServerProcess(root, args=["--lang", "en"])
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = ctx.new_page()
    yield pg
    ctx.close()


def store(root: Path):
    from heygem_core.jobs import Workspace

    return Workspace(root).store


def inside(page, child: str, parent: str) -> list[str]:
    """Elements matching ``child`` that stick out of their ``parent`` (by more than a pixel)."""
    return page.evaluate("""([child, parent]) => [...document.querySelectorAll(child)]
        .filter(e => e.offsetParent !== null).filter(e => {
          const p = e.closest(parent).getBoundingClientRect(), r = e.getBoundingClientRect();
          return r.left < p.left - 1 || r.right > p.right + 1; }).map(e => e.className)""", [child, parent])


def _keep_worker_busy(root: Path, media, n: int = 12) -> str:
    """A long job queued ahead, so the jobs the page queues wait (the queue is observed, not raced)."""
    return store(root).submit(media["talk"], [media["anna"]] * n)


# -- earlier uploads, several at once -----------------------------------------------------------------------
def test_earlier_uploads_are_ticked_several_at_once_and_fit_their_card(server, page, root, media):
    TIMINGS.update(open_app(page, server.local_url, timeout_s=60))
    tab(page, 1)
    rows = visible(page, ".hg-library-row")
    rows.first.wait_for(timeout=15_000)
    assert rows.count() == 2                                   # the two face videos, not the speech
    names = visible(page, ".hg-library-name").all_inner_texts()
    assert names == [LONG, "ben.mp4"], names                   # newest first
    for width in (1280, 1400, 1920, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert inside(page, ".hg-library-row, .hg-library-search, .hg-library-all", ".hg-card") == [], width
    page.set_viewport_size({"width": 1280, "height": 900})
    long_name = visible(page, ".hg-library-name").first
    assert long_name.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    assert long_name.evaluate("e => e.scrollWidth > e.clientWidth")           # cut, with "…"
    # thumbnails are made in the background and served from the workspace
    page.wait_for_function("() => document.querySelectorAll('.hg-library-row img.hg-thumb').length === 2",
                           timeout=20_000)
    src = visible(page, ".hg-library-row img.hg-thumb").first.get_attribute("src")
    assert page.evaluate("u => fetch(u).then(r => r.headers.get('content-type'))", src) == "image/jpeg"

    visible(page, ".hg-library-search input").fill("ben")
    wait_until(lambda: visible(page, ".hg-library-row").count() == 1, what="the search to filter")
    visible(page, ".hg-library-all").click()                  # ticks what the search shows
    wait_text(page, ".hg-chosen", r"ben\.mp4")
    visible(page, ".hg-library-search input").fill("")
    wait_until(lambda: visible(page, ".hg-library-row").count() == 2, what="the search to clear")
    visible(page, ".hg-library-row").first.locator("input[type=checkbox]").check()
    wait_until(lambda: visible(page, ".hg-chosen-row").count() == 2, what="two chosen videos")
    chosen = visible(page, ".hg-chosen-row .hg-ellipsis").all_inner_texts()
    assert chosen == ["ben.mp4", LONG], chosen
    assert inside(page, ".hg-chosen-row", ".hg-card") == []
    # unticking takes it off the list again, and the list's ✕ unticks it
    visible(page, ".hg-library-row").first.locator("input[type=checkbox]").uncheck()
    wait_until(lambda: visible(page, ".hg-chosen-row").count() == 1, what="the untick")
    visible(page, ".hg-library-row").first.locator("input[type=checkbox]").check()
    wait_until(lambda: visible(page, ".hg-chosen-row").count() == 2, what="the tick")
    pick(page, ".hg-choice-audio select", "talk.wav")


def test_double_click_queues_one_job_and_an_identical_one_asks_first(server, page, root, media):
    busy = _keep_worker_busy(root, media)
    wait_until(lambda: store(root).get_job(busy).status == "running", 60, "the worker to start")
    visible(page, ".hg-start-batch").dblclick()
    wait_text(page, ".hg-action-message", r"Queued: 2 video")
    jobs = [j for j in store(root).list_jobs() if j.id != busy]
    assert len(jobs) == 1, jobs
    assert [i.video_name for i in jobs[0].items] == ["ben.mp4", LONG]
    time.sleep(1.6)                                          # a deliberate second click, not a double click
    visible(page, ".hg-start-batch").click()
    wait_text(page, ".hg-action-message", r"already queued \(0 of 2 done\)\. Click again")
    assert len(store(root).list_jobs()) == 2
    time.sleep(1.6)
    visible(page, ".hg-start-batch").click()                  # asked, and answered: queued once more
    wait_text(page, ".hg-action-message", r"Queued: 2 video")
    assert len(store(root).list_jobs()) == 3


def test_queue_tab_moves_up_removes_and_retries(server, page, root, media):
    s = store(root)
    busy, first, second = [j.id for j in reversed(s.list_jobs())]
    tab(page, 3)
    wait_until(lambda: visible(page, ".hg-queue-row").count() == 3, 40, "three jobs in the queue")
    assert visible(page, ".hg-queue-row .hg-move-up").count() == 1        # only the third can go up
    visible(page, ".hg-queue-row .hg-move-up").click()
    wait_until(lambda: [j.id for j in s.queue()] == [busy, second, first], 40, "the move")
    shown = lambda: page.eval_on_selector_all(".hg-queue .hg-queue-head", "hs => hs.map(h => h.dataset.job)")  # noqa: E731
    wait_until(lambda: shown() == [busy, second, first], 40, "the page to show the new order")
    remove = visible(page, ".hg-queue-row").nth(2).locator(".hg-remove-job")
    remove.click()                                             # two videos left: it asks first
    wait_until(lambda: "Cancel 2 left? Click again" in remove.inner_text(), 40, "the question")
    assert [j.id for j in s.queue()] == [busy, second, first]
    remove.click()                                             # the first one goes
    wait_until(lambda: [j.id for j in s.queue()] == [busy, second], 40, "the removal")
    wait_until(lambda: visible(page, ".hg-queue-row").count() == 2, 40, "two rows")

    # A video that vanished before its turn fails; put back, it runs when tried again.
    doomed = media["ben"].with_name("doomed.mp4")
    shutil.copyfile(media["ben"], doomed)
    failing = s.submit(media["talk"], [doomed])
    doomed.unlink()
    s.cancel(busy)                                             # let the worker get on with it
    wait_until(lambda: s.get_job(failing).status == "failed", 120, "the vanished video to fail")
    retry = visible(page, ".hg-failed-list .hg-retry")
    retry.wait_for(timeout=15_000)
    assert "doomed.mp4" in text_of(page, ".hg-failed-list")
    assert not visible(page, ".hg-failed-list .hg-why pre, .hg-failed-list .hg-why div").count()   # folded
    shutil.copyfile(media["ben"], doomed)
    retry.click()
    wait_until(lambda: s.get_job(failing).status == "done", 120, "the retried video to finish")


def test_batch_tab_shows_its_results_with_a_zip_of_this_batch(server, page, root, tmp_path):
    tab(page, 1)
    video = visible(page, ".hg-batch-results video")
    video.first.wait_for(timeout=120_000)
    wait_text(page, ".hg-batch-results", r"This batch: 2 of 2 ready", timeout=120)
    names = visible(page, ".hg-result-card figcaption .hg-ellipsis").all_inner_texts()
    assert names[0] == "ben__talk.mp4" and names[1].endswith("__talk.mp4"), names
    first = video.first
    first.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.readyState === 4 && v.currentTime > 0.3", arg=first.element_handle(),
                           timeout=15_000)
    visible(page, ".hg-zip-batch").click()
    link = visible(page, ".hg-zip-batch-link a")
    link.wait_for(timeout=30_000)
    with page.expect_download() as dl:
        link.click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    with zipfile.ZipFile(path) as z:
        assert len([n for n in z.namelist() if n.endswith(".mp4")]) == 2


def test_history_cards_name_the_output_and_explain_the_sync_badge(server, page):
    tab(page, 2)
    page.wait_for_function("() => document.querySelectorAll('.hg-history-card').length >= 3", timeout=15_000)
    titles = visible(page, ".hg-history-card .hg-card-title").all_inner_texts()
    assert len(set(titles)) == len(titles) and all(t.endswith(".mp4") and "__" in t for t in titles), titles
    assert "♪ talk.wav" in visible(page, ".hg-history-card .hg-audio").all_inner_texts()
    tip = visible(page, ".hg-history-card .hg-score").first.get_attribute("title")
    assert tip.startswith("Lip sync:") and all(len(line) < 100 for line in tip.splitlines()), tip   # short lines


def test_reload_keeps_the_choices_the_options_the_language_and_the_results(server, page, root):
    tab(page, 0)
    page.locator(".hg-lang button", has_text="中文").click()
    page.wait_for_function("() => document.querySelector('.hg-generate').textContent.includes('开始生成')")
    tab(page, 1)
    visible(page, ".hg-options .jupyter-widget-Collapse-header").last.click()     # the output options
    preset = visible(page, ".hg-options .widget-dropdown").filter(has_text="编码速度").locator("select")
    preset.select_option(label="适中偏快（fast）")           # choices in words, the x264 name in brackets
    wait_saved(page, lambda s: s.get("tab") == 1 and s.get("lang") == "zh"
               and s.get("options", {}).get("preset") == "fast", "the batch tab and the preset")
    page.reload()
    open_app(page, server.local_url, timeout_s=60)
    page.wait_for_function("() => document.querySelector('.hg-generate').textContent.includes('开始生成')",
                           timeout=15_000)
    wait_until(lambda: visible(page, ".hg-chosen-row").count() == 2, 60, "the chosen videos back")
    assert visible(page, ".hg-chosen-row .hg-ellipsis").all_inner_texts() == ["ben.mp4", LONG]
    assert visible(page, ".hg-choice-audio select").first.evaluate("s => s.selectedOptions[0].text") \
        .startswith("talk.wav")
    visible(page, ".hg-options .jupyter-widget-Collapse-header").last.click()
    preset = visible(page, ".hg-options .widget-dropdown").filter(has_text="编码速度").locator("select")
    assert preset.input_value() == "适中偏快（fast）"
    wait_text(page, ".hg-batch-results", r"本批结果：2 / 2 个完成")
    assert visible(page, ".hg-batch-results video").count() == 2


def test_again_with_a_new_speech_track_keeps_the_presenters(server, page):
    visible(page, ".hg-again").click()
    wait_text(page, ".hg-action-message", r"已选好同样的 2 个人物视频")
    assert visible(page, ".hg-chosen-row .hg-ellipsis").all_inner_texts() == ["ben.mp4", LONG]
    assert visible(page, ".hg-choice-audio select").first.input_value() == "— 未选择 —"     # the speech is next
    # the options the batch was made with, not the preset chosen after it
    preset = visible(page, ".hg-options .widget-dropdown").filter(has_text="编码速度").locator("select")
    wait_until(lambda: preset.input_value() == "快（veryfast）", 15, "the batch's own preset")


def test_start_brings_progress_into_view_and_shows_a_change_soon(server, page, root, media):
    page.set_viewport_size({"width": 390, "height": 800})     # a phone: the progress panel is far below
    pick(page, ".hg-choice-audio select", "talk.wav")
    visible(page, ".hg-start-batch").scroll_into_view_if_needed()
    before = text_of(page, ".hg-progress-line")
    t0 = time.perf_counter()
    visible(page, ".hg-start-batch").click()
    page.wait_for_function("""b => { const l = [...document.querySelectorAll('.hg-progress-line')]
        .find(e => e.offsetParent !== null); return l && l.innerText !== b; }""", arg=before, timeout=15_000)
    TIMINGS["start_to_progress_s"] = time.perf_counter() - t0
    page.wait_for_function("""() => { const p = [...document.querySelectorAll('.hg-progress')]
        .find(e => e.offsetParent !== null); const r = p.getBoundingClientRect();
        return r.top >= -1 && r.top < window.innerHeight; }""", timeout=5_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    print(f"\nfirst paint {TIMINGS['tabs_s']:.2f} s (FCP {TIMINGS['fcp_ms']:.0f} ms); "
          f"Start → first progress change {TIMINGS['start_to_progress_s']:.2f} s")
    assert TIMINGS["start_to_progress_s"] < 5


WATCH_TRANSFERS = """() => { window.__hgTransfers = {}; setInterval(() => {
  document.querySelectorAll('.hg-transfer').forEach(r => {
    const name = r.querySelector('.hg-transfer-name').textContent, v = r.querySelector('progress').value;
    window.__hgTransfers[name] = Math.max(window.__hgTransfers[name] || 0, v); }); }, 10); }"""


def test_a_file_dropped_on_the_upload_area_arrives_with_its_transfer_progress(server, page, media):
    tab(page, 0)
    page.evaluate(WATCH_TRANSFERS)
    data = base64.b64encode(media["anna"].read_bytes()).decode()
    drop = page.evaluate_handle("""([data, name]) => { const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const dt = new DataTransfer(); dt.items.add(new File([bytes], name, {type: 'video/mp4'})); return dt; }""",
                                [data, "dropped_anna.mp4"])
    zone = visible(page, ".hg-upload-box-video").first
    zone.dispatch_event("dragover", {"dataTransfer": drop})
    assert "hg-drop-over" in zone.get_attribute("class")
    zone.dispatch_event("drop", {"dataTransfer": drop})
    assert "hg-drop-over" not in zone.get_attribute("class")
    wait_text(page, ".hg-upload-box-video .hg-upload-status", r"dropped_anna\.mp4.*已就绪")
    assert page.evaluate("() => window.__hgTransfers")["dropped_anna.mp4"] == 100
    chosen = visible(page, ".hg-choice-video select").first.evaluate("s => s.selectedOptions[0].text")
    assert chosen.startswith("dropped_anna.mp4")


def test_server_restart_shows_a_banner_and_the_page_recovers_by_itself(server, page, root):
    page.evaluate("() => { window.__before_restart = true; }")
    server.stop()
    banner = page.locator("#hg-connection.hg-connection-lost")
    banner.wait_for(timeout=20_000)
    assert "连接已断开" in banner.inner_text() and banner.locator("button").inner_text() == "重新载入"
    again = ServerProcess(root, port=server.port, args=["--lang", "en"])
    try:
        # a new page (reloaded by itself), in the language this browser chose, not the server's
        page.wait_for_function("() => { const b = document.querySelector('.hg-generate');"
                               " return !window.__before_restart && b && b.textContent.includes('开始生成'); }",
                               timeout=120_000)
        assert not page.locator("#hg-connection").count()
        assert "Traceback" not in page.inner_text("body")
    finally:
        again.stop()


def test_a_colleague_without_the_token_gets_the_apps_login_page(browser, tmp_path):
    token = secrets.token_urlsafe(24)
    srv = ServerProcess(tmp_path / "ws", args=[f"--token={token}", "--lang", "en"])
    ctx = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN")
    try:
        pg = ctx.new_page()
        pg.goto(f"http://127.0.0.1:{srv.port}/")
        pg.wait_for_selector(".hg-login", timeout=30_000)
        body = pg.inner_text("body")                          # in the browser's language
        assert "访问令牌" in body and "?token=" in body and "heygem serve" in body
        assert "jupyter server list" not in body.lower() and "password" not in body.lower()
        pg.click("text=English")
        assert "Access token" in pg.inner_text("body")
        pg.fill("input[type=password]", "not-the-token")
        pg.click("button[type=submit]")
        pg.wait_for_selector(".hg-login .error", timeout=15_000)
        assert "not right" in pg.inner_text(".error")
        pg.fill("input[type=password]", token)
        pg.click("button[type=submit]")
        pg.wait_for_selector(APP, timeout=60_000)             # in, and the app is there
    finally:
        ctx.close()
        srv.stop()
