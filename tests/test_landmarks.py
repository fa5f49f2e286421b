"""Landmark index sets and measures, checked on a real face (Grace Hopper's photo) and on known geometry."""
import cv2
import numpy as np
import pytest

from heygem_core.face import landmarks as L
from heygem_core.demo import face_photo
from heygem_core.face.track import track_frames

CONTOURS = ["OUTER_LIPS", "INNER_LIPS", "INNER_UPPER_LIP", "INNER_LOWER_LIP", "JAW", "FACE_OVAL", "NOSE_BRIDGE",
            "NOSE_BOTTOM", "RIGHT_EYE", "LEFT_EYE", "RIGHT_BROW", "LEFT_BROW", "RIGHT_BROW_LOWER",
            "LEFT_BROW_LOWER"]


@pytest.fixture(scope="module")
def photo_lm():
    photo = face_photo()
    track = track_frames([photo])
    assert track.found.all()
    return track.landmarks[0]


@pytest.mark.parametrize("name", CONTOURS)
def test_contours_are_distinct_valid_indices(name):
    idx = getattr(L, name)
    assert len(idx) >= 5 and len(set(idx)) == len(idx)
    assert all(0 <= i < L.N_LANDMARKS for i in idx)


def test_lip_loops_run_corner_to_corner_and_pairs_face_each_other():
    assert L.OUTER_LIPS[0] == L.MOUTH_CORNERS[0] and L.OUTER_LIPS[10] == L.MOUTH_CORNERS[1]
    assert L.INNER_LIPS[0] == L.INNER_MOUTH_CORNERS[0] and L.INNER_LIPS[10] == L.INNER_MOUTH_CORNERS[1]
    assert len(L.INNER_UPPER_LIP) == len(L.INNER_LOWER_LIP) == 11
    assert L.INNER_UPPER_LIP[5] == L.UPPER_LIP_INNER_MID and L.INNER_LOWER_LIP[5] == L.LOWER_LIP_INNER_MID
    assert set(L.INNER_UPPER_LIP) | set(L.INNER_LOWER_LIP) == set(L.INNER_LIPS)
    pairs = set(zip(L.INNER_UPPER_LIP, L.INNER_LOWER_LIP))
    assert set(L.CENTRAL_LIP_PAIRS) <= pairs
    assert L.JAW[len(L.JAW) // 2] == L.CHIN and set(L.JAW) <= set(L.FACE_OVAL)


def test_sets_sit_where_they_belong_on_a_real_face(photo_lm):
    lm = photo_lm
    y = lambda idx: lm[list(idx), 1].mean()  # noqa: E731
    # top to bottom: brows, eyes, nose tip, subnasale, lips, chin
    assert y(L.RIGHT_BROW) < y(L.RIGHT_EYE) < lm[L.NOSE_TIP, 1] < lm[L.SUBNASALE, 1] < y(L.OUTER_LIPS)
    inner_mid = (lm[L.UPPER_LIP_INNER_MID, 1] + lm[L.LOWER_LIP_INNER_MID, 1]) / 2
    assert lm[L.UPPER_LIP_OUTER_MID, 1] < inner_mid < lm[L.LOWER_LIP_OUTER_MID, 1] < lm[L.CHIN, 1]
    assert abs(lm[L.UPPER_LIP_INNER_MID, 1] - lm[L.LOWER_LIP_INNER_MID, 1]) < 2.0  # closed mouth
    assert lm[L.CHIN, 1] == pytest.approx(lm[list(L.JAW), 1].max(), abs=2.0)
    # the subject's right is on the image's left in this frontal photo
    assert lm[L.MOUTH_CORNERS[0], 0] < lm[L.MOUTH_CORNERS[1], 0]
    assert lm[list(L.RIGHT_EYE), 0].mean() < lm[L.NOSE_TIP, 0] < lm[list(L.LEFT_EYE), 0].mean()
    assert lm[L.JAW[0], 0] < lm[L.CHIN, 0] < lm[L.JAW[-1], 0]
    # irises inside their eyes, inner lips inside the outer lips
    for eye, iris in ((L.RIGHT_EYE, L.RIGHT_IRIS_CENTER), (L.LEFT_EYE, L.LEFT_IRIS_CENTER)):
        contour = lm[list(eye)].reshape(-1, 1, 2)
        assert cv2.pointPolygonTest(contour, tuple(map(float, lm[iris])), False) > 0
    outer = lm[list(L.OUTER_LIPS)].reshape(-1, 1, 2)
    inside = [cv2.pointPolygonTest(outer, tuple(map(float, p)), True) for p in lm[list(L.INNER_LIPS)]]
    assert min(inside) > -1.0


def test_mouth_is_closed_on_the_photo(photo_lm):
    assert 0.0 <= L.mouth_opening(photo_lm) < 0.05
    assert 40 < L.mouth_width(photo_lm) < 120  # the face is ~190 px wide in the 512 px photo


def test_mouth_opening_measures_the_central_gap(photo_lm):
    lm = photo_lm.copy()
    width = L.mouth_width(lm)
    base = L.mouth_opening(lm)
    # pull the inner lower lip straight down by 20 % of the mouth width, keeping the corners
    lower = list(L.INNER_LOWER_LIP[1:-1])
    lm[lower, 1] += 0.2 * width
    assert L.mouth_opening(lm) == pytest.approx(base + 0.2, abs=0.02)
    assert L.mouth_width(lm) == pytest.approx(width)


def test_measures_broadcast_over_frames_and_keep_nan(photo_lm):
    stack = np.stack([photo_lm, photo_lm * 2, np.full_like(photo_lm, np.nan)])
    opening = L.mouth_opening(stack)
    assert opening.shape == (3,)
    assert opening[1] == pytest.approx(opening[0], rel=1e-5) and np.isnan(opening[2])
    assert L.mouth_width(stack)[1] == pytest.approx(2 * L.mouth_width(photo_lm), rel=1e-5)
    assert isinstance(L.mouth_opening(photo_lm), float)
    assert L.face_box(stack).shape == (3, 4)


def test_face_box_is_the_extent_of_the_points():
    lm = np.zeros((L.N_LANDMARKS, 2), np.float32)
    lm[:, 0] = np.linspace(10, 50, L.N_LANDMARKS)
    lm[:, 1] = np.linspace(-5, 30, L.N_LANDMARKS)[::-1]
    assert L.face_box(lm).tolist() == [10, -5, 50, 30]


def test_masks_cover_their_regions_only(photo_lm):
    shape = (600, 512, 3)
    upper = L.upper_face_mask(photo_lm, shape)
    mouth = L.mouth_region_mask(photo_lm, shape)
    assert upper.shape == mouth.shape == (600, 512) and upper.dtype == np.float32
    at = lambda mask, i: mask[int(round(photo_lm[i, 1])), int(round(photo_lm[i, 0]))]  # noqa: E731
    for i in (L.NOSE_TIP, L.RIGHT_IRIS_CENTER, L.LEFT_IRIS_CENTER, L.RIGHT_BROW[2]):
        assert at(upper, i) == 1 and at(mouth, i) == 0
    for i in (L.UPPER_LIP_INNER_MID, L.CHIN):
        assert at(upper, i) == 0
    assert at(mouth, L.UPPER_LIP_INNER_MID) == 1 and at(mouth, L.CHIN) == 0
    assert not (upper * mouth).any()
    assert not L.upper_face_mask(np.full_like(photo_lm, np.nan), shape).any()
