"""The wav2lip engine on a real face: patches only around the mouth, pass-through without a face, end to end."""
from __future__ import annotations

import wave

import av
import numpy as np
import pytest
import torch

from conftest import tone_bursts
from heygem_core.composite import apply
from heygem_core.demo import animate_photo, face_photo
from heygem_core.engines import get_engine
from heygem_core.engines.wav2lip.engine import Wav2LipEngine, crop_box, feather_px
from heygem_core.errors import CheckpointError, OptionsError
from heygem_core.face.landmarks import CHIN, LEFT_EYE, MOUTH_CORNERS, RIGHT_EYE, SUBNASALE
from heygem_core.options import LipSyncOptions
from heygem_core.speech import Speech

N = 8


@pytest.fixture(scope="module")
def clip():
    """Grace Hopper's photo with gentle camera motion, and her FaceMesh landmarks from the project's tracker."""
    from heygem_core.face.track import track_frames

    frames = animate_photo(face_photo(), N, size=(320, 360))
    track = track_frames(frames, LipSyncOptions(), fps=25.0)
    assert track.found.all()
    return frames, [track.face(i) for i in range(N)]


@pytest.fixture(scope="module")
def options(wav2lip_checkpoint):
    return LipSyncOptions(engine="wav2lip", checkpoint=str(wav2lip_checkpoint), batch_size=4)


@pytest.fixture(scope="module")
def engine(options):
    engine = get_engine(options)
    engine.prepare(Speech(tone_bursts(seconds=2.0)), 25.0, 50)
    return engine


def test_registry_builds_the_engine(engine, wav2lip_checkpoint):
    assert isinstance(engine, Wav2LipEngine) and engine.name == "wav2lip"
    assert engine.checkpoint_path == wav2lip_checkpoint
    assert engine.device.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_patches_change_only_the_lower_face(engine, clip):
    frames, faces = clip
    patches = engine.synthesize(frames, faces, list(range(N)))
    assert all(p is not None for p in patches)
    for frame, face, patch in zip(frames, faces, patches):
        x0, y0, x1, y1 = patch.box
        h, w = patch.pixels.shape[:2]
        assert (y1 - y0, x1 - x0) == (h, w) == patch.mask.shape
        assert patch.pixels.dtype == np.uint8 and patch.mask.dtype == np.float32
        assert 0.0 <= patch.mask.min() and patch.mask.max() <= 1.0
        # inside the model's face crop, below the eyes, and full strength on the mouth
        cx0, cy0, cx1, cy1 = crop_box(face, frame.shape, engine.options)
        assert cx0 <= x0 and cy0 <= y0 and x1 <= cx1 and y1 <= cy1
        eyes_bottom = face[list(RIGHT_EYE + LEFT_EYE), 1].max()
        assert y0 > eyes_bottom
        mx, my = face[list(MOUTH_CORNERS)].mean(axis=0)
        assert patch.mask[int(my) - y0, int(mx) - x0] > 0.99
        assert patch.mask[: max(1, int(face[SUBNASALE, 1]) - y0 - 2)].max() < 0.5   # fades out at the nose
        chin_x, chin_y = face[CHIN]
        assert patch.mask[int(chin_y) - 3 - y0, int(chin_x) - x0] > 0.8     # strong down to the chin …
        assert cy1 >= chin_y + 1.5 * feather_px(face, engine.options)      # … fading out below it

        out = apply(frame.copy(), patch)
        changed = np.any(out != frame, axis=2)
        outside = np.ones_like(changed)
        outside[y0:y1, x0:x1] = patch.mask == 0
        assert not changed[outside].any()           # nothing outside the mask moves, not even by one level
        assert changed[int(my), int(mx)]            # and the mouth does


def test_deterministic_on_cpu(engine, clip):
    frames, faces = clip
    first = engine.synthesize(frames[:3], faces[:3], [10, 11, 12])
    second = engine.synthesize(frames[:3], faces[:3], [10, 11, 12])
    for a, b in zip(first, second):
        assert a.box == b.box
        assert np.array_equal(a.pixels, b.pixels) and np.array_equal(a.mask, b.mask)


def test_audio_window_follows_the_output_frame(engine, clip):
    frames, faces = clip
    silent, loud = engine.synthesize([frames[0]] * 2, [faces[0]] * 2, [0, 12])   # 0 s (silence), 0.48 s (tone)
    assert silent.box == loud.box
    moved = np.abs(silent.pixels.astype(np.int16) - loud.pixels).max()
    assert moved >= 3   # the tone moves the mouth by whole levels, not by a rounding flip


def test_frames_without_a_face_pass_through(engine, clip):
    frames, faces = clip
    nan_face = np.full((478, 2), np.nan, np.float32)
    patches = engine.synthesize(frames[:4], [None, faces[1], nan_face, faces[3]], [0, 1, 2, 3])
    assert patches[0] is None and patches[2] is None
    assert patches[1] is not None and patches[3] is not None
    assert engine.synthesize([], [], []) == []


def test_face_partly_outside_the_frame(engine, clip):
    frames, faces = clip
    shifted = faces[0] + np.float32([0, 120])   # chin below the bottom edge
    patch = engine.synthesize([frames[0]], [shifted], [5])[0]
    assert patch is not None
    x0, y0, x1, y1 = patch.box
    assert 0 <= x0 < x1 <= frames[0].shape[1] and 0 <= y0 < y1 <= frames[0].shape[0]


def test_synthesize_needs_prepare(options):
    engine = Wav2LipEngine(options)
    with pytest.raises(RuntimeError, match="prepare"):
        engine.synthesize([np.zeros((64, 64, 3), np.uint8)], [None], [0])


def test_unknown_checkpoint_name(tmp_path):
    with pytest.raises(CheckpointError, match="no weights of that name") as info:
        Wav2LipEngine(LipSyncOptions(engine="wav2lip", checkpoint="wav2lip_gan"), weights_dir=tmp_path)
    assert "heygem weights add" in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_gpu_is_an_error(wav2lip_checkpoint):
    with pytest.raises(OptionsError, match="device"):
        Wav2LipEngine(LipSyncOptions(engine="wav2lip", checkpoint=str(wav2lip_checkpoint), device="cuda"))


def _write_wav(path, samples, sr=16000):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


def test_generate_end_to_end(tmp_path, face_clip, options):
    from heygem_core.pipeline import generate
    from heygem_core.media.timeline import template_indices

    audio = _write_wav(tmp_path / "speech.wav", tone_bursts(seconds=1.6))
    out = tmp_path / "out.mp4"
    result = generate(audio, face_clip, out, options.replace(batch_size=8))
    assert out.is_file() and result.engine == "wav2lip"

    with av.open(str(face_clip)) as container:
        template = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with av.open(str(out)) as container:
        assert container.streams.audio, "the output has a sound track"
        produced = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(produced) == result.frames == 40
    order = template_indices(len(produced), len(template), options.loop_mode)

    from heygem_core.face.track import track_frames

    faces = track_frames([template[j] for j in order[:3]], options, fps=25.0)
    for k in range(3):
        face = faces.face(k)
        mouth_y = int(face[list(MOUTH_CORNERS), 1].mean())
        nose_y = int(face[SUBNASALE, 1])
        a, b = produced[k].astype(np.int16), template[order[k]].astype(np.int16)
        # above the nose and the whole top of the frame: the template, up to re-encoding noise (~2.3 levels
        # here, the same with the procedural engine)
        assert np.abs(a[: nose_y - 10] - b[: nose_y - 10]).mean() < 3.5
        # the random generator paints the mouth over: clearly different there
        mx = int(face[list(MOUTH_CORNERS), 0].mean())
        assert np.abs(a[mouth_y - 3:mouth_y + 4, mx - 3:mx + 4] - b[mouth_y - 3:mouth_y + 4, mx - 3:mx + 4]).mean() > 3


def test_colour_is_matched_to_the_frame(engine, clip):
    frames, faces = clip

    def colour_error(patch, frame):
        x0, y0, x1, y1 = patch.box
        inside = patch.mask > 0.5
        return np.abs(patch.pixels[inside].mean(0) - frame[y0:y1, x0:x1][inside].mean(0)).max()

    matched = engine.synthesize(frames[:1], faces[:1], [12])[0]
    options = engine.options
    try:
        engine.options = options.replace(color_match=False)
        raw = engine.synthesize(frames[:1], faces[:1], [12])[0]
    finally:
        engine.options = options
    assert raw.box == matched.box
    # the random generator paints a flat grey; matched, its mean colour is the skin's
    assert colour_error(matched, frames[0]) < 6 < colour_error(raw, frames[0])
