"""The weights-free engine on a real face photo (Grace Hopper, shipped inside matplotlib)."""
import numpy as np
import pytest

from heygem_core.face import landmarks as L
from heygem_core.composite import apply
from heygem_core.demo import animate_photo, face_photo
from heygem_core.engines.procedural import ProceduralEngine
from heygem_core.options import LipSyncOptions
from heygem_core.face.track import track_frames


@pytest.fixture(scope="module")
def face():
    img = face_photo()
    track = track_frames([img], LipSyncOptions(track_smoothing=0.0))
    assert track.found[0]
    return img, track.landmarks[0]


def measured_opening(img):
    track = track_frames([img], LipSyncOptions(track_smoothing=0.0))
    return float(L.mouth_opening(track.landmarks[0]))


@pytest.mark.parametrize("target", [0.06, 0.12, 0.2])
def test_mouth_opens_to_the_target(face, target):
    img, lm = face
    out = apply(img.copy(), ProceduralEngine(LipSyncOptions()).render(img, lm, target, 1.0))
    got = measured_opening(out)
    assert got == pytest.approx(target, abs=0.05)
    assert got > measured_opening(img) + 0.03


def test_only_the_mouth_and_jaw_change(face):
    img, lm = face
    patch = ProceduralEngine(LipSyncOptions()).render(img, lm, 0.2, 1.0)
    out = apply(img.copy(), patch)
    diff = (out != img).any(-1)
    assert not diff[L.upper_face_mask(lm, img.shape) > 0].any()   # brows, eyes and nose stay exactly as they were
    changed = np.argwhere(diff)
    assert changed[:, 0].min() > lm[L.NOSE_TIP][1]
    x0, y0, x1, y1 = patch.box
    assert changed[:, 0].min() >= y0 and changed[:, 0].max() < y1
    assert changed[:, 1].min() >= x0 and changed[:, 1].max() < x1
    # the warp fades out inside its box: the box's edges are untouched, so no seam can show
    edge = np.concatenate([patch.mask[0], patch.mask[-1], patch.mask[:, 0], patch.mask[:, -1]])
    assert edge.max() == 0.0


def test_an_open_template_mouth_is_closed_for_silence(face):
    img, lm = face
    engine = ProceduralEngine(LipSyncOptions())
    opened = apply(img.copy(), engine.render(img, lm, 0.22, 1.0))
    lm_open = track_frames([opened], LipSyncOptions(track_smoothing=0.0)).landmarks[0]
    closed = apply(opened.copy(), engine.render(opened, lm_open, 0.0, 1.0))
    assert measured_opening(opened) > 0.15
    assert measured_opening(closed) < 0.05


def test_open_mouth_shows_a_dark_cavity_with_lips_kept(face):
    img, lm = face
    out = apply(img.copy(), ProceduralEngine(LipSyncOptions(teeth=0.0)).render(img, lm, 0.2, 1.0))
    centre = np.round((lm[13] + lm[14]) / 2).astype(int)
    inside = out[centre[1] + 3: centre[1] + 7, centre[0] - 4: centre[0] + 4].mean()
    lips = img[lm[17][1].astype(int) - 2, lm[17][0].astype(int)].mean()
    assert inside < 0.5 * lips


def test_faceless_frames_pass_through():
    frames = animate_photo(face_photo(), 2, size=(120, 120))
    engine = ProceduralEngine(LipSyncOptions())
    from heygem_core.speech import Speech
    from conftest import tone_bursts
    engine.prepare(Speech(tone_bursts(seconds=0.2)), 25.0, 2)
    assert engine.synthesize(frames, [None, None], [0, 1]) == [None, None]
