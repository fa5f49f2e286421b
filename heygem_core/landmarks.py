"""Named MediaPipe FaceMesh (478-point) index sets and measures derived from them."""
from __future__ import annotations

import numpy as np

MOUTH_CORNERS = (61, 291)
INNER_CORNERS = (78, 308)
# inner lip, corner to corner (image left → right), upper then lower; pairs line up index by index
INNER_UPPER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
INNER_LOWER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
OUTER_UPPER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
OUTER_LOWER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
LIPS_OUTER = OUTER_UPPER + OUTER_LOWER[-2:0:-1]
LIPS_INNER = INNER_UPPER + INNER_LOWER[-2:0:-1]
UPPER_LIP_TOP = 0
LOWER_LIP_BOTTOM = 17
# jaw line from ear to ear under the chin
JAW = [234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454]
CHIN = 152
CHIN_INNER = [18, 200, 199, 175]   # between the lower lip and the chin point
NOSE_TIP = 1
NOSE_BOTTOM = 2
# points that must not move when the mouth does: nose, cheeks, eye corners
ANCHORS = [1, 4, 5, 195, 2, 94, 97, 326, 98, 327, 50, 280, 205, 425, 187, 411, 117, 346, 123, 352,
           33, 263, 133, 362]


def mouth_width(lm: np.ndarray) -> float:
    a, b = lm[MOUTH_CORNERS[0]], lm[MOUTH_CORNERS[1]]
    return float(np.hypot(*(b - a)))


def mouth_opening(lm: np.ndarray) -> float:
    """Inner-lip gap at the middle of the mouth ÷ mouth width (three central pairs averaged)."""
    width = mouth_width(lm)
    if not np.isfinite(width) or width < 1e-6:
        return float("nan")
    mid = len(INNER_UPPER) // 2
    pairs = range(mid - 1, mid + 2)
    gaps = [np.hypot(*(lm[INNER_LOWER[i]] - lm[INNER_UPPER[i]])) for i in pairs]
    return float(np.mean(gaps) / width)
