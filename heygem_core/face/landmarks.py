"""FaceMesh landmark index sets (478 points, with refined lips, eyes and irises) and measures derived from them.

Every contour is an ordered tuple of indices (index an array with ``lm[list(JAW)]``: a bare tuple would
index dimensions). "Right" and "left" are the subject's own sides, so on a frontal, non-mirrored picture the
subject's right eye is on the image's left. Loops are listed once around without repeating the first point.

All measures accept one face ``(478, 2)`` or a stack ``(..., 478, 2)`` of faces and broadcast; NaN faces
(frames without a face) give NaN.
"""
from __future__ import annotations

import cv2
import numpy as np

N_LANDMARKS = 478

# -- mouth
MOUTH_CORNERS = (61, 291)          # outer corners: subject's right, left
INNER_MOUTH_CORNERS = (78, 308)
UPPER_LIP_INNER_MID = 13
LOWER_LIP_INNER_MID = 14
UPPER_LIP_OUTER_MID = 0
LOWER_LIP_OUTER_MID = 17

# Closed loops: right corner, along the upper lip to the left corner, back along the lower lip.
OUTER_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291,
              375, 321, 405, 314, 17, 84, 181, 91, 146)
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308,
              324, 318, 402, 317, 14, 87, 178, 88, 95)
# Inner lip edges corner to corner, both from the subject's right corner; UPPER[i] faces LOWER[i].
INNER_UPPER_LIP = INNER_LIPS[:11]
INNER_LOWER_LIP = (78,) + INNER_LIPS[11:][::-1] + (308,)
# Central upper/lower pairs that open the most; several, so one noisy point cannot dominate the measure.
CENTRAL_LIP_PAIRS = ((82, 87), (13, 14), (312, 317))

# -- jaw and face outline
# Jaw line from the subject's right ear, under the chin, to the left ear.
JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152,
       377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
CHIN = 152
# Whole face outline, a loop from the top of the forehead clockwise on the image.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)

# -- nose
NOSE_TIP = 1
SUBNASALE = 2                      # where the nose meets the upper lip
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4, 1)
# Bottom of the nose from the right alar crease through the subnasale to the left one.
NOSE_BOTTOM = (129, 98, 97, 2, 326, 327, 358)

# -- eyes (loops: outer corner, upper lid, inner corner, lower lid)
RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
RIGHT_EYE_CORNERS = (33, 133)      # outer, inner
LEFT_EYE_CORNERS = (263, 362)
RIGHT_IRIS_CENTER = 468
LEFT_IRIS_CENTER = 473

# -- brows (upper edge from the outer end inwards)
RIGHT_BROW = (70, 63, 105, 66, 107)
LEFT_BROW = (300, 293, 334, 296, 336)
RIGHT_BROW_LOWER = (46, 53, 52, 65, 55)
LEFT_BROW_LOWER = (276, 283, 282, 295, 285)

_UPPER_FACE = (RIGHT_BROW + LEFT_BROW + RIGHT_EYE + LEFT_EYE + NOSE_BOTTOM + NOSE_BRIDGE)


def _dist(lm: np.ndarray, a, b) -> np.ndarray:
    return np.linalg.norm(lm[..., a, :] - lm[..., b, :], axis=-1)


def _scalar_if_one(x: np.ndarray) -> np.ndarray | float:
    return float(x) if np.ndim(x) == 0 else x


def mouth_width(lm: np.ndarray) -> np.ndarray | float:
    """Distance between the outer mouth corners (61, 291), in pixels.

    lm : (..., 478, 2) → (...); a float for one face
    """
    return _scalar_if_one(_dist(np.asarray(lm, np.float32), *MOUTH_CORNERS))


def mouth_opening(lm: np.ndarray) -> np.ndarray | float:
    """Gap between the inner lips at the centre of the mouth, as a fraction of the mouth width.

    The mean over a few central upper/lower inner-lip pairs (82–87, 13–14, 312–317). About 0 to 0.05 for a
    closed mouth; 0.2–0.4 for a wide-open vowel.

    lm : (..., 478, 2) → (...); a float for one face
    """
    lm = np.asarray(lm, np.float32)
    gap = np.mean([_dist(lm, a, b) for a, b in CENTRAL_LIP_PAIRS], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar_if_one(gap / _dist(lm, *MOUTH_CORNERS))


def face_box(lm: np.ndarray) -> np.ndarray:
    """Bounding box ``(x0, y0, x1, y1)`` of all landmarks (the face from mid-forehead to chin).

    lm : (..., 478, 2) → (..., 4) float32
    """
    lm = np.asarray(lm, np.float32)
    return np.concatenate([lm.min(axis=-2), lm.max(axis=-2)], axis=-1)


def _hull_mask(points: np.ndarray, shape: tuple[int, ...], grow: float = 0.0) -> np.ndarray:
    """float32 (h, w) mask, 1 inside the convex hull of ``points`` scaled by ``1 + grow`` about its centre."""
    h, w = shape[:2]
    mask = np.zeros((h, w), np.float32)
    pts = np.asarray(points, np.float32)
    if not np.isfinite(pts).all():
        return mask
    if grow:
        c = pts.mean(axis=0)
        pts = c + (pts - c) * (1.0 + grow)
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1.0, lineType=cv2.LINE_8)
    return mask


def upper_face_mask(lm: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Brows, eyes and nose: the part of the face that lip sync must leave alone.

    lm : (478, 2); shape : (h, w[, c]) of the frame → (h, w) float32 in {0, 1}
    """
    return _hull_mask(np.asarray(lm)[list(_UPPER_FACE)], shape)


def mouth_region_mask(lm: np.ndarray, shape: tuple[int, ...], grow: float = 0.35) -> np.ndarray:
    """The lips grown by ``grow`` of their size about their centre (a hard mask; blending feathers it).

    lm : (478, 2); shape : (h, w[, c]) → (h, w) float32 in {0, 1}
    """
    return _hull_mask(np.asarray(lm)[list(OUTER_LIPS)], shape, grow)
