"""The weights-free engine on a real face photo (Grace Hopper, shipped inside matplotlib)."""
import numpy as np
import pytest

from heygem_core.face import landmarks as L
from heygem_core.composite import apply
from heygem_core.demo import animate_photo, face_photo
from heygem_core.engines.mouth_shape import MouthGeometry, target_points
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


def landmarks_of(img):
    return track_frames([img], LipSyncOptions(track_smoothing=0.0)).landmarks[0]


def opening_shape(lm, opening, spread):
    """(width, height / width) of the target mouth's opening — where its inner lips are more than half a
    pixel apart — and the target's upper lip height in the middle, all in mouth widths."""
    geo = MouthGeometry(lm)
    target = target_points(lm, geo, opening, spread, 0.7)
    poly = target.polygon
    n = (len(poly) + 2) // 2                      # the upper inner edge, then the lower one back
    upper, lower = poly[:n], np.concatenate([poly[:1], poly[n:], poly[n - 1:n]])
    along = np.linspace(-0.6, 0.6, 601) * geo.width

    def down_at(edge):
        order = np.argsort(geo.along(edge))
        return np.interp(along, geo.along(edge)[order], geo.down(edge)[order])

    gap = down_at(lower) - down_at(upper)
    width = np.ptp(along[gap > 0.5])
    # upper lip at the middle: from its outer edge (landmark 0) to its inner edge (13), as aimed at
    outer, inner = (target.upper_dst[target.upper_src.tolist().index(lm[i].tolist())] for i in (0, 13))
    return width / geo.width, gap.max() / width, geo.down(inner - outer + geo.center) / geo.width


def test_rounded_lips_make_a_small_round_opening_between_fuller_lips(face):
    img, lm = face
    neutral, rounded, spread = (opening_shape(lm, 0.12, s) for s in (1.0, 0.8, 1.2))
    assert rounded[0] < 0.5 * neutral[0]            # the lips meet at the sides: a small opening …
    assert rounded[1] > 2.0 * neutral[1]            # … about as tall as it is wide, not a slit
    assert rounded[2] > 1.15 * neutral[2]           # the lips push forward: more of their red shows
    assert spread[0] > neutral[0] and spread[1] < neutral[1]   # spread lips: a wider, flatter opening


def test_a_rounded_mouth_is_dark_only_in_its_small_opening(face):
    """Where the rounded lips meet, at the sides, no dark line of the inside is drawn along them."""
    img, lm = face
    geo = MouthGeometry(lm)
    lip = img[int(lm[17][1]) - 2, int(lm[17][0])].mean()
    extent = {}
    for spread in (0.8, 1.0):
        out = apply(img.copy(), ProceduralEngine(LipSyncOptions(teeth=0.0)).render(img, lm, 0.12, spread))
        poly = target_points(lm, geo, 0.12, spread, 0.7).polygon
        x0, y0 = np.floor(poly.min(0)).astype(int) - 1
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 2
        ys, xs = np.nonzero(out[y0:y1, x0:x1].astype(np.float32).mean(-1) < 0.3 * lip)   # the dark inside
        extent[spread] = np.ptp(geo.along(np.stack([xs + x0, ys + y0], 1).astype(float))) / geo.width
    assert extent[0.8] < 0.55 < 0.8 < extent[1.0]


def test_rounding_draws_the_corners_in_and_spreading_pushes_them_out(face):
    img, lm = face
    engine = ProceduralEngine(LipSyncOptions())
    width = {s: L.mouth_width(landmarks_of(apply(img.copy(), engine.render(img, lm, 0.12, s))))
             for s in (0.8, 1.0, 1.2)}
    assert width[0.8] < 0.78 * width[1.0]           # corners in, beyond the lips' width factor alone
    assert width[1.2] > 1.1 * width[1.0]


def test_a_closure_presses_the_lips_together_with_no_dark_line_between_them(face):
    img, lm = face
    opened = apply(img.copy(), ProceduralEngine(LipSyncOptions()).render(img, lm, 0.22, 1.0))
    lm_open = landmarks_of(opened)
    # the target lips overlap where the template's are apart: each half meets the other inside its own lip
    geo = MouthGeometry(lm_open)
    target = target_points(lm_open, geo, 0.0, 1.0, 0.7)
    assert geo.down(target.inner_lower[5]) < geo.down(target.inner_upper[5]) - 0.02 * geo.width
    # lips already shut keep their own line (no more overlap than they are apart)
    geo0 = MouthGeometry(lm)
    shut = target_points(lm, geo0, 0.0, 1.0, 0.7)
    gap0 = geo0.down(lm[14]) - geo0.down(lm[13])
    assert geo0.down(shut.inner_upper[5]) - geo0.down(shut.inner_lower[5]) <= max(gap0, 0.0) + 0.5

    closed = apply(opened.copy(), ProceduralEngine(LipSyncOptions()).render(opened, lm_open, 0.0, 1.0))
    lm_closed = landmarks_of(closed)
    assert L.mouth_opening(lm_closed) < 0.03

    def darkest_across_the_lips(picture, marks):
        """The darkest pixel of each column across the middle of the mouth, near the lip line."""
        w, (cx, cy) = L.mouth_width(marks), (marks[13] + marks[14]) / 2
        grey = picture.astype(np.float32).mean(-1)
        band = grey[int(cy - 0.15 * w): int(cy + 0.15 * w), int(cx - 0.3 * w): int(cx + 0.3 * w)]
        return band.min(0)

    # nothing of the open mouth (its dark inside, its teeth) is left between the lips: no column is darker
    # than the darkest point of the face's own closed lip line
    assert darkest_across_the_lips(closed, lm_closed).min() >= darkest_across_the_lips(img, lm).min()


def test_faceless_frames_pass_through():
    frames = animate_photo(face_photo(), 2, size=(120, 120))
    engine = ProceduralEngine(LipSyncOptions())
    from heygem_core.speech import Speech
    from conftest import tone_bursts
    engine.prepare(Speech(tone_bursts(seconds=0.2)), 25.0, 2)
    assert engine.synthesize(frames, [None, None], [0, 1]) == [None, None]
