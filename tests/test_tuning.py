"""Tuning: parameter sets, uploads, the speech arithmetic, the options panel, previews of any window that
match the full render, and the app around them."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from heygem_core import plots
from heygem_core.errors import InputError, OptionsError, ParamsExist
from heygem_core.face import landmarks as L
from heygem_core.options import LipSyncOptions, option_fields
from heygem_core.speech import Speech
from heygem_core.tuning import params as sets
from heygem_core.tuning.session import TuningSession, open_and_closed, pick_stretch


@pytest.fixture(autouse=True)
def user_params(tmp_path, monkeypatch) -> Path:
    """The user's parameter folder, private to each test."""
    folder = tmp_path / "user-params"
    monkeypatch.setenv("HEYGEM_PARAMS_DIR", str(folder))
    return folder


# -- parameter sets

def test_params_save_with_a_header_and_the_media_and_load_back(user_params):
    opts = LipSyncOptions(mouth_gain=1.25, teeth=0.3, preset="fast", checkpoint=None)
    path = sets.save_params(opts, "promo-v2", media={"speech": "/m/张三.wav", "face": "/m/anna.mp4"})
    assert path == user_params / "promo-v2.yaml"
    text = path.read_text()
    assert text.startswith("# promo-v2: a parameter set saved from the tuning notebook.\n"
                           "# Differs from the defaults in: mouth_gain, teeth, preset.\n"
                           "# tuned on: speech=/m/张三.wav; face=/m/anna.mp4\n")
    assert "# Scales how far the mouth opens for a given loudness." in text
    assert sets.tuned_on(path) == {"speech": "/m/张三.wav", "face": "/m/anna.mp4"}
    assert sets.load_params("promo-v2") == opts
    assert sets.load_params(path) == opts
    # the one loader the CLI and batches use finds the user's set by name too
    assert LipSyncOptions.load("promo-v2", crf=30) == LipSyncOptions(**{**opts.to_dict(), "crf": 30})


def test_the_load_list_has_parameter_sets_only_shipped_first(user_params):
    sets.save_params(LipSyncOptions(teeth=0.1), "mine")
    (user_params / "a_batch.yaml").write_text("audio: talk.wav\nvideos: [a.mp4]\n")
    found = sets.list_params()
    assert [(s.name, s.shipped) for s in found] == [("ads", True), ("default", True), ("news", True),
                                                    ("mine", False)]
    assert [s.label for s in found][:1] == ["ads (shipped)"]
    with pytest.raises(OptionsError, match="not a parameter set"):
        sets.load_params("a_batch")


def test_saving_never_replaces_a_shipped_set_and_asks_before_replacing_ones_own(user_params):
    from heygem_core.resources import shipped_params_dir

    before = {p.name: p.read_bytes() for p in shipped_params_dir().glob("*.yaml")}
    for name in ("news", "default", "ads", "example_batch", "news.yaml"):
        with pytest.raises(OptionsError, match="shipped"):
            sets.save_params(LipSyncOptions(teeth=0.0), name)
    assert {p.name: p.read_bytes() for p in shipped_params_dir().glob("*.yaml")} == before
    sets.save_params(LipSyncOptions(teeth=0.1), "mine")
    with pytest.raises(ParamsExist, match="confirm"):
        sets.save_params(LipSyncOptions(teeth=0.2), "mine")
    assert sets.load_params("mine").teeth == 0.1
    sets.save_params(LipSyncOptions(teeth=0.2), "mine", replace=True)
    assert sets.load_params("mine").teeth == 0.2


def test_rename_and_delete_ones_own_sets_only(user_params):
    sets.save_params(LipSyncOptions(teeth=0.1), "mine", media={"face": "anna.mp4"})
    sets.save_params(LipSyncOptions(), "other")
    with pytest.raises(ParamsExist):
        sets.rename_params("mine", "other")
    path = sets.rename_params("mine", "promo")
    assert path == user_params / "promo.yaml" and not (user_params / "mine.yaml").exists()
    assert sets.load_params("promo").teeth == 0.1 and sets.tuned_on(path) == {"face": "anna.mp4"}
    for action in (lambda: sets.delete_params("news"), lambda: sets.rename_params("news", "x")):
        with pytest.raises(OptionsError, match="shipped"):
            action()
    with pytest.raises(OptionsError, match="no parameter set 'gone'"):
        sets.delete_params("gone")
    sets.delete_params("promo")
    assert [s.name for s in sets.list_params() if not s.shipped] == ["other"]


@pytest.mark.parametrize("name", ["", "../evil", "a b", "x/y", "-x", ".hidden", "a" * 65])
def test_params_names_stay_inside_the_folder(tmp_path, name):
    with pytest.raises(OptionsError, match="name"):
        sets.save_params(LipSyncOptions(), name, tmp_path)


def test_a_missing_set_says_where_it_looked(user_params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEYGEM_PROJECT", str(tmp_path / "project"))
    with pytest.raises(OptionsError, match=f"no parameter set 'nope' in .*params or {user_params}"):
        sets.load_params("nope")
    with pytest.raises(InputError, match=rf"no such file \(looked in {tmp_path} and {tmp_path / 'project'}\)"):
        sets.load_params("sub/nope.yaml")
    (tmp_path / "project" / "sub").mkdir(parents=True)
    LipSyncOptions(teeth=0.25).to_yaml(tmp_path / "project" / "sub" / "nope.yaml")
    assert sets.load_params("sub/nope.yaml").teeth == 0.25          # found in the project


def test_the_tuned_sets_load_and_order_from_subtle_to_lively(speech_wav):
    from heygem_core.engines.procedural import mouth_targets
    from heygem_core.pipeline import prepare_speech

    speech = prepare_speech(speech_wav)
    mean = {}
    for name in ("news", "default", "ads"):
        opening, _ = mouth_targets(speech, 25.0, 175, sets.load_params(name))
        mean[name] = float(np.mean(opening)), float(np.percentile(opening, 95))
    assert mean["news"][0] < 0.75 * mean["default"][0] and mean["ads"][0] > 1.3 * mean["default"][0]
    assert mean["news"][1] < mean["default"][1] < mean["ads"][1] < 0.4


# -- speech arithmetic

def bursts(seconds=6.0, on=((2.0, 2.3), (2.5, 2.9), (3.1, 3.4), (3.5, 4.0))) -> Speech:
    from conftest import tone_bursts

    return Speech(tone_bursts(seconds=seconds, bursts=on))


def test_the_preview_stretch_has_both_speech_and_pauses():
    from heygem_core.speech import envelope

    speech = bursts()
    k0 = pick_stretch(speech, 25.0, 1.0)
    env = envelope(speech, 25.0, 150)[k0:k0 + 25]
    assert env.max() > 0.8 and env.min() < 0.05
    assert pick_stretch(speech, 25.0, 10.0) == 0


def test_closed_moment_is_a_real_pause_not_a_dip_between_syllables():
    env = np.ones(50)
    env[10] = 0.0                      # one quiet frame between syllables
    env[30:37] = 0.0                   # a pause
    env[20] = 1.5
    assert open_and_closed(env, 25.0) == (20, 33)


def test_the_spectrogram_is_wav2lips_own_input_with_the_frames_window():
    from heygem_core.engines.wav2lip.mel import speech_mel

    speech = bursts()
    ax = plots.plot_mel(speech, 25.0, 60, (2.0, 3.0))        # frame 60 = 2.4 s: columns 192 … 207
    image = ax.images[0].get_array()
    assert np.array_equal(np.asarray(image), speech_mel(speech)[:, 160:240])
    box = ax.patches[0]
    assert (box.get_x(), box.get_x() + box.get_width()) == pytest.approx((2.4, 2.6))
    loud, quiet = image[:, int((2.6 - 2.0) * 80)].max(), image[:, int((2.95 - 2.0) * 80)].max()
    assert loud > 0 > quiet
    # the last frames hear the last 16 columns, as the model is fed
    ax = plots.plot_mel(speech, 25.0, 149)
    assert ax.patches[0].get_x() + ax.patches[0].get_width() == pytest.approx(speech_mel(speech).shape[1] / 80)


def test_figures_come_as_sharp_pngs_with_their_display_size():
    ax = plots.plot_mel(bursts(), 25.0, 10, (0.0, 1.0))
    png, (w, h) = plots.figure_png(ax)
    import io

    from PIL import Image

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(png)).size == pytest.approx((2 * w, 2 * h), abs=1)
    assert 500 < w < 700 and 150 < h < 260


@pytest.mark.parametrize("make", ["sync", "mel"])
@pytest.mark.parametrize("when", [0.93, 1.27, 1.61])
def test_a_click_on_a_curve_is_the_time_drawn_under_it(make, when):
    """A line drawn at a known time is found in the PNG; the picture's time axis maps its column back to
    that time (within a pixel), and a time to that column, on both curves the player shares."""
    import io

    from PIL import Image

    if make == "mel":
        ax = plots.plot_mel(bursts(), 25.0, 30, (0.8, 1.8))
    else:
        ax = plots._axes(7.2, 2.4)
        ax.plot([0.8, 1.8], [0.0, 0.3])
        ax.set(xlim=(0.8, 1.8), xlabel="time (s)", ylabel="opening", title="sync r = 0.70 at +40 ms")
    ax.axvline(when, color=(0.0, 1.0, 0.0), lw=1.0)
    png, (w, h) = plots.figure_png(ax)
    axis = plots.time_axis(ax)
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    green = (rgb[..., 1] > 200) & (rgb[..., 0] < 80) & (rgb[..., 2] < 80)
    rows, cols = np.nonzero(green)
    column = (cols.min() + cols.max() + 1) / 2 / rgb.shape[1]          # the line's middle, as a fraction
    pixel = 1.0 / rgb.shape[1]
    seconds_per_pixel = (axis.t1 - axis.t0) / ((axis.right - axis.left) * rgb.shape[1])
    assert axis.time_at(column) == pytest.approx(when, abs=1.5 * seconds_per_pixel)
    assert axis.x_of(when) == pytest.approx(column, abs=1.5 * pixel)
    assert axis.top * rgb.shape[0] == pytest.approx(rows.min(), abs=2)        # the plot area's height too
    assert axis.bottom * rgb.shape[0] == pytest.approx(rows.max() + 1, abs=2)
    assert axis.time_at(axis.left / 2) is None and axis.time_at((1 + axis.right) / 2) is None   # the margins


def test_a_time_is_the_frame_on_screen_or_the_nearest_frame_mark():
    from heygem_core.tuning.session import Preview

    p = Preview(path=Path("p.mp4"), number=1, options=LipSyncOptions(), start_frame=20, frames=15, fps=25.0,
                total_frames=40, template_frames=np.zeros(15, int), envelope=np.zeros(15), open_frame=0,
                closed_frame=0, stills={})
    assert p.frame_at(1.0) == 25 and p.frame_at(1.038) == 25 and p.frame_at(1.039, nearest=True) == 26
    assert p.frame_at((26 + 0.25) / 25) == 26                         # where the app seeks: a quarter in
    assert p.frame_at(0.0) == 20 and p.frame_at(9.0, nearest=True) == 34    # within the window


def test_the_dashboard_and_the_tuner_share_one_word_lookup():
    from heygem_core.tuning import words
    from heygem_core.ui import i18n

    assert words.tr.__code__ is i18n.tr.__code__                      # one function, two tables
    assert words.tr("queued", "en", job="j1", folder="out") == "Queued as job j1; the result will be in out"
    assert i18n.tr("queued", "zh", n=2) == "已加入队列：2 个视频。"
    assert (words.tr("send", "zh"), i18n.tr("script", "en")) == ("发送到批处理", "Script (optional)")
    with pytest.raises(KeyError):
        words.tr("no such words", "en")


# -- the options panel (one for the dashboard and the notebook)

def test_the_panel_has_a_control_per_option_with_its_range_choices_and_help():
    import ipywidgets as W

    from heygem_core.ui.options_panel import OptionsPanel

    panel = OptionsPanel("en")
    for f in option_fields():
        w = panel.inputs[f.name]
        meta = f.metadata
        assert w.tooltip == meta["help"] and w.description and "_" not in w.description
        if meta["choices"]:
            values = tuple(o[1] if isinstance(o, tuple) else o for o in w.options)   # (words, value) pairs
            assert isinstance(w, W.Dropdown) and values == meta["choices"]
        elif isinstance(f.default, bool):
            assert isinstance(w, W.Checkbox)
        elif meta["min"] is not None:
            assert isinstance(w, W.IntSlider if isinstance(f.default, int) else W.FloatSlider)
            assert (w.min, w.max) == (meta["min"], meta["max"])
        else:
            assert isinstance(w, W.Text)
    assert panel.options() == LipSyncOptions()
    assert panel.inputs["silence_db"].description == "Silence (dB)"
    panel.set_lang("zh")
    assert panel.inputs["silence_db"].description == "静音阈值 (dB)"
    assert panel.inputs["silence_db"].tooltip.startswith("低于语音峰值")


def test_the_panel_round_trips_options_and_reports_a_bad_combination():
    from heygem_core.ui.options_panel import OptionsPanel

    opts = LipSyncOptions(mouth_gain=2.15, silence_db=-40.5, pad_top=-12, color_match=False, loop_mode="loop",
                          audio_bitrate=96_000, checkpoint="weights/w.pth")
    panel = OptionsPanel("en")
    panel.set_options(opts)
    assert panel.options() == opts
    panel.inputs["mouth_gain"].value = 1.3000000000000003       # what a dragged slider can send
    panel.inputs["checkpoint"].value = "  "
    assert panel.options().mouth_gain == 1.3 and panel.options().checkpoint is None
    panel.inputs["engine"].value = "wav2lip"
    assert "checkpoint" in panel.message.value
    with pytest.raises(OptionsError, match="checkpoint"):
        panel.options()
    panel.reset_button.click()
    assert panel.options() == LipSyncOptions() and panel.message.value == ""


def test_options_that_differ_from_the_defaults_are_marked_and_reset_one_by_one():
    from heygem_core.ui.options_panel import OptionsPanel

    panel = OptionsPanel("en", initial=LipSyncOptions(teeth=0.3, crf=23))
    assert panel.changed() == ["teeth", "crf"]
    assert "hg-changed" in panel.inputs["teeth"]._dom_classes and "hg-changed" not in panel.inputs["rounding"]._dom_classes
    assert panel.resets["teeth"].layout.visibility == "visible" and panel.resets["rounding"].layout.visibility == "hidden"
    assert panel.resets["teeth"].tooltip == "Back to the default: 0.55"
    panel.resets["teeth"].click()
    assert panel.options() == LipSyncOptions(crf=23) and "hg-changed" not in panel.inputs["teeth"]._dom_classes
    assert panel.resets["teeth"].layout.visibility == "hidden"


def test_options_the_engine_does_not_read_are_disabled():
    from heygem_core.ui.options_panel import ENGINE_ONLY, OptionsPanel

    panel = OptionsPanel("en")
    disabled = {name for name, w in panel.inputs.items() if w.disabled}
    assert disabled == set(ENGINE_ONLY["wav2lip"]) and {"checkpoint", "device", "batch_size"} <= disabled
    panel.inputs["engine"].value = "wav2lip"
    assert {name for name, w in panel.inputs.items() if w.disabled} == set(ENGINE_ONLY["procedural"])


# -- previews

@pytest.fixture(scope="module")
def photo_session(tmp_path_factory, speech_wav):
    """The packaged speech (first 1.6 s) on a still photo: every frame of a full render shows the same
    template frame, so a preview frame can be compared with the full render's frame at the same time."""
    from heygem_core.demo import face_photo
    from heygem_core.media.audio import load_audio, write_wav

    d = tmp_path_factory.mktemp("tune")
    audio = write_wav(d / "talk.wav", load_audio(speech_wav).samples[: int(1.6 * 16000)], 16000)
    photo = d / "face.png"
    cv2.imwrite(str(photo), cv2.resize(face_photo(), (256, 300), interpolation=cv2.INTER_AREA))
    return TuningSession(audio, photo, d / "work"), d


def test_the_preview_is_the_full_render_cut_short(photo_session):
    from heygem_core.media.video import FrameReader, probe_video
    from heygem_core.pipeline import generate

    session, d = photo_session
    opts = LipSyncOptions(crf=0)       # lossless: the two renders can be compared pixel for pixel
    preview = session.render(opts, start=0.4, seconds=0.8)
    assert (preview.start_frame, preview.frames, preview.fps, preview.total_frames) == (10, 20, 25.0, 40)
    full = generate(session.audio, session.video, d / "full.mp4", opts, track_cache=session.cache_dir)
    lips = session.track(opts).landmarks[0][list(L.OUTER_LIPS)]
    (x0, y0), (x1, y1) = (lips.min(0) - 10).astype(int), (lips.max(0) + 10).astype(int)

    def mouths(path, ks):
        return [f[y0:y1, x0:x1].astype(np.float32) for _, f in FrameReader(probe_video(path)).frames(ks)]

    mine, theirs = mouths(preview.path, range(20)), mouths(full.output, range(10, 30))
    same = [np.abs(a - b).mean() for a, b in zip(mine, theirs)]
    shifted = [np.abs(a - b).mean() for a, b in zip(mine[3:], theirs[:-3])]
    assert max(same) < 0.5 and np.mean(shifted) > 3.0    # identical here; a 3-frame shift is not
    assert probe_video(preview.path).has_audio

    # stills: the template is untouched; the result's mouth is open where the speech is loud
    (t_open, r_open), (t_closed, r_closed) = preview.stills["open"], preview.stills["closed"]
    assert np.array_equal(t_open, t_closed)
    assert np.abs(r_open.astype(int) - t_open).mean() > np.abs(r_closed.astype(int) - t_closed).mean()
    assert preview.envelope[preview.open_frame] > 0.8 > 0.1 > preview.envelope[preview.closed_frame]
    assert preview.score.face_ratio == 1.0 and preview.score.r > 0.5
    assert preview.target_opening.shape == (20,)
    assert preview.frame_label(0) == "frame 10 (template frame 0)"


def test_a_preview_can_start_anywhere_and_no_further_than_a_whole_preview_fits(photo_session):
    session, _ = photo_session
    assert session.window(LipSyncOptions(), 0.8, 0.8) == (20, 40)
    with pytest.raises(OptionsError, match=r"can start from 0 to 0\.80 s \(frame 20\)"):
        session.window(LipSyncOptions(), 0.8, 0.84)
    first, end = session.window(LipSyncOptions(), 0.8)       # a lively stretch, inside the result
    assert 0 <= first and end == first + 20 <= 40


def test_a_preview_mid_clip_shows_the_template_frames_of_that_moment(tmp_path, speech_wav):
    """A 1 s moving clip under 3 s of speech plays forward and back: the window at 0.8 s … 1.6 s shows
    template frames 20 … 24, 23 … 9 (not the clip's first frames)."""
    from heygem_core.demo import demo_face_clip
    from heygem_core.media.audio import load_audio, write_wav
    from heygem_core.media.timeline import template_indices
    from heygem_core.media.video import FrameReader, probe_video

    audio = write_wav(tmp_path / "talk.wav", load_audio(speech_wav).samples[: 3 * 16000], 16000)
    clip = demo_face_clip(tmp_path / "clip.mp4", seconds=1.0, size=(240, 270))
    session = TuningSession(audio, clip, tmp_path / "work")
    preview = session.render(LipSyncOptions(crf=10), start=0.8, seconds=0.8, score=False)
    expected = template_indices(75, 25, "pingpong")[20:40]
    assert list(preview.template_frames) == list(expected) and expected[5] == 23 and expected[-1] == 9

    top = slice(0, 90)                 # above the mouth: the template, untouched
    template = {j: f[top].astype(np.float32) for j, f in FrameReader(probe_video(clip)).frames(range(25))}
    shown = [f[top].astype(np.float32) for _, f in FrameReader(probe_video(preview.path)).frames(range(20))]
    closest = [min(template, key=lambda j: np.abs(s - template[j]).mean()) for s in shown]
    assert closest == list(expected)        # each frame shown is the template frame of that moment


def test_previews_are_numbered_on_and_never_overwritten(photo_session):
    session, _ = photo_session
    session.render(LipSyncOptions(), start=0.0, seconds=0.4, score=False)
    before = {p.name: p.stat().st_mtime_ns for p in session.work_dir.glob("preview_*.mp4")}
    other = TuningSession(session.audio, session.video, session.work_dir)      # a new session, same folder
    preview = other.render(LipSyncOptions(), start=0.0, seconds=0.4, score=False)
    assert preview.path.name not in before and preview.number == max(int(n[8:11]) for n in before) + 1
    assert all(session.work_dir.joinpath(n).stat().st_mtime_ns == t for n, t in before.items())


def test_the_pictures_of_a_preview(photo_session):
    session, _ = photo_session
    preview = session.render(LipSyncOptions(), start=0.4, seconds=0.8, score=False)
    image, lm, patch = session.face_at(preview, preview.frame(preview.open_frame))
    assert lm.shape == (478, 2) and patch is not None and patch.mask.max() > 0.9
    for fig in (plots.plot_stills(preview), session.plot_mel(preview, 13), session.plot_face(preview, 13),
                plots.plot_sync(preview)):
        png, _ = plots.figure_png(fig)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    ax = session.plot_mel(preview, 15)                                   # output frame 15 = 0.6 s
    x0 = ax.patches[0].get_x()
    assert (x0, x0 + ax.patches[0].get_width()) == pytest.approx((0.6, 0.8))
    face = session.plot_face(preview, 15)
    assert face.get_title() == "frame 15 (template frame 0)"
    # the mask is outlined, not painted: the face shown is the template's own pixels
    x0, y0, x1, y1 = plots.crop_box([L.face_box(lm)], image.shape[1], image.shape[0], 0.2)
    assert np.array_equal(np.asarray(face.images[0].get_array()), image[..., ::-1][y0:y1, x0:x1])
    from matplotlib.contour import ContourSet

    assert sum(isinstance(c, ContourSet) for c in face.collections + face.get_children()) >= 1


def test_the_viseme_strip_colours_each_moment_by_its_mouth_shape():
    import io

    from PIL import Image

    from heygem_core.phonetic import Viseme, VisemeTimeline
    from heygem_core.phonetic.recognise import Phone

    n = 200                                                     # 2 s of 10 ms hops
    vis = np.full(n, Viseme.REST, np.int8)
    vis[50:60] = Viseme.PRESSED                                # p b m at 0.50 … 0.60 s
    vis[60:90] = Viseme.OPEN                                   # a at 0.60 … 0.90 s
    vis[120:140] = Viseme.ROUND                                # o at 1.20 … 1.40 s
    openness = np.where(vis == Viseme.OPEN, 1.0, 0.0)
    tl = VisemeTimeline(viseme=vis, openness=openness, spread=np.zeros(n), pressed=vis == Viseme.PRESSED,
                        labiodental=np.zeros(n, bool), loudness=np.zeros(n),
                        phones=[Phone("M", 0.5, 0.6), Phone("AA", 0.6, 0.9), Phone("OW", 1.2, 1.4)])
    ax = plots.plot_visemes(tl, 25.0, 30, (0.4, 1.6))
    assert np.array_equal(np.asarray(ax.images[0].get_array())[0], vis[40:160])
    assert [t.get_text() for t in ax.texts] == ["m", "aa", "ow"]
    png, _ = plots.figure_png(ax)
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    axis = plots.time_axis(ax)
    row = int(rgb.shape[0] * (axis.top + 0.1 * (axis.bottom - axis.top)))    # above the opening line
    for seconds, viseme in ((0.52, Viseme.PRESSED), (1.25, Viseme.ROUND), (1.0, Viseme.REST)):
        pixel = rgb[row, int(axis.x_of(seconds) * rgb.shape[1])]
        want = np.array([int(plots.VISEME_LOOK[viseme][1][i:i + 2], 16) for i in (1, 3, 5)])
        assert np.abs(pixel - want).max() <= 12, (seconds, pixel, want)


def test_the_tuners_spectrogram_carries_the_viseme_timeline_on_its_time_axis(photo_session):
    session, _ = photo_session
    preview = session.render(LipSyncOptions(), start=0.4, seconds=0.8, score=False)
    mel = session.plot_mel(preview, 15)
    fig = mel.figure
    assert len(fig.axes) == 2 and fig.axes[1].get_xlim() == mel.get_xlim()
    strip = fig.axes[1]
    assert strip.lines[-1].get_xdata()[0] == pytest.approx(15 / preview.fps)        # the same frame marked
    import io

    from PIL import Image

    from heygem_core.phonetic import viseme_timeline

    # the cursor's span reaches down into the strip: near its bottom, the colour of the shape at that time
    axis = plots.time_axis(mel)
    png, _ = plots.figure_png(fig)
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    tl = viseme_timeline(session.speech, "")
    row = int(rgb.shape[0] * (axis.bottom - 0.01))
    for seconds in (0.5, 0.8, 1.1):
        look = plots.VISEME_LOOK[tl.viseme[int(seconds / tl.hop_s)]][1]
        want = np.array([int(look[i:i + 2], 16) for i in (1, 3, 5)])
        assert np.abs(rgb[row, int(axis.x_of(seconds) * rgb.shape[1])] - want).max() <= 12, seconds
