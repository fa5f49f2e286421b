"""The weights-free engine: the person's own lips and jaw, moved by the speech.

Per output frame the speech gives a target mouth: an inner-lip opening (a fraction of mouth width) and a lip
spread/rounding, from the speech's viseme timeline (heygem_core.phonetic: p b m press the lips, f v bring the
lower lip to the teeth, o u w round, i e spread, a opens wide, silence closes). The frame's
real landmarks give where the lips are now. Every frame is aimed at the *target* shape (closed-neutral plus
the speech-driven opening), never pushed by a delta on top of whatever the template mouth was doing, so a
template that already talks does not double the motion.

The landmark displacements become a smooth backward-warp field (Gaussian radial basis functions with fixed
anchors on the nose and cheeks), faded to zero above the upper lip and well inside its region, so nothing
above the mouth moves and no box edge shows. Where the target mouth is open, the space between the warped
inner lip contours is filled with a shaded cavity and a hint of the upper teeth; the lips stay on top.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from threadpoolctl import ThreadpoolController

from ..face import landmarks as L
from ..composite import Patch, clip_box
from ..options import LipSyncOptions
from ..phonetic import mouth_track, viseme_timeline
from ..speech import Speech

UPPER_LIFT = 0.2      # share of an opening taken by the upper lip; the jaw and lower lip take the rest

# Corner to corner, image order as in landmarks.py; UPPER[i] faces LOWER[i].
INNER_UPPER = list(L.INNER_UPPER_LIP)
INNER_LOWER = list(L.INNER_LOWER_LIP)
OUTER_UPPER = list(L.OUTER_LIPS[:11])
OUTER_LOWER = [L.OUTER_LIPS[0], *L.OUTER_LIPS[11:][::-1], L.OUTER_LIPS[10]]
CHIN_INNER = [18, 200, 199, 175]   # between the lower lip and the chin point
# points that must not move when the mouth does: nose, cheeks, eye corners
ANCHORS = sorted({*L.NOSE_BRIDGE, *L.NOSE_BOTTOM, *L.RIGHT_EYE_CORNERS, *L.LEFT_EYE_CORNERS,
                  50, 280, 205, 425, 187, 411, 117, 346, 123, 352})


class ProceduralEngine:
    name = "procedural"
    batch_size = 8      # frames handed over at a time: enough to keep the reader and encoder threads busy

    def __init__(self, options: LipSyncOptions):
        self.options = options
        self.opening: np.ndarray | None = None   # per output frame, fraction of mouth width
        self.spread: np.ndarray | None = None    # per output frame, width factor around 1

    # -- audio side, once per (speech, video)
    def prepare(self, speech: Speech, fps: float, n_frames: int) -> None:
        self.opening, self.spread = mouth_targets(speech, fps, n_frames, self.options)

    def target_opening(self) -> np.ndarray | None:
        """The inner-lip opening this engine aims at for each output frame (fraction of mouth width), once
        prepared: what the tuning plots draw beside the opening measured on the result."""
        return None if self.opening is None else self.opening.copy()

    # -- image side
    def synthesize(self, frames, faces, indices):
        # Tiny solves and products: BLAS worker threads only fight the decoder and encoder threads here.
        with _blas_threads().limit(limits=1):
            return [None if face is None else render_near_mouth(self.render, frame, face, self.opening[k],
                                                                self.spread[k])
                    for frame, face, k in zip(frames, faces, indices)]

    def render(self, frame: np.ndarray, lm: np.ndarray, opening: float, spread: float) -> Patch | None:
        """The patch that gives ``frame`` an inner-lip opening of ``opening`` × mouth width."""
        geo = MouthGeometry(lm)
        if geo.width < 6:           # a face too small to animate: leave the frame as it is
            return None
        target = target_points(lm, geo, opening, spread, self.options.jaw_follow)
        box = clip_box(geo.region(), frame.shape[1], frame.shape[0])
        if box[2] - box[0] < 8 or box[3] - box[1] < 8:
            return None
        field, sub = warp_field(target, geo, lm, box)
        if field is None:
            return None
        pixels = remap(frame, field, sub)
        mask = np.clip(np.hypot(field[..., 0], field[..., 1]) * 4.0, 0.0, 1.0)
        mask[mask < 1.0 / 64] = 0.0        # a displacement this small changes no pixel: leave those exact
        if opening * geo.width > 1.0:
            paint_cavity(pixels, mask, field, frame, target.polygon, sub, lm, geo, opening, self.options.teeth)
        return Patch(sub, pixels, mask)


def render_near_mouth(render, frame, lm: np.ndarray, opening: float, spread: float) -> Patch | None:
    """``render(frame, lm, opening, spread)`` given only the BGR pixels around the mouth when ``frame`` is a
    `PlanarFrame` (YUV planes read as BGR where read): the region the warp can sample, the mouth region
    plus more than the farthest displacement, with the landmarks and the patch shifted to match."""
    if isinstance(frame, np.ndarray):
        return render(frame, lm, opening, spread)
    geo = MouthGeometry(lm)
    x0, y0, x1, y1 = geo.region()
    reach = 0.7 * geo.width + 4.0               # targets open at most 0.6 mouth widths
    bx0, by0, bx1, by1 = clip_box((x0 - reach, y0 - reach, x1 + reach, y1 + reach), frame.shape[1],
                                  frame.shape[0])
    if bx1 - bx0 < 8 or by1 - by0 < 8:
        return None
    patch = render(frame[by0:by1, bx0:bx1], lm - np.array([bx0, by0], lm.dtype), opening, spread)
    if patch is None:
        return None
    px0, py0, px1, py1 = patch.box
    return Patch((px0 + bx0, py0 + by0, px1 + bx0, py1 + by0), patch.pixels, patch.mask)


_CONTROLLER: list[ThreadpoolController] = []


def _blas_threads() -> ThreadpoolController:
    """The loaded BLAS libraries, found once: looking them up scans every loaded library, which cost
    more than the small products it was limiting when done for each batch of frames."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


# ---------------------------------------------------------------------------------------------------------
# speech → mouth targets

def mouth_targets(speech: Speech, fps: float, n_frames: int, options: LipSyncOptions):
    """Inner-lip opening (fraction of mouth width) and lip width factor for each output frame, from the
    speech's viseme timeline (its script aligned when ``speech.text`` is set): lips pressed for p b m, lower
    lip to the teeth for f v, rounded o u w, spread i e, open a, closed in silence."""
    track = mouth_track(viseme_timeline(speech), fps, n_frames, max_opening=options.max_opening,
                        gain=options.mouth_gain, rounding=options.rounding, attack_ms=options.attack_ms,
                        release_ms=options.release_ms, silence_db=options.silence_db)
    return track.opening, track.spread


# ---------------------------------------------------------------------------------------------------------
# geometry

class MouthGeometry:
    """A mouth-aligned frame: origin between the corners, ``u`` along the mouth, ``v`` down the face."""

    def __init__(self, lm: np.ndarray):
        left, right = lm[L.MOUTH_CORNERS[0]], lm[L.MOUTH_CORNERS[1]]
        self.center = (left + right) / 2.0
        d = right - left
        self.width = float(np.hypot(*d))
        self.u = d / max(self.width, 1e-6)
        self.v = np.array([-self.u[1], self.u[0]])
        if (lm[L.CHIN] - self.center) @ self.v < 0:   # v must point from the mouth towards the chin
            self.v = -self.v
        self.lm = lm

    def along(self, p: np.ndarray) -> np.ndarray:
        return (p - self.center) @ self.u

    def down(self, p: np.ndarray) -> np.ndarray:
        return (p - self.center) @ self.v

    def region(self):
        """Box for the warp: mouth, chin and jaw, reaching up to the nose tip."""
        pts = self.lm[np.r_[list(L.JAW), list(L.OUTER_LIPS), L.NOSE_TIP]]
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        m = 0.25 * self.width
        return x0 - m, y0, x1 + m, y1 + 0.6 * self.width


@dataclass
class MouthTarget:
    """Control points (``src`` now → ``dst`` wanted) for the two halves of the mouth, and the outline.

    The upper half (upper lip, nose and cheek anchors) and the lower half (lower lip, chin, jaw, anchors)
    get separate warps: where the lips meet, the picture folds (the gap between them disappears), and one
    smooth field cannot both pull the upper lip down and the lower lip up onto the same line."""

    upper_src: np.ndarray
    upper_dst: np.ndarray
    lower_src: np.ndarray
    lower_dst: np.ndarray
    inner_upper: np.ndarray      # target inner edge of the upper lip, corner to corner
    inner_lower: np.ndarray      # target inner edge of the lower lip, corner to corner

    @property
    def polygon(self) -> np.ndarray:
        """The target mouth opening: upper inner edge corner→corner, then the lower one back."""
        return np.concatenate([self.inner_upper, self.inner_lower[-2:0:-1]])


def target_points(lm: np.ndarray, geo: MouthGeometry, opening: float, spread: float,
                  jaw_follow: float) -> MouthTarget:
    """Aim the frame's mouth at the target shape: inner-lip gap = ``opening`` × mouth width in the middle,
    tapering to shut at the corners, whatever the template's mouth is doing now."""
    upper, lower = lm[INNER_UPPER[1:-1]], lm[INNER_LOWER[1:-1]]
    gap_now = np.maximum(geo.down(lower) - geo.down(upper), 0.0)      # per inner-lip pair, px

    corners = lm[list(L.INNER_MOUTH_CORNERS)]
    inner_half = max(1.0, 0.5 * abs(geo.along(corners[1]) - geo.along(corners[0])))
    s = np.clip(geo.along((upper + lower) / 2.0) / inner_half, -1.0, 1.0)
    profile = np.power(np.clip(1.0 - s * s, 0.0, 1.0), 0.7)          # open in the middle, shut at the corners
    delta = opening * geo.width * profile - gap_now                   # > 0 opens, < 0 closes
    centre_delta = float(np.interp(0.0, *_sorted(s, delta)))

    def moved(idx, shift_px):
        p = lm[idx]
        q = p + np.outer(shift_px, geo.v)
        return p, q + np.outer((spread - 1.0) * geo.along(q), geo.u)  # spread / round about the centre

    def carried(idx):
        """Inner-lip deltas carried to other lip points by their position along the mouth."""
        t = np.clip(geo.along(lm[idx]) / inner_half, -1.0, 1.0)
        return np.interp(t, *_sorted(s, delta))

    # the upper lip lifts a little; the lower lip and the jaw take the rest
    iu = moved(INNER_UPPER, -UPPER_LIFT * carried(INNER_UPPER))
    ou = moved(OUTER_UPPER, -0.8 * UPPER_LIFT * carried(OUTER_UPPER))
    il = moved(INNER_LOWER, (1.0 - UPPER_LIFT) * carried(INNER_LOWER))
    ol = moved(OUTER_LOWER, (1.0 - UPPER_LIFT) * carried(OUTER_LOWER))
    il[1][[0, -1]] = iu[1][[0, -1]]                                   # the corners are shared

    # the jaw turns about the ears: points move less the nearer they are to them
    jaw = list(L.JAW)
    half_face = max(1.0, 0.5 * np.ptp(geo.along(lm[jaw])))
    fall = np.clip(1.0 - np.abs(geo.along(lm[jaw])) / (1.15 * half_face), 0.0, 1.0) ** 0.8
    drop = (1.0 - UPPER_LIFT) * centre_delta
    jw = moved(jaw, jaw_follow * drop * fall)
    ch = moved(CHIN_INNER, np.full(len(CHIN_INNER), 0.5 * (1.0 + jaw_follow) * drop))
    anchors = lm[ANCHORS]

    def stack(*pairs):
        return (np.concatenate([p for p, _ in pairs] + [anchors]).astype(np.float64),
                np.concatenate([q for _, q in pairs] + [anchors]).astype(np.float64))

    up_src, up_dst = stack(iu, ou)
    lo_src, lo_dst = stack(il, ol, jw, ch)
    return MouthTarget(up_src, up_dst, lo_src, lo_dst, iu[1], il[1])


def _sorted(x, y):
    order = np.argsort(x)
    return x[order], y[order]


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
    outside = np.clip(np.abs(along) - half, 0.0, None)
    width = 0.75 + 0.6 * outside
    return _smoothstep(np.clip(0.5 + (down - line) / (2.0 * width), 0.0, 1.0)).astype(np.float32)


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
    w = split_weight(sub, target, geo)[..., None]
    field = up + (lo - up) * w
    # exact zero on the box border, whatever the grid did between its points
    ex = edge_window(np.stack([np.arange(sub[0], sub[2]), np.full(sub[2] - sub[0], (y0 + y1) / 2)], 1), box)
    ey = edge_window(np.stack([np.full(sub[3] - sub[1], (x0 + x1) / 2), np.arange(sub[1], sub[3])], 1), box)
    field *= (ey[:, None] * ex[None, :]).astype(np.float32)[..., None]
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
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    return cv2.remap(frame, xx + field[..., 0], yy + field[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _smoothstep(t):
    return t * t * (3.0 - 2.0 * t)


# ---------------------------------------------------------------------------------------------------------
# the inside of the mouth

def paint_cavity(pixels: np.ndarray, mask: np.ndarray, field: np.ndarray, frame: np.ndarray,
                 polygon: np.ndarray, box, lm: np.ndarray, geo: MouthGeometry, opening: float,
                 teeth: float) -> None:
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
    rows = down - _upper_edge(polygon, geo, along)               # px below the upper lip's inner edge, here
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
        tooth = np.clip(1.3 * (1.0 - rows / band), 0.0, 1.0) ** 0.4 * (rows > -1.5)   # firm lower edge
        tooth = cv2.GaussianBlur(tooth.astype(np.float32), (0, 0), 0.7)
        tooth *= np.clip(1.0 - across ** 2.5, 0.0, 1.0) * min(1.0, 1.5 * teeth)
        tooth *= np.clip(gap_px / (0.05 * geo.width), 0.0, 1.0)        # no teeth in a barely open mouth
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


def _upper_edge(polygon: np.ndarray, geo: MouthGeometry, along: np.ndarray) -> np.ndarray:
    """How far below the mouth centre the (target) upper inner lip runs at each position ``along`` the
    mouth, so the teeth hang from the lip's own curve and no dark seam opens between them."""
    upper = polygon[:len(INNER_UPPER)]  # the polygon starts with the upper inner edge
    xs, ys = _sorted(geo.along(upper), geo.down(upper))
    return np.interp(along, xs, ys).astype(np.float32)
