"""The tuning notebook's interface, driven as a user would: uploads, parameter sets with confirmation,
previews from the button (one at a time), on change (debounced), and what is shown after a change."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from heygem_core.options import LipSyncOptions


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
    assert app.video.value == preview.path.read_bytes()
    assert (app.frame.min, app.frame.max, app.frame.value) == (20, 34, 20 + preview.open_frame)
    for picture in (app.stills, app.sync, app.mel, app.face):
        assert picture.value[:4] == b"\x89PNG"
        width = int(picture.layout.width[:-2])
        assert cv2.imdecode(np.frombuffer(picture.value, np.uint8), cv2.IMREAD_UNCHANGED).shape[1] == 2 * width
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
    assert app.preview is None and app.video.value == b"" and app.mel.value == b""
    assert app.status.value == "Settings changed: press Preview."

    assert app.render_in_background() is True
    assert app.render_button.disabled is True
    assert app.render_in_background() is False               # a second click while rendering: nothing
    assert "Already rendering" in app.status.value
    app.wait(120)
    assert app.render_button.disabled is False and app.preview.options.mouth_gain == 1.5
    previews = sorted(p.name for p in (tmp_path / "ws" / "tuning").glob("preview_*.mp4"))
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
    assert len(list((tmp_path / "ws" / "tuning").glob("preview_*.mp4"))) == 4
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
                                   app.history, app.sets.name, app.sets.pick, app.upload))
