"""The inside of an opened mouth: the template's own teeth where it shows them, else a shaded cavity with a hint
of the upper teeth, between the warped inner lip contours (the lips stay on top)."""
from __future__ import annotations

import cv2
import numpy as np

from ..face import landmarks as L
from .mouth_shape import MouthGeometry, _sorted
from .warp import _smoothstep


def paint_cavity(pixels: np.ndarray, mask: np.ndarray, field: np.ndarray, frame: np.ndarray,
                 polygon: np.ndarray, box, lm: np.ndarray, geo: MouthGeometry, opening: float,
                 teeth: float, tuck: float = 0.0) -> None:
    """Fill the open mouth in place where the template has no mouth interior to show: dark and shaded, with
    a soft band of upper teeth under the upper lip.

    Where the warp already brings the template's own open mouth (real teeth, tongue) into the opening, that
    is kept. Colours come from the frame's own lips so the inside suits the face and the light. Only the
    polygon's bounding box is touched; ``pixels``, ``mask`` and ``field`` cover ``box``."""
    bx0, by0, bx1, by1 = box
    px0, py0 = np.floor(polygon.min(0)).astype(int) - 2
    px1, py1 = np.ceil(polygon.max(0)).astype(int) + 3
    x0, y0, x1, y1 = max(px0, bx0), max(py0, by0), min(px1, bx1), min(py1, by1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    h, w = y1 - y0, x1 - x0
    hard = np.zeros((h, w), np.uint8)
    cv2.fillPoly(hard, [np.round((polygon - (x0, y0)) * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
    if hard.max() == 0:
        return
    cav = cv2.GaussianBlur(hard.astype(np.float32) / 255.0, (0, 0), 0.8)

    lip = _lip_colour(frame, lm)
    gap_px = max(opening * geo.width, 1.0)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    rel_x, rel_y = xx - np.float32(geo.center[0]), yy - np.float32(geo.center[1])
    down = rel_x * np.float32(geo.v[0]) + rel_y * np.float32(geo.v[1])
    along = rel_x * np.float32(geo.u[0]) + rel_y * np.float32(geo.u[1])
    top, bottom = _edges(polygon, geo, along)
    rows = down - top                                            # px below the upper lip's inner edge, here
    # where the target lips meet (the sides of a rounded mouth, a closing one) the outline has no height, but
    # its anti-aliased fill would still draw a dark line along it
    cav *= np.clip(bottom - top - 0.5, 0.0, 1.0)
    depth = np.clip(rows / gap_px, 0.0, 1.0)
    across = np.clip(np.abs(along) / (0.5 * geo.width), 0.0, 1.0)

    # a dark, warm cavity; the tongue shows low in a wide-open mouth; the corners fall into shadow
    inner = np.empty((h, w, 3), np.float32)
    inner[:] = lip * np.array([0.10, 0.11, 0.26]) + 3.0          # deep red-brown, not grey
    wide = np.clip(gap_px / (0.14 * geo.width), 0.0, 1.0)
    tongue_w = (_smoothstep(np.clip((depth - 0.55) / 0.45, 0.0, 1.0)) * (0.7 * wide))[..., None]
    inner += (lip * 0.5 - inner) * tongue_w
    inner *= (1.0 - 0.55 * across ** 2)[..., None]

    if teeth > 0:   # upper teeth: a soft off-white band just under the upper lip, hidden at the corners
        band = max(1.0, min(0.5 * gap_px, 0.12 * geo.width))
        band += (gap_px + 1.0 - band) * tuck              # f/v: the upper teeth rest on the lower lip
        tooth = np.clip(1.3 * (1.0 - rows / band), 0.0, 1.0) ** 0.4 * (rows > -1.5)   # firm lower edge
        tooth = cv2.GaussianBlur(tooth.astype(np.float32), (0, 0), 0.7)
        tooth *= np.clip(1.0 - across ** 2.5, 0.0, 1.0) * min(1.0, 1.5 * teeth)
        tooth *= max(tuck, np.clip(gap_px / (0.05 * geo.width), 0.0, 1.0))   # none in a barely open mouth
        # teeth catch the light like the skin around them, but stay clearly lighter than the lips
        light = np.clip(np.max(lip) / 200.0, 0.75, 1.0)
        enamel = ((0.88 * np.array([204.0, 226.0, 240.0]) + 0.12 * lip) * light).astype(np.float32)  # ivory
        inner += (enamel - inner) * tooth[..., None]

    local = field[y0 - by0: y1 - by0, x0 - bx0: x1 - bx0]
    cav = cav * (1.0 - template_interior(lm, xx + local[..., 0], yy + local[..., 1]))
    region = pixels[y0 - by0: y1 - by0, x0 - bx0: x1 - bx0]
    c3 = cav[..., None]
    region[:] = np.clip(region * (1.0 - c3) + inner * c3 + 0.5, 0, 255).astype(np.uint8)
    m = mask[y0 - by0: y1 - by0, x0 - bx0: x1 - bx0]
    np.maximum(m, cav, out=m)


def template_interior(lm: np.ndarray, src_x: np.ndarray, src_y: np.ndarray) -> np.ndarray:
    """How much each output pixel, sampled from the frame at (src_x, src_y), shows the template's own open
    mouth: 1 deep inside its inner-lip outline, 0 on or outside it (the lips' inner edge is lip, not mouth)."""
    poly = lm[list(L.INNER_LIPS)]
    cx0, cy0 = np.floor(poly.min(0)).astype(int) - 2
    cx1, cy1 = np.ceil(poly.max(0)).astype(int) + 3
    inside = np.zeros((cy1 - cy0, cx1 - cx0), np.uint8)
    cv2.fillPoly(inside, [np.round((poly - (cx0, cy0)) * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8))
    return cv2.remap(inside.astype(np.float32) / 255.0, (src_x - cx0).astype(np.float32),
                     (src_y - cy0).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _lip_colour(frame: np.ndarray, lm: np.ndarray) -> np.ndarray:
    outline = lm[list(L.OUTER_LIPS)]
    x0, y0 = np.floor(outline.min(0)).astype(int)
    x1, y1 = np.ceil(outline.max(0)).astype(int) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    patch = frame[y0:y1, x0:x1]
    if patch.size == 0:
        return np.array([90.0, 90.0, 150.0])
    m = np.zeros(patch.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(outline - (x0, y0)).astype(np.int32)], 1)
    cv2.fillPoly(m, [np.round(lm[list(L.INNER_LIPS)] - (x0, y0)).astype(np.int32)], 0)
    sel = patch[m > 0]
    return sel.reshape(-1, 3).astype(np.float64).mean(0) if len(sel) else np.array([90.0, 90.0, 150.0])


def _edges(polygon: np.ndarray, geo: MouthGeometry, along: np.ndarray):
    """How far below the mouth centre the (target) upper and lower inner lips run at each position ``along``
    the mouth: the teeth hang from the upper lip's own curve, so no dark seam opens between them."""
    n = (len(polygon) + 2) // 2          # the polygon: the upper inner edge, then the lower one back
    upper, lower = polygon[:n], np.concatenate([polygon[:1], polygon[n:], polygon[n - 1: n]])
    return tuple(np.interp(along, *_sorted(geo.along(e), geo.down(e))).astype(np.float32) for e in (upper, lower))
