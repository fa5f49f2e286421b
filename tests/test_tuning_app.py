"""The tuning notebook's interface, driven as a user would: uploads, parameter sets with confirmation,
previews from the button (one at a time), on change (debounced), and what is shown after a change."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from heygem_core.options import LipSyncOptions
from heygem_core.tuning.app import TuningApp


@pytest.fixture(autouse=True)
def user_params(tmp_path, monkeypatch):
    monkeypatch.setenv("HEYGEM_PARAMS_DIR", str(tmp_path / "user-params"))
    return tmp_path / "user-params"


@pytest.fixture(scope="module")
def talk_and_photo(tmp_path_factory, speech_wav):
    from heygem_core.demo import face_photo
    from heygem_core.media.audio import load_audio, write_wav

    d = tmp_path_factory.mktemp("tuneapp")
    audio = write_wav(d / "talk.wav", load_audio(speech_wav).samples[: int(1.6 * 16000)], 16000)
    photo = d / "face.png"
    cv2.imwrite(str(photo), cv2.resize(face_photo(), (256, 300), interpolation=cv2.INTER_AREA))
    return audio, photo


def curve_png(curve) -> tuple[np.ndarray, int]:
    """The picture inside a curve's HTML, and the width it is shown at (CSS pixels)."""
    import base64
    import re

    data = re.search(r'src="data:image/png;base64,([^"]+)"', curve.value).group(1)
    width = int(re.search(r'width="(\d+)"', curve.value).group(1))
    return cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_UNCHANGED), width


def upload(app, name, data):
    app.upload.value = ({"name": name, "type": "", "size": len(data), "content": memoryview(data),
                         "last_modified": datetime.now(timezone.utc)},)


def test_uploads_keep_their_names_in_any_script_in_the_workspace(tmp_path, talk_and_photo):
    from heygem_core.tuning.app import TuningApp

    audio, photo = talk_and_photo
    app = TuningApp(audio, photo, workspace=tmp_path / "ws")
    assert app.audio_pick.value == str(audio) and app.video_pick.value == str(photo)
    a = cv2.imencode(".jpg", np.full((64, 64, 3), 120, np.uint8))[1].tobytes()
    b = cv2.imencode(".jpg", np.full((64, 64, 3), 130, np.uint8))[1].tobytes()
    upload(app, "张三.jpg", a)
    upload(app, "李四.jpg", b)
    stored = {p.name: p.read_bytes() for p in (tmp_path / "ws" / "uploads").glob("*/*")}
    assert stored == {"张三.jpg": a, "李四.jpg": b}                  # both kept, names as given
    assert app.video_pick.value.endswith("李四.jpg") and app.upload.value == ()
    assert "李四.jpg" in app.status.value
    assert {label for label, _ in app.video_pick.options} >= {"张三.jpg", "李四.jpg", "face.png"}
    upload(app, "notes.txt", b"abc")
    assert "not a sound, video or picture" in app.status.value
    upload(app, "empty.wav", b"")
    assert "empty" in app.status.value


def test_parameter_sets_from_the_app_ask_before_replacing_and_deleting(tmp_path, talk_and_photo, user_params):
    from heygem_core.tuning import params as sets
    from heygem_core.tuning.app import TuningApp

    audio, photo = talk_and_photo
    app = TuningApp(audio, photo, workspace=tmp_path / "ws")
    assert [label for label, _ in app.sets.pick.options] == ["ads (shipped)", "default (shipped)",
                                                               "news (shipped)"]
    app.panel.inputs["teeth"].value = 0.2
    app.sets.name.value = "soft"
    app.sets.save_button.click()
    saved = user_params / "soft.yaml"
    assert saved.exists() and app.sets.pick.value == "soft"
    assert ("soft", "soft") in app.panel.sets.pick.options          # the options panel's own menu follows
    assert sets.tuned_on(saved) == {"speech": str(audio), "face": str(photo)}

    app.panel.inputs["teeth"].value = 0.4
    app.sets.save_button.click()                                  # exists: asks first
    assert "confirm" in app.sets.message.value and app.sets.save_button.description == "Replace 'soft'?"
    assert sets.load_params("soft").teeth == 0.2
    app.sets.save_button.click()                                  # confirmed
    assert sets.load_params("soft").teeth == 0.4 and app.sets.save_button.description == "Save"

    app.sets.name.value = "news"
    app.sets.save_button.click()
    assert "shipped" in app.sets.message.value
    app.sets.name.value = "../x"
    app.sets.save_button.click()
    assert "name" in app.sets.message.value and not (user_params.parent / "x.yaml").exists()

    app.panel.reset_button.click()
    app.sets.pick.value = "soft"
    app.sets.load_button.click()
    assert app.options == LipSyncOptions(teeth=0.4) and app.panel.sets.chosen == "soft"
    app.sets.delete_button.click()
    assert saved.exists() and app.sets.delete_button.description == "Delete 'soft'?"
    app.sets.delete_button.click()
    assert not saved.exists() and "soft" not in [v for _, v in app.sets.pick.options]


def test_the_app_previews_a_chosen_moment_and_shows_its_pictures(tmp_path, talk_and_photo):
    from heygem_core.tuning.app import TuningApp

    audio, photo = talk_and_photo
    app = TuningApp(audio, photo, workspace=tmp_path / "ws", seconds=0.6, start=0.8)
    assert (app.auto_start.value, app.start.value, app.start.max) == (False, 20, 25)   # 40 frames, 15 shown
    preview = app.render()
    assert (preview.start_frame, preview.frames) == (20, 15)
    assert preview.path.parent == tmp_path / "ws" / "tuning"                  # outputs go to the workspace
    assert app.video.value == preview.pair.read_bytes()                       # the side-by-side player
    assert (app.frame.min, app.frame.max, app.frame.value) == (20, 34, 20 + preview.open_frame)
    for picture in (app.stills, app.face):
        assert picture.value[:4] == b"\x89PNG"
        width = int(picture.layout.width[:-2])
        assert cv2.imdecode(np.frombuffer(picture.value, np.uint8), cv2.IMREAD_UNCHANGED).shape[1] == 2 * width
    for curve in (app.mel, app.sync):                                         # pictures that take clicks
        png, width = curve_png(curve)
        assert png.shape[1] == pytest.approx(2 * width, abs=1) and 'onclick="hgTune.click(' in curve.value
    before = app.mel.value, app.face.value, app.sync.value
    app.frame.value = 21 if app.frame.value != 21 else 22      # moving the slider moves the shared cursor
    assert all(a != b for a, b in zip(before, (app.mel.value, app.face.value, app.sync.value)))
    assert app.frame_label.value.startswith(f"frame {app.frame.value} ")
    from heygem_core import plots

    cursor = plots.plot_sync(preview, frame=app.frame.value).lines[-1]
    assert list(cursor.get_xdata()) == pytest.approx([app.frame.value / 25.0] * 2)
    assert preview.summary() in app.status.value
    with pytest.raises(Exception, match="can start from 0 to 1.00 s"):
        TuningApp(audio, photo, workspace=tmp_path / "ws", seconds=0.6, start=1.2)


def test_a_change_clears_what_is_shown_and_previews_run_one_at_a_time(tmp_path, talk_and_photo):
    from heygem_core.tuning import app as tuning_app

    audio, photo = talk_and_photo
    app = tuning_app.TuningApp(audio, photo, workspace=tmp_path / "ws", seconds=0.4, start=0.0)
    app.render()
    app.panel.inputs["mouth_gain"].value = 1.5
    assert app.preview is None and app.video.value == b"" and app.mel.value == ""
    assert app.status.value == "Settings changed: press Preview."

    assert app.render_in_background() is True
    assert app.render_button.disabled is True
    assert app.render_in_background() is False               # a second click while rendering: nothing
    assert "Already rendering" in app.status.value
    app.wait(120)
    assert app.render_button.disabled is False and app.preview.options.mouth_gain == 1.5
    previews = sorted(p.name for p in (tmp_path / "ws" / "tuning").glob("preview_[0-9][0-9][0-9].mp4"))
    assert previews == ["preview_001.mp4", "preview_002.mp4"]

    # a change while it renders: the preview is kept in the history but not shown as the current one
    assert app.render_in_background() is True
    app.panel.inputs["mouth_gain"].value = 1.6
    app.wait(120)
    assert app.preview is None and app.status.value == "Settings changed: press Preview."
    assert [label.split(":")[0] for label, _ in app.history.options] == ["#3", "#2", "#1"]

    # preview on change: three quick changes give one render, with the last settings
    app.auto.value = True
    for gain in (1.1, 1.2, 1.3):
        app.panel.inputs["mouth_gain"].value = gain
    app.wait(120)
    assert app.preview.options.mouth_gain == 1.3
    assert len(list((tmp_path / "ws" / "tuning").glob("preview_[0-9][0-9][0-9].mp4"))) == 4
    assert [label.split(":")[0] for label, _ in app.history.options] == ["#4", "#3", "#2", "#1"]
    app.history.value = 1                                    # an earlier preview, shown again
    assert app.preview.number == 1 and app.preview.options.mouth_gain == 1.0


def test_render_full_video_queues_it_in_the_workspace_with_these_options(tmp_path, talk_and_photo):
    from heygem_core.jobs.worker import Worker
    from heygem_core.tuning.app import TuningApp

    audio, photo = talk_and_photo
    app = TuningApp(audio, photo, workspace=tmp_path / "ws")
    app.panel.inputs["mouth_gain"].value = 1.4
    job = app.render_full(start_worker=False)
    assert job in app.status.value and str(tmp_path / "ws" / "outputs") in app.status.value
    assert Worker(app.workspace.root, idle_exit=0).run() == 1              # what the started worker does
    (entry,) = app.workspace.store.history()
    output = app.workspace.root / entry.output if not Path(entry.output).is_absolute() else Path(entry.output)
    assert output.is_file() and output.parent == (tmp_path / "ws" / "outputs").absolute()
    assert LipSyncOptions.from_dict(entry.options) == LipSyncOptions(mouth_gain=1.4)


def test_the_app_speaks_chinese_too(tmp_path, talk_and_photo):
    from heygem_core.tuning.app import TuningApp

    audio, photo = talk_and_photo
    app = TuningApp(audio, photo, workspace=tmp_path / "ws", lang="zh")
    assert (app.render_button.description, app.full_button.description) == ("预览", "渲染完整视频")
    assert app.panel.inputs["mouth_gain"].description == "张嘴幅度" and app.sets.save_button.description == "保存"
    assert app.panel.sections.titles[1] == "口型"
    assert all(w.tooltip for w in (app.audio_pick, app.video_pick, app.seconds, app.start, app.frame,
                                   app.history, app.sets.name, app.sets.pick, app.upload, app.batch_videos,
                                   app.batch_add, app.batch_name, app.batch_button))
    assert (app.batch_button.description, app.script.title.value) == ("发送到批处理", "讲稿（可选）")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_the_player_shows_template_and_result_side_by_side_frame_for_frame(tmp_path, talk_and_photo):
    """The player's one video: left the template's frames of the window, right the preview's, both cropped
    to the face, with the window's sound, so one play, pause or seek moves both."""
    from heygem_core.media.audio import load_audio
    from heygem_core.media.video import FrameReader, probe_video
    from heygem_core.tuning.session import PAIR_GAP

    audio, photo = talk_and_photo
    app = TuningApp(audio, photo, workspace=tmp_path / "ws", seconds=0.6, start=0.8)
    app.panel.inputs["mouth_gain"].value = 1.8          # a mouth that surely differs from the template's
    preview = app.render()
    pair, result = probe_video(preview.pair), probe_video(preview.path)
    assert (pair.frame_count, pair.fps) == (preview.frames, preview.fps)
    assert abs(load_audio(preview.pair).duration - preview.frames / preview.fps) < 0.05
    x0, y0, x1, y1 = preview.crop
    w = (pair.width - PAIR_GAP) // 2
    template = cv2.imread(str(photo))[y0:y1, x0:x1]
    template = cv2.resize(template, (w, pair.height), interpolation=cv2.INTER_AREA)
    k = preview.open_frame
    (_, both), = FrameReader(pair).frames([k])
    (_, made), = FrameReader(result).frames([k])
    made = cv2.resize(made[y0:y1, x0:x1], (w, pair.height), interpolation=cv2.INTER_AREA)
    left, right = both[:, :w], both[:, w + PAIR_GAP:]
    assert psnr(left, template) > 30 and psnr(right, made) > 30          # each side is what it says
    assert psnr(left, right) < psnr(right, made) - 3                       # and the two differ (the mouth)


def test_a_click_on_a_curve_moves_the_frame_and_the_player_and_the_player_moves_the_frame(tmp_path, talk_and_photo):
    import json
    import re

    audio, photo = talk_and_photo
    app = TuningApp(audio, photo, workspace=tmp_path / "ws", seconds=0.6, start=0.8)
    preview = app.render()
    assert app.player.uid in app.mel.value and f"hg-tune-{app.player.uid}" in app.video._dom_classes

    sent = iter(range(1000))

    def click(curve, frame):      # where the browser reports a click: the fraction of the picture's width
        x = app.player.axes[curve].x_of(frame / preview.fps)
        app.player.inbox.value = json.dumps({"kind": "click", "curve": curve, "x": x, "n": next(sent)})

    def seek():
        found = re.search(r"hgTune\.seek\('(\w+)', ([\d.]+)\)", app.player.bridge.value)
        return found and (found.group(1), float(found.group(2)))

    before = app.mel.value, app.face.value, app.sync.value
    click("sync", 31)
    assert app.frame.value == 31 and app.frame_label.value.startswith("frame 31 ")
    assert all(a != b for a, b in zip(before, (app.mel.value, app.face.value, app.sync.value)))
    assert seek() == (app.player.uid, pytest.approx((31 - 20 + 0.25) / 25))    # the player goes there too
    click("mel", 22)
    assert app.frame.value == 22 and seek()[1] == pytest.approx((22 - 20 + 0.25) / 25)
    shown = app.player.bridge.value
    click("mel", 22)                                        # the same frame again: the player is put back
    assert app.player.bridge.value != shown and seek()[1] == pytest.approx(0.09)

    # the player paused or seeked by hand: the frame follows (the frame on screen), no seek back
    shown = app.player.bridge.value
    app.player.inbox.value = json.dumps({"kind": "video", "t": (27 - 20 + 0.6) / 25, "n": 1})
    assert app.frame.value == 27 and app.player.bridge.value == shown
    # moving the frame slider moves the player
    app.frame.value = 33
    assert seek()[1] == pytest.approx((33 - 20 + 0.25) / 25)

    # what cannot be used changes nothing
    for message in ("not json", json.dumps({"kind": "click", "curve": "sync", "x": 0.001}),
                    json.dumps({"kind": "click", "curve": "nope", "x": 0.5}), json.dumps({"kind": "other"})):
        app.player.inbox.value = message
        assert app.frame.value == 33


def test_the_script_box_reaches_previews_and_full_renders(tmp_path, talk_and_photo):
    """The script typed in the tuner shapes the preview's mouth (it is aligned to the speech, as in a full
    render with ``--text``) and goes with the job a full render queues."""
    import shutil
    import subprocess

    from heygem_core.media.audio import load_audio, write_wav
    from heygem_core.phonetic import viseme_timeline

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng not installed (make test installs it as root)")
    words = "Bob, my mom made a map. Pam bought a big bump of bubble gum."      # as tests/test_phonetic.py
    spoken = tmp_path / "bob.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", "140", "-w", str(spoken), words], check=True)
    talk = write_wav(tmp_path / "talk.wav", load_audio(spoken, sample_rate=16000, mono=True).samples, 16000)
    _, photo = talk_and_photo
    (tmp_path / "bob.txt").write_text(words + "\n", encoding="utf-8")

    app = TuningApp(talk, photo, workspace=tmp_path / "ws", seconds=1.0, start=0.0, text=tmp_path / "bob.txt")
    assert app.script.area.value == words                          # a .txt file's words are put in the box
    with_script = app.render()
    assert with_script.text == words and "script: 14 words" in app.status.value
    assert viseme_timeline(app.session.speech, words).source.startswith("text")   # the words fit the speech
    app.script.area.value = ""
    assert app.preview is None                                      # a new script makes the preview stale
    without = app.render()
    assert without.text is None and app.session.speech.text is None
    assert not np.allclose(with_script.target_opening, without.target_opening)   # the script shapes the mouth

    app.script.area.value = "  " + words + "\n"
    job = app.render_full(start_worker=False)
    item = app.workspace.store.claim_next()
    assert item.job_id == job and item.text == words


def test_send_to_batch_saves_the_set_and_queues_the_ticked_videos_that_then_run(tmp_path, talk_and_photo,
                                                                                user_params):
    from heygem_core.jobs.worker import Worker
    from heygem_core.tuning import params as sets

    audio, photo = talk_and_photo
    other = tmp_path / "aaa.png"        # first in the list: adding it must not make it the face being tuned
    cv2.imwrite(str(other), cv2.flip(cv2.imread(str(photo)), 1))
    app = TuningApp(audio, photo, workspace=tmp_path / "ws")
    app.start_worker = False                # the buttons only queue; this test runs the worker itself
    assert app.batch_videos.value == (str(photo),)                    # the template being tuned is ticked
    app.batch_add.value = "nowhere/*.mp4"
    assert "no video or photo matches this pattern (looked in " in app.batch_message.value
    app.render()
    app.batch_add.value = str(tmp_path / "aa*.png")                   # templates on disk, by pattern
    second = str(other)
    assert app.batch_videos.value == (str(photo), second) and "Added and ticked 1 video" in app.batch_message.value
    assert app.batch_add.value == "" and app.video_pick.options[0] == ("aaa.png", second)
    assert (app.audio_pick.value, app.video_pick.value) == (str(audio), str(photo))    # still what is tuned
    assert app.preview is not None and app.video.value                  # and what is shown stays

    app.batch_videos.value = ()
    app.batch_name.value = "lecture"
    app.batch_button.click()
    assert "tick at least one" in app.batch_message.value
    app.batch_videos.value = (str(photo), second)
    app.batch_name.value = ""
    app.batch_button.click()
    assert "give the settings a name" in app.batch_message.value
    assert app.workspace.store.list_jobs() == []

    app.panel.inputs["mouth_gain"].value = 1.3
    app.script.area.value = "Peter bought a map."
    app.batch_name.value = "lecture"
    job = app.send_to_batch()
    assert job in app.batch_message.value and "2 video(s)" in app.batch_message.value
    assert sets.load_params("lecture") == LipSyncOptions(mouth_gain=1.3)        # kept as the user's set
    assert sets.tuned_on(user_params / "lecture.yaml")["face"] == str(photo)         # what it was tuned on
    record = app.workspace.store.get_job(job)
    assert [Path(i.video).name for i in record.items] == ["face.png", "aaa.png"]
    assert LipSyncOptions.from_dict(record.options) == LipSyncOptions(mouth_gain=1.3)
    import sqlite3

    with sqlite3.connect(app.workspace.root / "jobs.sqlite") as db:               # the script goes with it
        assert db.execute("SELECT text FROM jobs WHERE id = ?", (job,)).fetchone()[0] == "Peter bought a map."
    assert Worker(app.workspace.root, idle_exit=0).run() == 2          # what the started worker does
    done = app.workspace.store.history()
    assert sorted(Path(e.output).name for e in done) == ["aaa__talk.mp4", "face__talk.mp4"]
    assert all(LipSyncOptions.from_dict(e.options) == LipSyncOptions(mouth_gain=1.3) for e in done)

    # the same name with other options: a second click replaces the set, then sends
    app.panel.inputs["mouth_gain"].value = 0.8
    app.batch_button.click()
    assert app.batch_button.description == "Replace 'lecture'?" and len(app.workspace.store.list_jobs()) == 1
    assert "click again" in app.batch_message.value and sets.load_params("lecture").mouth_gain == 1.3
    app.batch_button.click()
    assert app.batch_button.description == "Send to batch" and len(app.workspace.store.list_jobs()) == 2
    assert sets.load_params("lecture").mouth_gain == 0.8
    # a shipped set's name is never replaced
    app.batch_name.value = "news"
    app.batch_button.click()
    assert "shipped parameter set" in app.batch_message.value and len(app.workspace.store.list_jobs()) == 2
