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
            assert isinstance(widget, w.Dropdown) and list(widget.options) == list(meta["choices"])
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
    assert "broken.mp4: cannot be used" in status and "notes.txt: unsupported file type" in status
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
    assert d.tabs.titles == ("Single", "Batch", "History")
    d.lang_switch.value = "zh"
    assert d.tabs.titles == ("单个处理", "批量处理", "历史记录")
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
