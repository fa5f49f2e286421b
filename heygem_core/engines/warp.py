"""The backward-warp field that moves the real lips and jaw: Gaussian radial basis functions on a coarse grid,
anchored on the nose and cheeks, faded to zero above the upper lip and well inside its region; `remap` applies it."""
from __future__ import annotations

import cv2
import numpy as np

from ..face import landmarks as L
from .mouth_shape import MouthGeometry, MouthTarget, _sorted

# Half-width (px) of the blend between the two halves' fields along the lip line between the corners. It is
# the *displacement* that blends, so a pixel on the blend samples between the places the halves sample: on
# a template whose mouth is open, the dark gap between its lips. Narrow enough that no pixel takes that.
SEAM_HALF = 0.01


def split_weight(box, target: MouthTarget, geo: MouthGeometry) -> np.ndarray:
    """How much each pixel belongs to the lower half: 0 above the line where the target lips meet, 1 below.

    Sharp between the mouth corners (the lips' own edge), widening into a soft blend beyond them where both
    halves hardly move, so no seam runs out across the cheeks. [shape=(h, w), float32]"""
    x0, y0, x1, y1 = box
    # position along and down the mouth of every pixel, from one row and one column (it is linear in x, y)
    xs = (np.arange(x0, x1, dtype=np.float64) - geo.center[0])[None, :]
    ys = (np.arange(y0, y1, dtype=np.float64) - geo.center[1])[:, None]
    u, v = geo.u.astype(np.float32).astype(np.float64), geo.v.astype(np.float32).astype(np.float64)
    along = xs * u[0] + ys * u[1]
    down = xs * v[0] + ys * v[1]
    mid = (target.inner_upper + target.inner_lower) / 2.0
    line = np.interp(along, *_sorted(geo.along(mid), geo.down(mid))).astype(np.float32)
    half = 0.5 * np.ptp(geo.along(mid))
    # t = clip(0.5 + (down - line) / (2 * width), 0, 1), width = SEAM_HALF + 0.6 * max(|along| - half, 0): the
    # same float64 operations, in place (the pixel arrays are the cost here)
    width = np.abs(along, out=along)
    width -= half
    np.maximum(width, 0.0, out=width)
    width *= 0.6
    width += SEAM_HALF
    width *= 2.0
    t = np.subtract(down, line, out=down)
    t /= width
    t += 0.5
    np.maximum(t, 0.0, out=t)
    np.minimum(t, 1.0, out=t)
    return _smoothstep(t).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# the warp

def warp_field(target: MouthTarget, geo: MouthGeometry, lm: np.ndarray, box):
    """Backward displacement (output pixel → where to sample the frame) and the part of ``box`` it moves.

    Each half is a Gaussian RBF fit at the target positions, so output(dst_j) = input(src_j); without a
    polynomial term it decays to zero away from the points. The smooth parts (both fields and their fade-outs
    below the nose and at the box edge) are evaluated on a coarse grid and upsampled; only the split at the
    lip line, which must stay sharp, is computed per pixel. Returns ``(field [shape=(h, w, 2)], sub_box)``,
    or ``(None, None)`` when nothing moves."""
    x0, y0, x1, y1 = box
    step = int(np.clip(geo.width / 12.0, 2, 8))
    # grid point i sits where an exact ×step resize puts source sample i: at x0 + i*step + (step - 1)/2
    half = (step - 1) / 2.0
    gx = x0 + half + step * np.arange(-(-(x1 - x0) // step), dtype=np.float64)
    gy = y0 + half + step * np.arange(-(-(y1 - y0) // step), dtype=np.float64)
    grid = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
    sigma = 0.42 * geo.width
    window = below_nose_window(grid, lm, geo) * edge_window(grid, box)
    halves = [rbf_on_grid(gx, gy, src, dst, sigma).reshape(-1, 2) * window[:, None]
              for src, dst in ((target.upper_src, target.upper_dst), (target.lower_src, target.lower_dst))]
    moving = np.maximum(*(np.hypot(h[:, 0], h[:, 1]) for h in halves)).reshape(len(gy), len(gx)) * 4.0 > 1 / 64
    if not moving.any():
        return None, None
    rows, cols = np.nonzero(moving)
    sub = (x0 + max(cols.min() - 1, 0) * step, y0 + max(rows.min() - 1, 0) * step,
           min(x1, x0 + (cols.max() + 2) * step), min(y1, y0 + (rows.max() + 2) * step))
    # upsample only the grid cells around sub (one more each side: an exact x step resize then gives the
    # same values there as upsampling the whole grid)
    r0, r1 = max(rows.min() - 2, 0), min(rows.max() + 3, len(gy))
    c0, c1 = max(cols.min() - 2, 0), min(cols.max() + 3, len(gx))
    size = ((c1 - c0) * step, (r1 - r0) * step)
    ox, oy = sub[0] - x0 - c0 * step, sub[1] - y0 - r0 * step
    up, lo = (cv2.resize(h.reshape(len(gy), len(gx), 2)[r0:r1, c0:c1].astype(np.float32), size,
                         interpolation=cv2.INTER_LINEAR)
              [oy: oy + sub[3] - sub[1], ox: ox + sub[2] - sub[0]] for h in halves)
    w = split_weight(sub, target, geo)
    # exact zero on the box border, whatever the grid did between its points
    ex = edge_window(np.stack([np.arange(sub[0], sub[2]), np.full(sub[2] - sub[0], (y0 + y1) / 2)], 1), box)
    ey = edge_window(np.stack([np.full(sub[3] - sub[1], (x0 + x1) / 2), np.arange(sub[1], sub[3])], 1), box)
    edge = (ey[:, None] * ex[None, :]).astype(np.float32)
    # (up + (lo - up) * w) * edge, one component at a time: broadcasting a (h, w, 1) factor over the two
    # components runs numpy's inner loop two elements at a time, several times slower for the same values
    field = lo - up
    for c in (0, 1):
        f = field[..., c]
        f *= w
        f += up[..., c]
        f *= edge
    return field, sub


def rbf(points: np.ndarray, src: np.ndarray, dst: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-RBF interpolation of the displacements ``src - dst`` known at ``dst``, at ``points``.

    [points shape=(P, 2)] → [shape=(P, 2)]"""
    disp = src - dst
    if not np.any(np.abs(disp) > 0.05):
        return np.zeros_like(points)
    return np.exp(_sq_dist(points, dst) * (-0.5 / (sigma * sigma))) @ _rbf_weights(dst, disp, sigma)


def rbf_on_grid(gx: np.ndarray, gy: np.ndarray, src: np.ndarray, dst: np.ndarray, sigma: float) -> np.ndarray:
    """`rbf` at every point of the grid ``gx`` x ``gy`` (rows along y). A Gaussian of the distance is a
    Gaussian of dx times one of dy, so the grid takes two small matrix products per axis of displacement
    instead of one kernel value per grid point and control point. [shape=(len(gy), len(gx), 2)]"""
    disp = src - dst
    if not np.any(np.abs(disp) > 0.05):
        return np.zeros((len(gy), len(gx), 2))
    weights = _rbf_weights(dst, disp, sigma)
    inv = -0.5 / (sigma * sigma)
    ex = np.exp(np.square(gx[:, None] - dst[None, :, 0]) * inv)      # (nx, J)
    ey = np.exp(np.square(gy[:, None] - dst[None, :, 1]) * inv)      # (ny, J)
    return np.stack([(ey * weights[:, c]) @ ex.T for c in (0, 1)], -1)


def _rbf_weights(dst: np.ndarray, disp: np.ndarray, sigma: float) -> np.ndarray:
    k = np.exp(_sq_dist(dst, dst) * (-0.5 / (sigma * sigma)))
    return np.linalg.solve(k + 1e-3 * np.eye(len(dst)), disp)


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)


def below_nose_window(points: np.ndarray, lm: np.ndarray, geo: MouthGeometry) -> np.ndarray:
    """0 at and above the bottom of the nose, rising smoothly to 1 just above the upper lip. [shape=(P,)]"""
    nose = lm[L.SUBNASALE]
    span = max(1.0, float((lm[L.UPPER_LIP_OUTER_MID] - nose) @ geo.v))
    t = ((points - nose) @ geo.v) / (0.8 * span)
    return _smoothstep(np.clip(t, 0.0, 1.0))


def edge_window(points: np.ndarray, box, margin: float = 0.12) -> np.ndarray:
    """1 inside ``box``, falling smoothly to 0 over its outer ``margin`` and 0 on and beyond its border."""
    x0, y0, x1, y1 = box
    def ramp(v, lo, hi):
        t = np.minimum(v - lo, hi - 1 - v) / max(1.0, margin * (hi - lo))
        return _smoothstep(np.clip(t, 0.0, 1.0))
    return ramp(points[:, 0], x0, x1) * ramp(points[:, 1], y0, y1)


def remap(frame: np.ndarray, field: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]       # a row and a column, not a whole pixel grid
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    return cv2.remap(frame, field[..., 0] + xs, field[..., 1] + ys, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _smoothstep(t):
    return t * t * (3.0 - 2.0 * t)


# ---------------------------------------------------------------------------------------------------------
# the inside of the mouth
