"""The dashboard in a real browser: Debian's chromium driven by playwright, against `heygem serve` on
127.0.0.1 with a temporary workspace, the real worker and the real pipeline on tiny media.

The tests run in file order and share one server and one page, as a person would use it: look around,
make mistakes, run a batch, look at the history, download, reload, restart.
"""
from __future__ import annotations

import re
import time
import secrets
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import av
import pytest

from dashboard_media import make_media
from browser import APP_SELECTOR as APP, ServerProcess, chromium_path, open_app, pick, tab, text_of, visible, wait_text

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (make browser)")]

LIMIT_MB = 12          # above Tornado's default 10 MiB websocket message, so the raised limit is exercised


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    files = make_media(tmp_path_factory.mktemp("browser_media"))
    for name, mib in (("huge", 13), ("eleven", 11)):   # over the 12 MiB limit / under it, but over the 10 MiB
        path = files["big"].with_name(f"{name}.mp4")    # a websocket message may carry by default
        path.write_bytes(b"\0" * (mib * 2**20))
        files[name] = path
    return files


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("browser_ws") / "ws"


@pytest.fixture(scope="module")
def server(root):
    srv = ServerProcess(root, args=["--lang", "zh", "--max-upload-mb", str(LIMIT_MB)])
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def page(context):
    pg = context.new_page()
    yield pg
    pg.close()


# -- helpers ----------------------------------------------------------------------------------------------
def english(page) -> None:
    page.locator(".hg-lang button", has_text="English").click()
    page.wait_for_function("() => document.querySelector('.hg-generate').textContent.includes('Generate')")


def choose_files(page, selector: str, files) -> None:
    with page.expect_file_chooser() as chooser:
        visible(page, selector).click()
    chooser.value.set_files([str(f) for f in files])


def no_traceback(page) -> None:
    body = page.inner_text("body")
    assert "Traceback" not in body and "Error:" not in body.replace("Something went wrong", "")


def _copies(media, n: int) -> list[Path]:
    out = []
    for i in range(n):
        path = media["eleven"].with_name(f"eleven_{i}.mp4")
        if not path.exists():
            path.write_bytes(media["eleven"].read_bytes())
        out.append(path)
    return out


def store(root: Path):
    from heygem_core.jobs import Workspace

    return Workspace(root).store


def history_cards(page) -> list[tuple[str, ...]]:
    """(name, speech, date · length · score) of each card on show, in order."""
    return [tuple(card.locator(".hg-card-title, .hg-meta").all_inner_texts())
            for card in visible(page, ".hg-history-card").all()]


# -- the visit --------------------------------------------------------------------------------------------
def test_page_renders_its_tabs_in_both_languages(server, page):
    painted = open_app(page, server.local_url, timeout_s=30)["tabs_s"]
    assert painted < 15, painted      # the budget (3 s) is measured in bench/dashboard_paint.py
    assert page.locator(APP).all_inner_texts() == ["单个处理", "批量处理", "历史记录", "队列"]
    assert "每个文件不超过 12 MB" in text_of(page, ".hg-hint")
    english(page)
    assert page.locator(APP).all_inner_texts() == ["Single", "Batch", "History", "Queue"]
    assert "up to 12 MB per file" in text_of(page, ".hg-hint")
    no_traceback(page)


def test_bad_uploads_get_a_message_and_nothing_is_queued(server, page, media, root):
    tab(page, 1)
    # Too big: refused in the browser before it is sent, the other files still go.
    choose_files(page, ".hg-upload-video", [media["broken"], media["notes"], media["huge"], media["eleven"]])
    status = wait_text(page, ".hg-upload-box-video .hg-upload-status", r"eleven\.mp4: cannot be used", timeout=60)
    # in plain words; the reader's own message is folded away under "Technical details"
    assert "broken.mp4: cannot be used: no picture could be read from it.\nTechnical details" in status, status
    why = visible(page, ".hg-upload-box-video .hg-why").first
    assert not why.evaluate("d => d.open") and why.locator("summary").inner_text() == "Technical details"
    assert "notes.txt: unsupported file type .txt" in status
    assert "huge.mp4 is 13 MB, over the 12 MB limit" in status
    # More than one websocket message may carry (4 × the limit) in one go: refused whole, with a message.
    choose_files(page, ".hg-upload-video", [media["eleven"], *_copies(media, 4)])
    status = wait_text(page, ".hg-upload-box-video .hg-upload-status", r"Too much at once")
    assert "Too much at once (5 files, 55 MB); up to 48 MB can be sent together" in status
    visible(page, ".hg-start-batch").click()
    wait_text(page, ".hg-action-message", r"Upload or pick a speech audio first")
    assert store(root).list_jobs() == []
    assert not [p for p in (root / "uploads").rglob("*") if p.is_file()]
    no_traceback(page)


def test_batch_runs_with_live_progress_seen_from_a_second_tab(server, page, context, media, root):
    choose_files(page, ".hg-upload-audio", [media["talk"]])
    wait_text(page, ".hg-upload-box-audio .hg-upload-status", r"talk\.wav .* is ready")
    choose_files(page, ".hg-upload-video", [media["anna"], media["ben"]])
    wait_text(page, ".hg-upload-box-video .hg-upload-status", r"anna\.mp4 .* is ready[\s\S]*ben\.mp4 .* is ready")
    assert visible(page, ".hg-chosen-row").count() == 2

    other = context.new_page()                 # opened before the job exists: it never queued anything
    open_app(other, server.local_url, timeout_s=30)
    tab(other, 1)

    visible(page, ".hg-start-batch").click()
    wait_text(page, ".hg-action-message", r"Queued: 2 video")
    seen, other_lines, t0 = [], set(), time.monotonic()
    while time.monotonic() - t0 < 120:
        other_lines.add(text_of(other, ".hg-progress-line"))
        line = text_of(page, ".hg-progress-line")
        width = visible(page, ".hg-bar .progress-bar").first.evaluate("e => parseFloat(e.style.width) || 0")
        if not seen or seen[-1][1:] != (line, width):
            seen.append((time.monotonic() - t0, line, width))
        if line.startswith("Finished"):
            break
        time.sleep(0.05)
    lines = [s[1] for s in seen]
    assert lines[-1] == "Finished: 2 of 2 succeeded", lines
    assert any(re.match(r"anna\.mp4 · 1 / 2 · \d+% · ", x) for x in lines), lines
    assert any(re.match(r"ben\.mp4 · 2 / 2 · \d+% · ", x) for x in lines), lines
    assert any(re.search(r"(tracking the face|synthesising the mouth) · about \d+:\d\d left", x)
               for x in lines), lines
    widths = [s[2] for s in seen]
    assert widths == sorted(widths) and widths[-1] == 100 and len(set(widths)) >= 4, widths

    # The other tab shows the same job: progress comes from the workspace, not from the page that queued it.
    # (That page is in English too: the language chosen is remembered by the browser, for every tab.)
    wait_text(other, ".hg-items", r"anna\.mp4\s+done\s+✓\s+ben\.mp4\s+done", timeout=10)
    assert any(re.match(r"(anna|ben)\.mp4 · [12] / 2 · ", x) for x in other_lines), other_lines
    other.close()
    no_traceback(page)


def test_history_shows_both_results_with_thumbnails_and_plays_one(server, page):
    tab(page, 2)
    page.wait_for_function("() => document.querySelectorAll('.hg-history-card video').length >= 2",
                           timeout=15_000)
    cards = history_cards(page)
    assert [c[0] for c in cards] == ["ben__talk.mp4", "anna__talk.mp4"]      # the output files' names
    for _, speech, details in cards:
        assert speech == "♪ talk.wav"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d · 0:02 · sync -?\d\.\d\d(, p/b/m closed \d+%)?", details), details
    # Thumbnails (the posters) are real JPEGs streamed from the workspace.
    posters = page.eval_on_selector_all(".hg-history-card video", "vs => vs.map(v => v.poster)")
    for url in posters:
        kind = page.evaluate("u => fetch(u).then(r => r.ok ? r.headers.get('content-type') : 'HTTP ' + r.status)",
                             url)
        assert kind == "image/jpeg", (url, kind)
    first = visible(page, ".hg-history-card video").first
    first.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.readyState === 4 && v.currentTime > 0.3", arg=first.element_handle(),
                           timeout=15_000)
    assert first.evaluate("v => v.error") is None


def test_zip_download_holds_two_playable_mp4s(server, page, tmp_path):
    visible(page, ".hg-select-all").click()
    wait_text(page, ".hg-history .hg-toolbar", r"2 of 2 selected")
    visible(page, ".hg-zip").click()
    link = visible(page, ".hg-zip-link a")
    link.wait_for(timeout=30_000)
    with page.expect_download() as dl:
        link.click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.suffix == ".zip"
    with zipfile.ZipFile(path) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".mp4"))
        assert names == ["anna__talk.mp4", "ben__talk.mp4"]
        z.extractall(tmp_path / "x")
    for name in names:
        with av.open(str(tmp_path / "x" / name)) as c:
            assert c.streams.video[0].codec_context.name == "h264" and c.streams.audio
            frames = sum(1 for _ in c.decode(video=0))
        assert frames >= 45, (name, frames)    # 2 s at 25 fps


def test_single_tab_picks_previous_uploads_and_plays_the_result(server, page, root):
    tab(page, 0)
    pick(page, ".hg-choice-audio select", "talk.wav")
    pick(page, ".hg-choice-video select", "anna.mp4")
    visible(page, ".hg-generate").click()
    wait_text(page, ".hg-action-message", r"Queued: 1 video")
    video = visible(page, ".hg-result video")
    video.wait_for(timeout=90_000)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.readyState === 4 && v.currentTime > 0.3", arg=video.element_handle(),
                           timeout=15_000)
    href = visible(page, ".hg-result a[download]").get_attribute("href")
    assert re.search(r"/voila/files/outputs/anna__talk-2\.mp4\?v=", href), href
    assert len(store(root).history()) == 3


def test_history_survives_reload_and_server_restart(server, page, root):
    tab(page, 2)
    page.wait_for_function("() => document.querySelectorAll('.hg-history-card').length === 3", timeout=15_000)
    before = history_cards(page)
    page.reload()
    open_app(page, server.local_url, timeout_s=90)     # a new kernel; slow when the machine is busy
    tab(page, 2)
    page.wait_for_function("() => document.querySelectorAll('.hg-history-card').length === 3", timeout=15_000)
    page.wait_for_function("() => document.querySelector('.hg-generate').textContent.includes('Generate')",
                           timeout=15_000)        # still in English: this browser remembers the language
    assert history_cards(page) == before
    page.locator(".hg-lang button", has_text="中文").click()
    page.wait_for_function("() => document.querySelector('.hg-generate').textContent.includes('开始生成')")
    zh = [(t, a, d.replace("sync", "口型同步").replace("p/b/m closed", "双唇闭合")) for t, a, d in before]
    deadline = time.monotonic() + 10                # the cards are relabelled just after the buttons
    while history_cards(page) != zh and time.monotonic() < deadline:
        time.sleep(0.1)
    assert history_cards(page) == zh
    english(page)
    deadline = time.monotonic() + 10
    while history_cards(page) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert history_cards(page) == before

    page.goto("about:blank")      # (a page left open reloads itself when the server is back: see the repeat tests)
    server.stop()
    again = ServerProcess(root, port=server.port, args=["--lang", "en"])
    try:
        open_app(page, again.local_url, timeout_s=30)
        tab(page, 2)
        page.wait_for_function("() => document.querySelectorAll('.hg-history-card').length === 3",
                               timeout=15_000)
        assert history_cards(page) == before
        no_traceback(page)
    finally:
        again.stop()


def test_a_request_without_the_token_is_refused(tmp_path):
    # Test servers listen on 127.0.0.1 only: the token is given here, and the rule that any non-loopback
    # address gets one (generated when not given) is test_dashboard_ui's resolve_token test.
    token = secrets.token_urlsafe(24)
    srv = ServerProcess(tmp_path / "ws", args=[f"--token={token}"])
    try:
        assert srv.token == token
        base = f"http://127.0.0.1:{srv.port}"

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        for path in ("/", "/voila/files/outputs/x.mp4", "/?token=wrong"):
            with pytest.raises(urllib.error.HTTPError) as err:
                opener.open(base + path, timeout=10)
            assert err.value.code in (302, 403), (path, err.value.code)
            assert "/login" in (err.value.headers.get("Location") or "/login")
        with opener.open(f"{base}/?token={srv.token}", timeout=30) as r:
            assert r.status == 200 and b"voila" in r.read().lower()
    finally:
        srv.stop()
