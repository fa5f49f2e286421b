"""Putting synthesised pixels back into the frame: feathered masks, colour matching, blending.

Only the pixels under a patch's mask change; everything else in the frame is left bit-identical.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .media.planar import PlanarFrame


@dataclass
class Patch:
    """New pixels for the region ``box = (x0, y0, x1, y1)`` of a frame (x1, y1 exclusive).

    ``pixels`` [shape=(y1-y0, x1-x0, 3), uint8 BGR]; ``mask`` [shape=(y1-y0, x1-x0), float32 in 0..1] says how
    much of the new pixels to take at each point.
    """

    box: tuple[int, int, int, int]
    pixels: np.ndarray
    mask: np.ndarray


def clip_box(box, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def feathered_mask(polygon: np.ndarray, box, feather_px: float) -> np.ndarray:
    """A soft mask over ``box``: 1 well inside ``polygon`` (frame coordinates, shape (k, 2)), falling smoothly
    to exactly 0 at the polygon's edge over about ``feather_px`` pixels, so it never shows a hard border.
    [shape=(h, w), float32]"""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    hard = np.zeros((h, w), np.uint8)
    pts = np.round((np.asarray(polygon, np.float32) - (x0, y0)) * 4).astype(np.int32)
    cv2.fillPoly(hard, [pts], 255, lineType=cv2.LINE_AA, shift=2)
    soft = hard.astype(np.float32) / 255.0
    if feather_px <= 0.5:
        return soft
    k = max(1, int(round(feather_px * 0.6)))
    core = cv2.erode(hard, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    blurred = cv2.GaussianBlur(core.astype(np.float32) / 255.0, (0, 0), feather_px / 3.0,
                               borderType=cv2.BORDER_CONSTANT)
    return np.minimum(blurred, soft)


def match_color(pixels: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Shift ``pixels`` so their per-channel mean and spread in Lab, under ``mask``, match ``reference``'s.

    Used for generated mouths, whose colour drifts from the frame's; both images [shape=(h, w, 3) uint8 BGR]."""
    weight = mask > 0.5
    if weight.sum() < 16:
        return pixels
    src = cv2.cvtColor(pixels, cv2.COLOR_BGR2LAB).astype(np.float32)
    ref = cv2.cvtColor(reference, cv2.COLOR_BGR2LAB).astype(np.float32)
    s_mean, s_std = src[weight].mean(0), src[weight].std(0) + 1e-3
    r_mean, r_std = ref[weight].mean(0), ref[weight].std(0) + 1e-3
    gain = np.clip(r_std / s_std, 0.5, 2.0)  # never amplify noise wildly
    out = (src - s_mean) * gain + r_mean
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def apply(frame: np.ndarray, patch: Patch) -> np.ndarray:
    """Blend ``patch`` into ``frame`` in place and return it; where the mask is 0 the pixel keeps its exact
    value (``blendLinear`` rounds ``0 * new + 1 * old`` back to ``old``)."""
    if isinstance(frame, PlanarFrame):    # blended in BGR, carried into the planes as a change
        frame.paste(patch.box, patch.pixels, patch.mask)
        return frame
    x0, y0, x1, y1 = patch.box
    region = frame[y0:y1, x0:x1]
    m = np.ascontiguousarray(patch.mask, dtype=np.float32)
    region[:] = cv2.blendLinear(np.ascontiguousarray(patch.pixels), np.ascontiguousarray(region), m, 1.0 - m)
    return frame
