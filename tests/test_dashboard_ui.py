"""The dashboard's widgets and server settings, without a browser: real workspace, real worker, tiny media."""
from __future__ import annotations

import json
import re
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dashboard_media import make_media
from heygem_core.options import LipSyncOptions, option_fields
from heygem_core.ui import i18n
from heygem_core.ui.server import (FILE_ALLOWLIST, FILE_DENYLIST, ServeSettings, file_url, is_loopback,
                                   resolve_token, voila_config)
from heygem_core.ui.uploads import validate_upload

LIMIT = 256 * 1024   # 0.25 MiB: the "big" file (400 kB) is over it, the clips (~90 kB) are under


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("dash_media"))


def _upload(path: Path, name: str | None = None) -> dict:
    data = path.read_bytes()
    return {"name": name or path.name, "type": "", "size": len(data), "content": memoryview(data),
            "last_modified": datetime.now(timezone.utc)}


@pytest.fixture
def dashboard(tmp_path):
    from heygem_core.ui.app import Dashboard

    d = Dashboard(tmp_path / "ws", lang="en", max_upload_mb=LIMIT / 2**20, poll=False)
    yield d
    d.stop()


def _wait_uploads(*pickers):
    for p in pickers:
        p.box.wait()


# -- checking uploads -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,key", [("audio", "talk"), ("video", "anna"), ("audio", "ben")])
def test_real_media_passes(media, kind, key):
    # a face video with no sound is refused as speech further down; ben.mp4 has no audio track
    problem = validate_upload(kind, media[key].name, media[key].read_bytes(), limit_bytes=LIMIT)
    if key == "ben":
        assert problem is not None and "ben.mp4" in problem and "audio" in problem
    else:
        assert problem is None
        assert validate_upload(kind, media[key].name, media[key], limit_bytes=LIMIT) is None  # from a path


@pytest.mark.parametrize("key,kind,expected", [
    ("notes", "video", r"notes\.txt: unsupported file type \.txt\. Use mp4 .* jpg .*"),
    ("broken", "video", r"broken\.mp4: cannot be used \(.+\)"),
    ("big", "video", r"big\.mp4 is 390\.6 KB, over the 256 KB limit"),
    ("anna", "audio", None),  # checked below: a video file as speech needs a sound track
])
def test_bad_uploads_get_one_clear_line(media, key, kind, expected):
    problem = validate_upload(kind, media[key].name, media[key].read_bytes(), limit_bytes=LIMIT)
    assert problem is not None and "\n" not in problem and "Traceback" not in problem
    if expected:
        assert re.fullmatch(expected, problem), problem


def test_empty_file_and_chinese_messages(media):
    assert validate_upload("audio", "x.wav", b"", limit_bytes=LIMIT) == "x.wav: the file is empty"
    zh = validate_upload("video", "big.mp4", media["big"].read_bytes(), limit_bytes=LIMIT, lang="zh")
    assert zh == "big.mp4 大小为 390.6 KB，超过上限 256 KB"


# -- options panel ----------------------------------------------------------------------------------------
def test_options_panel_is_generated_from_the_metadata():
    import ipywidgets as w

    from heygem_core.ui.options_panel import OptionsPanel

    panel = OptionsPanel("en")
    fields = option_fields()
    assert list(panel.inputs) == [f.name for f in fields]
    for f in fields:
        widget, meta = panel.inputs[f.name], f.metadata
        assert widget.tooltip == meta["help"]
        if meta["choices"]:
            assert isinstance(widget, w.Dropdown)
            assert [value for _, value in widget.options] == list(meta["choices"])   # labelled in words
        elif isinstance(f.default, bool):
            assert isinstance(widget, w.Checkbox)
        elif meta["min"] is not None:
            assert (widget.min, widget.max) == (meta["min"], meta["max"]), f.name
    assert panel.options() == LipSyncOptions()
    assert panel.sections.titles == ("Engine", "Mouth motion", "Face and blending", "Output")

    changed = LipSyncOptions(mouth_gain=1.5, crf=18, color_match=False, preset="fast")
    panel.set_options(changed)
    assert panel.options() == changed
    panel.set_lang("zh")
    assert panel.inputs["mouth_gain"].description == "张嘴幅度"
    panel.reset_button.click()
    assert panel.options() == LipSyncOptions()


# -- uploads, submit, progress, history -------------------------------------------------------------------
def test_bad_uploads_are_not_kept_and_nothing_is_queued(dashboard, media):
    d = dashboard
    d.batch_videos.box.upload.value = tuple(_upload(media[k]) for k in ("anna", "broken", "notes", "big"))
    _wait_uploads(d.batch_videos)
    status = d.batch_videos.box.status.value
    assert "✓ anna.mp4" in status
    assert "broken.mp4: cannot be used: no picture could be read from it." in status
    assert '<details class="hg-why"><summary>Technical details</summary>' in status    # the reason, folded
    assert "notes.txt: unsupported file type" in status
    assert "big.mp4 is 390.6 KB, over the 256 KB limit" in status
    assert d.batch_videos.box.upload.value == ()                    # bytes are not kept in the page
    assert [p.name for p in d.batch_videos.paths] == ["anna.mp4"]
    kept = sorted(p.name for p in d.ws.uploads.rglob("*") if p.is_file())
    assert kept == ["anna.mp4"]

    assert d.submit_batch() is None                                 # no audio chosen yet
    assert "speech audio first" in d.batch_message.value
    d.batch_audio.box.upload.value = (_upload(media["broken"], "speech.wav"),)
    _wait_uploads(d.batch_audio)
    assert "speech.wav: cannot be used" in d.batch_audio.box.status.value
    assert d.batch_audio.path is None
    assert d.submit_batch() is None
    assert d.ws.store.list_jobs() == []


def test_option_problem_is_shown_and_nothing_queued(dashboard, media):
    d = dashboard
    d.single_audio.box.upload.value = (_upload(media["talk"]),)
    d.single_video.box.upload.value = (_upload(media["anna"]),)
    _wait_uploads(d.single_audio, d.single_video)
    assert d.single_audio.path.name == "talk.wav" and d.single_video.path.name == "anna.mp4"
    d.options.inputs["engine"].value = "wav2lip"                     # needs a checkpoint
    assert d.submit_single() is None
    assert "checkpoint" in d.single_message.value and "hg-error" in d.single_message.value
    assert d.ws.store.list_jobs() == []


def test_progress_view_of_a_running_job(dashboard, media):
    from heygem_core.ui.progress import job_view, status_text

    d = dashboard
    store = d.ws.store
    job_id = store.submit(media["talk"], [media["anna"], media["anna"]], LipSyncOptions())
    assert job_view(store.get_job(job_id)).state == "waiting"
    item = store.claim_next()                                   # what the worker does, step by step
    store.set_progress(item.id, "face", 5, 10, 25.0, 6.0)
    view = job_view(store.get_job(job_id), now=time.time())
    assert (view.state, view.name, view.index, view.total, view.stage) == ("running", "anna.mp4", 1, 2, "face")
    assert view.percent == pytest.approx(12.5)
    assert view.eta_s == pytest.approx(6.0 + 6.0, abs=1.0)      # this item + one more at the same pace
    line = status_text(view, "en")
    assert "anna.mp4" in line and "1 / 2" in line and "tracking the face" in line and "0:12 left" in line
    assert "第 1 / 2 个" in status_text(view, "zh") and "人脸跟踪" in status_text(view, "zh")
    d.refresh()
    assert "1 / 2" in d.progress.line.value and d.progress.bar.value == pytest.approx(12.5)
    assert d.progress.cancel_button.layout.display == ""
    d.cancel()                                                  # two videos left: it asks first
    assert d.progress.cancel_button.description == "Cancel 2 left? Click again"
    assert [i.status for i in store.get_job(job_id).items] == ["running", "queued"]
    d.cancel()
    view = job_view(store.get_job(job_id))
    assert [i.status for i in view.items] == ["running", "cancelled"]   # the running one stops via the worker


def test_batch_to_history_with_the_real_worker(dashboard, media, tmp_path):
    from heygem_core.jobs import Worker

    d = dashboard
    d.batch_audio.box.upload.value = (_upload(media["talk"]),)
    d.batch_videos.box.upload.value = (_upload(media["anna"]), _upload(media["ben"]))
    _wait_uploads(d.batch_audio, d.batch_videos)
    job_id = d.submit_batch()
    assert job_id and "Queued: 2 video(s)." in d.batch_message.value
    d._ensure_worker = lambda: None  # this test runs the worker itself, in this process
    Worker(d.ws.root, idle_exit=0.2, poll_s=0.05).run()

    d.refresh()
    assert "Finished: 2 of 2 succeeded" in d.progress.line.value and d.progress.bar.value == 100
    h = d.history
    h.refresh()
    titles = [h.cards[i].entry.video_name for i in h._order]
    assert titles == ["ben.mp4", "anna.mp4"]                     # newest first
    card = h.cards[h._order[0]]
    assert re.search(r'<video [^>]*poster="/voila/files/thumbnails/[^"]+\.jpg\?v=[^"]+" '
                     r'src="/voila/files/outputs/ben__talk\.mp4\?v=', card.media.value), card.media.value
    assert "talk.wav" in card.text.value and re.search(r"sync -?\d\.\d\d", card.text.value)
    assert 'download="ben__talk.mp4"' in card.download.value

    h.select_all.click()
    assert h.count.value == "2 of 2 selected"
    h.export_selected().join(30)
    link = re.search(r'href="(/voila/files/outputs/exports/[^"?]+\.zip)', h.zip_link.value)
    assert link, h.zip_link.value + h.message.value
    archive = d.ws.root / link.group(1).removeprefix("/voila/files/")
    with zipfile.ZipFile(archive) as z:
        assert sorted(n for n in z.namelist() if n.endswith(".mp4")) == ["anna__talk.mp4", "ben__talk.mp4"]

    card._delete_clicked()                                       # asks first
    assert len(d.ws.store.history()) == 2
    card._delete_clicked()
    assert [e.video_name for e in d.ws.store.history()] == ["anna.mp4"]
    assert h._order == [d.ws.store.history()[0].item_id]


def test_language_switch_relabels_in_place(dashboard):
    d = dashboard
    assert d.tabs.titles == ("Single", "Batch", "History", "Queue")
    d.lang_switch.value = "zh"
    assert d.tabs.titles == ("单个处理", "批量处理", "历史记录", "队列")
    assert d.generate_button.description == "开始生成" and d.history.zip_button.description == "打包下载所选"
    assert d.single_audio.box.upload.tooltip == "上传音频"
    assert d.options.sections.titles[0] == "引擎"
    d.set_lang("en")
    assert d.lang_switch.value == "en" and d.batch_button.description == "Start batch"


def test_every_text_has_both_languages():
    for key, (zh, en) in i18n.TEXT.items():
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key
    assert set(i18n.OPTION_ZH) == {f.name for f in option_fields()}


# -- serving ----------------------------------------------------------------------------------------------
def test_token_policy():
    assert is_loopback("127.0.0.1") and is_loopback("127.3.2.1") and is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("::")
    assert resolve_token("127.0.0.1", None) == ""
    assert resolve_token("127.0.0.1", "abc") == "abc"
    a, b = resolve_token("0.0.0.0", None), resolve_token("0.0.0.0", None)
    assert len(a) >= 24 and a != b
    assert resolve_token("10.0.0.5", "given") == "given"


@pytest.mark.parametrize("path,served", [
    ("outputs/ben__talk.mp4", True), ("thumbnails/ben__talk.jpg", True), ("outputs/exports/heygem_1.zip", True),
    ("jobs.sqlite", False), ("uploads/abc/talk.wav", False), ("uploads/abc/anna.mp4", False),
    ("logs/heygem.log", False), (".app/heygem.ipynb", False), ("outputs/../jobs.sqlite", False),
    ("outputs/.ben.mp4.tmp", False), ("outputs/.hidden.mp4", False), ("cache/work/x/out.mp4", False),
    ("outputs/sub/x.mp4", False), ("thumbnails/x.png", False),
    # the templates of the before/after view: uploaded videos and photos, in their content-hash folders
    ("uploads/0123456789abcdef/anna.mp4", True), ("uploads/0123456789abcdef/anna.JPG", True),
    ("uploads/0123456789abcdef/talk.wav", False), ("uploads/0123456789abcdef/.anna.mp4.part", False),
    ("uploads/0123456789abcdef/../../jobs.sqlite", False), ("uploads/0123456789abcdef/sub/a.mp4", False),
])
def test_only_results_are_served(path, served):
    def ok(p):
        return (any(re.fullmatch(a, p, re.IGNORECASE) for a in FILE_ALLOWLIST)
                and not any(re.fullmatch(d, p, re.IGNORECASE) for d in FILE_DENYLIST))
    assert ok(path) is served


def test_voila_settings(tmp_path):
    s = ServeSettings(root=tmp_path, port=7861, ip="0.0.0.0", token="t0k", max_upload_mb=100, cull_idle_s=600)
    cfg = voila_config(s, tmp_path / ".app" / "heygem.ipynb")
    assert cfg["Voila"]["tornado_settings"]["websocket_max_message_size"] >= 100 * 2**20
    assert cfg["Voila"]["token"] == "t0k" and cfg["Voila"]["ip"] == "0.0.0.0"
    assert cfg["HeygemVoila"]["files_root"] == str(tmp_path.resolve())
    assert cfg["VoilaConfiguration"]["show_tracebacks"] is False
    assert cfg["MappingKernelManager"]["cull_idle_timeout"] == 600
    assert s.url.endswith(":7861/?token=t0k")
    assert file_url(tmp_path / "outputs" / "a b.mp4", tmp_path) == "/voila/files/outputs/a%20b.mp4"
    assert file_url(tmp_path / "uploads" / "x" / "a.mp4", tmp_path) is None
    assert file_url(tmp_path / "outputs" / "a.mp4", tmp_path, "/app/") == "/app/voila/files/outputs/a.mp4"


def test_notebook_is_thin():
    from heygem_core.resources import dashboard_notebook

    nb = json.loads(dashboard_notebook().read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert 1 <= len(code) <= 2
    assert "".join(code[0]["source"]).strip().endswith("app()")


def test_app_folder_and_page_template(tmp_path):
    from heygem_core.ui.server import prepare_app_dir

    notebook = prepare_app_dir(tmp_path, max_upload_mb=2)
    assert notebook == tmp_path.resolve() / ".app" / "heygem.ipynb" and notebook.is_file()
    page = (tmp_path / ".app" / "share" / "voila" / "templates" / "heygem" / "index.html.j2").read_text()
    assert "cdn." not in page and "https://" not in page          # the page asks nothing of the internet
    assert '"limit": 2097152, "cap": 8388608' in page and "HTMLInputElement.prototype.addEventListener" in page
    assert json.loads((notebook.parent / "share/voila/templates/heygem/conf.json").read_text()) == \
        {"base_template": "lab"}
    for name in ("outputs", "thumbnails", "outputs/exports"):
        assert (tmp_path / name).is_dir()


# -- used again and again ---------------------------------------------------------------------------------
def test_long_names_are_cut_in_the_middle_with_an_ellipsis():
    from heygem_core.ui.library import short_name

    name = "Quarterly_sales_presenter_Anna_Lindqvist_final_version_take_3.mp4"
    short = short_name(name, 30)
    assert len(short) == 30 and "…" in short and short.endswith(".mp4") and short.startswith("Quarterly")
    assert short_name("anna.mp4", 30) == "anna.mp4"


def test_the_page_state_round_trips_and_ignores_what_is_not_an_upload(dashboard, media, tmp_path):
    from heygem_core.ui.app import Dashboard

    d = dashboard
    d.batch_audio.box.upload.value = (_upload(media["talk"]),)
    d.batch_videos.box.upload.value = (_upload(media["anna"]), _upload(media["ben"]))
    _wait_uploads(d.batch_audio, d.batch_videos)
    d.options.inputs["preset"].value = "fast"
    assert dict(d.options.inputs["preset"].options)["Balanced, quicker (fast)"] == "fast"
    d.set_lang("zh")
    assert d.options.inputs["preset"].value == "fast"             # relabelled, the value kept
    d.tabs.selected_index = 1
    state = d.page_state()
    assert state["batch"] == {"audio": state["batch"]["audio"], "videos": state["batch"]["videos"], "job": None}
    assert all(not Path(p).is_absolute() for p in state["batch"]["videos"])   # relative to uploads/

    other = Dashboard(d.ws.root, lang="en", max_upload_mb=LIMIT / 2**20, poll=False)
    try:
        other.restore(json.loads(json.dumps(state)))
        assert [p.name for p in other.batch_videos.paths] == ["anna.mp4", "ben.mp4"]
        assert other.batch_audio.path.name == "talk.wav"
        assert other.options.inputs["preset"].value == "fast"
        assert other.lang == "zh" and other.tabs.selected_index == 1
        # ticked in the checklist of earlier uploads too
        assert sorted(p.name for p, row in other.batch_videos.library.rows.items() if row.check.value) == \
            ["anna.mp4", "ben.mp4"]
        other.restore({"batch": {"videos": ["../../jobs.sqlite", "/etc/passwd", 3], "audio": "../x.wav"},
                       "single": {"job": "nope"}, "options": {"crf": "not a number"}, "tab": 99, "lang": "xx"})
        assert other.batch_videos.paths == [] and other.batch_audio.path is None
        assert other.single_job is None and other.tabs.selected_index == 1
    finally:
        other.stop()


def test_the_same_job_twice_asks_before_queuing_again(dashboard, media):
    d = dashboard
    d._ensure_worker = lambda: None          # the jobs only need to wait: no worker takes them
    d.batch_audio.box.upload.value = (_upload(media["talk"]),)
    d.batch_videos.box.upload.value = (_upload(media["anna"]),)
    _wait_uploads(d.batch_audio, d.batch_videos)
    first = d.submit_batch()
    assert first and "Queued: 1 video(s)." in d.batch_message.value
    assert d.submit_batch() is None
    assert "already queued (0 of 1 done)" in d.batch_message.value and len(d.ws.store.list_jobs()) == 1
    assert d.submit_batch() not in (None, first)                # asked once: the next click queues
    assert len(d.ws.store.list_jobs()) == 2 and not d.batch_button.disabled
    d.options.inputs["crf"].value = 30                          # other options: a different job, no question
    assert d.submit_batch() is not None


def test_time_left_uses_the_mean_pace_of_finished_items_per_output_second():
    from heygem_core.jobs.records import ItemRecord, JobRecord, job_status
    from heygem_core.ui.progress import job_view

    def Job(items):  # noqa: N802 - a job record as the store builds it
        return JobRecord(id="j", status=job_status(items), created=0.0, started=None, finished=None,
                         audio="talk.wav", audio_name="talk.wav", options={}, items=items)

    def item(i, status, **kw):
        return ItemRecord(id=f"j-{i}", job_id="j", index=i, video=f"v{i}.mp4", video_name=f"v{i}.mp4",
                          status=status, **kw)

    now = 1000.0
    # two done: 20 s and 10 s of work for 5 s of output each → 3 s of work per output second, 15 s an item
    items = [item(0, "done", started=900.0, finished=920.0, duration=5.0),
             item(1, "done", started=920.0, finished=930.0, duration=5.0),
             item(2, "running", started=996.0, eta_s=0.5, percent=5.0),   # the worker's guess is far off
             item(3, "queued"), item(4, "queued")]
    view = job_view(Job(items), now=now)
    assert view.eta_s == pytest.approx((15.0 - 4.0) + 2 * 15.0)
    # running past the expected time: the worker's own estimate takes over for the current item
    late = items[:2] + [item(2, "running", started=980.0, eta_s=2.0, percent=90.0)] + items[3:]
    assert job_view(Job(late), now=now).eta_s == pytest.approx(2.0 + 2 * 15.0)


def test_lan_addresses_are_ips_each_with_the_token(monkeypatch):
    from heygem_core.ui import lan

    monkeypatch.setattr(lan, "_interface_ipv4", lambda: ["127.0.0.1", "192.168.1.20", "169.254.3.4", "10.0.0.7"])
    monkeypatch.setattr(lan, "_resolved_ipv4", lambda: ["192.168.1.20", "203.0.113.9"])
    assert lan.lan_addresses() == ["10.0.0.7", "192.168.1.20", "203.0.113.9"]
    assert lan.page_urls("0.0.0.0", 7861, "tok") == ["http://10.0.0.7:7861/?token=tok",
                                                     "http://192.168.1.20:7861/?token=tok",
                                                     "http://203.0.113.9:7861/?token=tok"]
    assert lan.page_urls("127.0.0.1", 7860, "") == ["http://127.0.0.1:7860/"]
    assert all(ip.count(".") == 3 for ip in lan._interface_ipv4() + lan.lan_addresses())   # the real ones


def test_page_memory_saves_only_after_the_browser_answered_and_beats():
    from heygem_core.ui.memory import BEAT_S, PageMemory

    got = []
    memory = PageMemory(got.append)
    assert memory.save({"lang": "en"}) is False and memory.outbox.value == ""   # nothing known yet: keep quiet
    memory.inbox.value = '{"lang": "zh", "tab": 1}'                            # what page.js hands over
    assert got == [{"lang": "zh", "tab": 1}]
    assert memory.save({"lang": "zh", "tab": 1}) is False                      # unchanged: nothing sent
    assert memory.save({"lang": "en"}) is True and "&quot;lang&quot;: &quot;en&quot;" in memory.outbox.value
    memory.heartbeat(now=100.0)
    memory.heartbeat(now=100.0 + BEAT_S / 2)
    assert memory.beat.value == "1"
    memory.heartbeat(now=100.0 + BEAT_S)
    assert memory.beat.value == "2"
    broken = PageMemory(got.append)
    broken.inbox.value = "not json"                                            # a damaged store: start fresh
    assert got[-1] == {}


def test_nothing_is_saved_over_the_remembered_state_while_it_is_being_restored():
    """The poller saves on its own thread; a save in the middle of a restore would hand the browser a
    half-restored page (the defaults) in place of what it remembered."""
    import threading

    from heygem_core.ui.memory import PageMemory

    inside, release, saved = threading.Event(), threading.Event(), []

    def slow_restore(state):
        inside.set()
        release.wait(10)

    memory = PageMemory(slow_restore)
    t = threading.Thread(target=lambda: setattr(memory.inbox, "value", '{"lang": "zh", "tab": 1}'))
    t.start()
    assert inside.wait(10)
    saved.append(memory.save({"lang": "en", "tab": 0}))       # the poller, mid-restore
    release.set()
    t.join(10)
    assert saved == [False] and memory.outbox.value == ""
    assert memory.save({"lang": "zh", "tab": 2}) is True      # once restored, changes are saved


def test_a_reloaded_page_shows_the_single_result_it_queued(dashboard, media):
    from heygem_core.jobs import Worker
    from heygem_core.ui.app import Dashboard

    d = dashboard
    d.single_audio.box.upload.value = (_upload(media["talk"]),)
    d.single_video.box.upload.value = (_upload(media["anna"]),)
    _wait_uploads(d.single_audio, d.single_video)
    d._ensure_worker = lambda: None                             # this test runs the worker itself
    assert d.submit_single()
    state = d.page_state()                                      # what the browser keeps
    Worker(d.ws.root, idle_exit=0.2, poll_s=0.05).run()         # finishes while the page is away
    again = Dashboard(d.ws.root, lang="en", max_upload_mb=LIMIT / 2**20, poll=False)
    try:
        assert again.result_box.layout.display == "none"
        again.restore(state)
        assert again.result_box.layout.display == ""
        assert re.search(r'<video [^>]*src="/voila/files/outputs/anna__talk\.mp4\?v=', again.result.value)
        assert 'download="anna__talk.mp4"' in again.result.value
        # its before/after button: the uploaded template beside the result
        button = re.search(r'<button type="button" class="hg-compare-open" ([^>]*)>', again.result.value)
        assert button and re.search(r'data-before="/voila/files/uploads/[^"]*/anna\.mp4"', button.group(1))
        assert re.search(r'data-after="/voila/files/outputs/anna__talk\.mp4\?v=', button.group(1))
        assert again.single_video.path.name == "anna.mp4" and again.single_audio.path.name == "talk.wav"
    finally:
        again.stop()


def test_the_script_box_goes_with_the_job_to_the_worker(dashboard, media):
    d = dashboard
    d._ensure_worker = lambda: None          # the job only needs to be queued
    d.batch_audio.box.upload.value = (_upload(media["talk"]),)
    d.batch_videos.box.upload.value = (_upload(media["anna"]),)
    _wait_uploads(d.batch_audio, d.batch_videos)
    d.script.area.value = "  Peter bought a map.\n"
    assert d.script.widget in d.batch_tab.children[0].children       # on the Batch tab (and on Single)
    job_id = d.submit_batch()
    item = d.ws.store.claim_next()
    assert item.job_id == job_id and item.text == "Peter bought a map."
    d.set_lang("zh")
    assert d.script.title.value == "讲稿（可选）"


def test_history_cards_show_the_phonetic_figures_with_an_explanation():
    from heygem_core.jobs.records import HistoryEntry
    from heygem_core.ui.history import describe, phonetic_figures

    score = {"r": 0.57, "lag_ms": 0.0, "phonetic": {"bilabial_closure": 1.0, "chance": 0.5333,
                                                    "aperture_ratio": 1.7098, "n_bilabials": 6}}
    entry = HistoryEntry(item_id="j-1", job_id="j", output="/w/outputs/anna__talk.mp4", thumbnail=None,
                         duration=5.0, audio_name="talk.wav", video_name="anna.mp4", engine="procedural",
                         options={}, score=score, created=0.0)
    assert describe(entry, "en")[2].endswith("sync 0.57, p/b/m closed 100%")
    short, why = phonetic_figures(score, "en")
    assert "100% of p, b, m" in why and "53%" in why and "1.7×" in why and all(len(x) < 100 for x in why.splitlines())
    assert "×" not in phonetic_figures({"phonetic": {"bilabial_closure": 1.0, "chance": 0.0}}, "en")[1]
    assert "双唇闭合 100%" in describe(entry, "zh")[2]
    older = HistoryEntry(**{**entry.to_dict(), "score": {"r": 0.8}})   # scored before the phonetic figures
    assert phonetic_figures(older.score, "en") is None and describe(older, "en")[2].endswith("sync 0.80")
