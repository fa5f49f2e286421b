"""Putting synthesised pixels back into the frame: feathered masks, colour matching, blending.

Only the pixels under a patch's mask change; everything else in the frame is left bit-identical.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


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
    """A soft mask over ``box``: 1 inside ``polygon`` (frame coordinates, shape (k, 2)), falling smoothly
    to 0 over about ``feather_px`` pixels. The polygon is shrunk by half the feather first, so the mask
    reaches 0 at the polygon's edge and never shows a hard border. [shape=(h, w), float32]"""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    mask = np.zeros((h, w), np.uint8)
    pts = np.round((np.asarray(polygon, np.float32) - (x0, y0)) * 4).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA, shift=2)
    if feather_px <= 0.5:
        return mask.astype(np.float32) / 255.0
    k = max(1, int(round(feather_px / 2)))
    mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    sigma = feather_px / 2.5
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)


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
    """Blend ``patch`` into ``frame`` in place and return it; pixels where the mask is 0 stay untouched."""
    x0, y0, x1, y1 = patch.box
    region = frame[y0:y1, x0:x1]
    m = patch.mask
    touched = m > 0.0
    if not touched.any():
        return frame
    m3 = m[..., None]
    blended = region.astype(np.float32) * (1.0 - m3) + patch.pixels.astype(np.float32) * m3
    region[touched] = np.clip(blended[touched] + 0.5, 0, 255).astype(np.uint8)
    return frame
