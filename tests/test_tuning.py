"""Tuning: parameter sets, uploads, the speech pictures' arithmetic, the options panel, and a preview that
matches the full render."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from heygem_core.face import landmarks as L
from heygem_core.tuning import preview as tuning
from heygem_core.errors import InputError, OptionsError
from heygem_core.options import LipSyncOptions, option_fields
from heygem_core.speech import Speech

ROOT = Path(__file__).resolve().parents[1]


# -- parameter sets and uploads

def test_params_save_with_a_header_and_load_back(tmp_path):
    opts = LipSyncOptions(mouth_gain=1.25, teeth=0.3, preset="fast", checkpoint=None)
    path = tuning.save_params(opts, "promo-v2", tmp_path / "sets")
    assert path == tmp_path / "sets" / "promo-v2.yaml"
    text = path.read_text()
    assert text.startswith("# promo-v2: a parameter set saved from the tuning notebook.\n"
                           "# Differs from the defaults in: mouth_gain, teeth, preset.\n")
    assert "# Scales how far the mouth opens for a given loudness." in text
    assert tuning.load_params("promo-v2", tmp_path / "sets") == opts
    assert tuning.load_params(path, tmp_path / "elsewhere") == opts
    assert tuning.list_params(tmp_path / "sets") == ["promo-v2"]


@pytest.mark.parametrize("name", ["", "../evil", "a b", "x/y", "-x", "a" * 65])
def test_params_names_stay_inside_the_folder(tmp_path, name):
    with pytest.raises(OptionsError, match="name"):
        tuning.save_params(LipSyncOptions(), name, tmp_path)


def test_uploads_are_stored_under_a_safe_name_and_only_media_are_taken(tmp_path):
    assert tuning.save_upload("../../my talk (1).M4A", b"abc", tmp_path) == tmp_path / "my_talk_1_.M4A"
    assert (tmp_path / "my_talk_1_.M4A").read_bytes() == b"abc"
    with pytest.raises(InputError, match="not a sound, video or picture"):
        tuning.save_upload("notes.txt", b"abc", tmp_path)
    with pytest.raises(InputError, match="empty"):
        tuning.save_upload("a.wav", b"", tmp_path)
    assert tuning.list_media(tmp_path) == [tmp_path / "my_talk_1_.M4A"]


# -- speech pictures

def bursts(seconds=6.0, on=((2.0, 2.3), (2.5, 2.9), (3.1, 3.4), (3.5, 4.0))) -> Speech:
    from conftest import tone_bursts

    return Speech(tone_bursts(seconds=seconds, bursts=on))


def test_mel_window_is_16_columns_from_the_frame_time():
    assert tuning.mel_window(0, 25.0) == (0, 16)
    assert tuning.mel_window(25, 25.0) == (80, 96)          # 1 s in: column 80 of 80 per second
    assert tuning.mel_window(3, 30.0) == (8, 24)
    mel = tuning.mel_spectrogram(Speech(np.zeros(16000, np.float32)))
    assert mel.shape == (80, 81) and mel.dtype == np.float32


def test_the_mel_spectrogram_shows_where_the_speech_is():
    mel = tuning.mel_spectrogram(bursts())
    loud = mel[:, int(2.6 * 80)].max()
    quiet = mel[:, int(1.0 * 80)].max()
    assert loud > -3.0 and loud - quiet > 40.0


def test_the_preview_stretch_has_both_speech_and_pauses():
    speech = bursts()
    k0 = tuning.pick_stretch(speech, 25.0, 1.0)
    from heygem_core.speech import envelope

    env = envelope(speech, 25.0, 150)[k0:k0 + 25]
    assert env.max() > 0.8 and env.min() < 0.05
    assert tuning.pick_stretch(speech, 25.0, 10.0) == 0


def test_closed_moment_is_a_real_pause_not_a_dip_between_syllables():
    env = np.ones(50)
    env[10] = 0.0                      # one quiet frame between syllables
    env[30:37] = 0.0                   # a pause
    env[20] = 1.5
    assert tuning.open_and_closed(env, 25.0) == (20, 33)


# -- the options panel

def test_the_panel_has_a_control_per_option_with_its_range_and_choices():
    import ipywidgets as W
    from heygem_core.tuning.widgets import OptionsPanel

    panel = OptionsPanel()
    for f in option_fields():
        w = panel.controls[f.name]
        meta = f.metadata
        assert w.tooltip == meta["help"]
        if meta["choices"]:
            assert isinstance(w, W.Dropdown) and tuple(w.options) == meta["choices"]
        elif isinstance(f.default, bool):
            assert isinstance(w, W.Checkbox)
        elif meta["min"] is not None:
            assert isinstance(w, W.IntSlider if isinstance(f.default, int) else W.FloatSlider)
            assert (w.min, w.max) == (meta["min"], meta["max"])
        else:
            assert isinstance(w, W.Text)
    assert panel.options == LipSyncOptions()
    assert list(panel.tabs.titles) == ["engine", "mouth", "face", "output"]


def test_the_panel_round_trips_options_and_reports_a_bad_combination():
    from heygem_core.tuning.widgets import OptionsPanel

    opts = LipSyncOptions(mouth_gain=2.15, silence_db=-40.5, pad_top=-12, color_match=False, loop_mode="loop",
                          audio_bitrate=96_000, checkpoint="weights/w.pth")
    panel = OptionsPanel()
    panel.set_options(opts)
    assert panel.options == opts
    panel.controls["mouth_gain"].value = 1.3000000000000003       # what a dragged slider can send
    panel.controls["checkpoint"].value = "  "
    assert panel.options.mouth_gain == 1.3 and panel.options.checkpoint is None
    panel.controls["engine"].value = "wav2lip"
    assert "checkpoint" in panel.message.value
    with pytest.raises(OptionsError, match="checkpoint"):
        panel.options
    panel.reset.click()
    assert panel.options == LipSyncOptions() and panel.message.value == ""


def test_the_app_lists_uploads_and_saves_and_loads_parameter_sets(tmp_path, speech_wav, face_clip):
    from heygem_core.tuning.widgets import TuningApp

    app = TuningApp(speech_wav, face_clip, work_dir=tmp_path / "w", params_dir=tmp_path / "sets")
    assert app.audio_pick.value == str(speech_wav) and app.video_pick.value == str(face_clip)
    photo = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))[1].tobytes()
    app.upload.value = ({"name": "anna.jpg", "type": "image/jpeg", "size": len(photo), "content": memoryview(photo),
                         "last_modified": datetime.now(timezone.utc)},)
    assert app.video_pick.value == str(tmp_path / "w" / "media" / "anna.jpg")
    assert "anna.jpg" in app.status.value and app.upload.value == ()   # cleared: the same file can come again

    app.panel.controls["teeth"].value = 0.2
    app.params_name.value = "soft"
    app.save_button.click()
    assert (tmp_path / "sets" / "soft.yaml").exists() and app.params_pick.value == "soft"
    app.panel.reset.click()
    app.load_button.click()
    assert app.options == LipSyncOptions(teeth=0.2)
    app.params_name.value = "../x"
    app.save_button.click()
    assert "name" in app.params_message.value and not (tmp_path / "x.yaml").exists()


# -- the tuned sets

def test_the_tuned_sets_load_and_order_from_subtle_to_lively(speech_wav):
    from heygem_core.engines.procedural import mouth_targets
    from heygem_core.pipeline import prepare_speech

    speech = prepare_speech(speech_wav)
    mean = {}
    for name in ("news", "default", "ads"):
        opts = tuning.load_params(name, ROOT / "params")
        opening, _ = mouth_targets(speech, 25.0, 175, opts)
        mean[name] = float(np.mean(opening)), float(np.percentile(opening, 95))
    assert mean["news"][0] < 0.75 * mean["default"][0] and mean["ads"][0] > 1.3 * mean["default"][0]
    assert mean["news"][1] < mean["default"][1] < mean["ads"][1] < 0.4


# -- the preview

@pytest.fixture(scope="module")
def photo_session(tmp_path_factory, speech_wav):
    """The packaged speech (first 1.6 s) on a still photo: every frame of a full render shows the same
    template frame, so a preview frame can be compared with the full render's frame at the same time."""
    from heygem_core.media.audio import load_audio
    from heygem_core.demo import face_photo

    d = tmp_path_factory.mktemp("tune")
    audio = tuning.write_wav(d / "talk.wav", load_audio(speech_wav).samples[: int(1.6 * 16000)], 16000)
    photo = d / "face.png"
    cv2.imwrite(str(photo), cv2.resize(face_photo(), (256, 300), interpolation=cv2.INTER_AREA))
    return tuning.TuningSession(audio, photo, d / "work"), d


def test_the_preview_is_the_full_render_cut_short(photo_session):
    from heygem_core.pipeline import generate
    from heygem_core.media.video import FrameReader, probe_video

    session, d = photo_session
    opts = LipSyncOptions(crf=0)       # lossless: the two renders can be compared pixel for pixel
    preview = session.render(opts, start=0.4, seconds=0.8)
    assert (preview.start_frame, preview.frames, preview.fps) == (10, 20, 25.0)
    full = generate(session.audio, session.video, d / "full.mp4", opts, track_cache=session.cache_dir)
    lips = session.track(opts).landmarks[0][list(L.OUTER_LIPS)]
    (x0, y0), (x1, y1) = (lips.min(0) - 10).astype(int), (lips.max(0) + 10).astype(int)

    def mouths(path, ks):
        return [f[y0:y1, x0:x1].astype(np.float32) for _, f in FrameReader(probe_video(path)).frames(ks)]

    mine, theirs = mouths(preview.path, range(20)), mouths(full.output, range(10, 30))
    same = [np.abs(a - b).mean() for a, b in zip(mine, theirs)]
    shifted = [np.abs(a - b).mean() for a, b in zip(mine[3:], theirs[:-3])]
    assert max(same) < 0.5 and np.mean(shifted) > 3.0    # identical here; a 3-frame shift is not

    # stills: the template is untouched; the result's mouth is open where the speech is loud
    (t_open, r_open), (t_closed, r_closed) = preview.stills["open"], preview.stills["closed"]
    assert np.array_equal(t_open, t_closed)
    assert np.abs(r_open.astype(int) - t_open).mean() > np.abs(r_closed.astype(int) - t_closed).mean()
    assert preview.envelope[preview.open_frame] > 0.8 > 0.1 > preview.envelope[preview.closed_frame]
    assert preview.score.face_ratio == 1.0 and preview.score.r > 0.5
    assert preview.target_opening.shape == (20,)


def test_the_pictures_of_a_preview(photo_session):
    session, _ = photo_session
    preview = session.render(LipSyncOptions(), start=0.4, seconds=0.8, score=False)
    frame, lm, patch = session.face_at(preview, preview.open_frame)
    assert lm.shape == (478, 2) and patch is not None and patch.mask.max() > 0.9
    for fig in (tuning.plot_stills(preview), session.plot_mel(preview, 3).figure,
                session.plot_face(preview, preview.open_frame).figure, tuning.plot_sync(preview).figure):
        png = tuning.figure_png(fig)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    ax = session.plot_mel(preview, 5)
    shaded = [p for p in ax.patches]
    x0, x1 = shaded[0].get_x(), shaded[0].get_x() + shaded[0].get_width()
    assert (x0, x1) == pytest.approx(((10 + 5) / 25.0, (10 + 5) / 25.0 + 0.2))


def test_the_app_shows_a_preview_and_its_pictures(photo_session, tmp_path):
    from heygem_core.tuning.widgets import TuningApp

    session, _ = photo_session
    app = TuningApp(session.audio, session.video, work_dir=tmp_path / "w", params_dir=tmp_path / "sets",
                    seconds=0.6)
    app.auto_start.value = False
    app.start.value = 0.8
    preview = app.render()
    assert (preview.start_frame, preview.frames) == (20, 15)
    assert app.video.value == preview.path.read_bytes()
    assert (app.frame.min, app.frame.max, app.frame.value) == (20, 34, 20 + preview.open_frame)
    pictures = (app.stills, app.sync, app.mel, app.face)
    assert all(p.value[:4] == b"\x89PNG" for p in pictures)
    before = app.mel.value
    app.frame.value = 21 if app.frame.value != 21 else 22      # moving the slider redraws both pictures
    assert app.mel.value != before and preview.summary() in app.status.value
