"""The mouth's geometry from its landmarks, and the target mouth a frame is aimed at (an inner-lip opening and a
spread/rounding), as landmark positions the warp moves the real lips and jaw to."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face import landmarks as L

UPPER_LIFT = 0.2      # share of an opening taken by the upper lip; the jaw and lower lip take the rest
TUCK_ROLL = 0.35      # share of the lower lip's height that rolls in under the upper teeth at a full f/v
# Pressed lips overlap by up to this much of the mouth's width (+1 px; no more than the template's lips are
# apart): each half of the warp then meets the other a little inside its own lip, so no dark line of the
# template's open mouth, and no jag where the landmarks miss the lip's edge by a pixel, is left on the seam.
PRESS_OVERLAP = 0.06
# Rounding (o u w): a width factor this far below 1 is fully rounded: at the default ``rounding`` a spread of
# −0.6, where o and u land once the timeline has blended them with their neighbours. A rounded mouth opens
# only in its middle: the lips meet over the outer part of the inner mouth (PUCKER_NARROW of its half-width),
# the opening's ends are rounder, the corners come in further than the width factor alone brings them, and
# the lips bunch up and push forward: more of their red shows.
PUCKER_FULL = 0.12
PUCKER_NARROW = 0.6
PUCKER_CORNERS = 0.06     # extra draw of the corners towards the middle, share of their distance from it
PUCKER_PUFF = 0.25        # share of each lip's height added to it at full rounding, most in the middle
PUCKER_TALL = 0.25        # a fully rounded opening is this much taller than asked for: rounder, not a slit

# Corner to corner, image order as in landmarks.py; UPPER[i] faces LOWER[i].
INNER_UPPER = list(L.INNER_UPPER_LIP)
INNER_LOWER = list(L.INNER_LOWER_LIP)
OUTER_UPPER = list(L.OUTER_LIPS[:11])
OUTER_LOWER = [L.OUTER_LIPS[0], *L.OUTER_LIPS[11:][::-1], L.OUTER_LIPS[10]]
CHIN_INNER = [18, 200, 199, 175]   # between the lower lip and the chin point
# points that must not move when the mouth does: nose, cheeks, eye corners
ANCHORS = sorted({*L.NOSE_BRIDGE, *L.NOSE_BOTTOM, *L.RIGHT_EYE_CORNERS, *L.LEFT_EYE_CORNERS,
                  50, 280, 205, 425, 187, 411, 117, 346, 123, 352})
# the face's sides at the height of the mouth, held by the upper half too: without them the upper half's
# field, anchored only higher up, carries the corners' pull across the cheeks to the face's edge
SIDES = [93, 132, 58, 323, 361, 288]


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
    down: np.ndarray             # unit vector down the face (MouthGeometry.v)

    @property
    def polygon(self) -> np.ndarray:
        """The target mouth opening: upper inner edge corner→corner, then the lower one back. Where the lips
        overlap (pressed), the lower edge is held on the upper one, so the outline never crosses itself."""
        v = self.down
        lower = self.inner_lower + np.outer(np.maximum((self.inner_upper - self.inner_lower) @ v, 0.0), v)
        upper, lower = (_smooth_edge(e) for e in (self.inner_upper, lower))
        return np.concatenate([upper, lower[-2:0:-1]])


def pucker(spread: float) -> float:
    """How rounded (0..1) a mouth with width factor ``spread`` is: 0 for neutral or spread lips."""
    return float(np.clip((1.0 - spread) / PUCKER_FULL, 0.0, 1.0))


def target_points(lm: np.ndarray, geo: MouthGeometry, opening: float, spread: float,
                  jaw_follow: float, tuck: float = 0.0) -> MouthTarget:
    """Aim the frame's mouth at the target shape: inner-lip gap = ``opening`` × mouth width in the middle,
    tapering to shut at the corners, whatever the template's mouth is doing now. ``tuck`` (0..1) draws the
    lower lip up and in under the upper teeth (f, v): its outer edge rises, so less of it shows. A ``spread``
    below 1 rounds the lips (see PUCKER_*): a smaller, rounder opening between fuller lips, corners drawn in."""
    upper, lower = lm[INNER_UPPER[1:-1]], lm[INNER_LOWER[1:-1]]
    gap_now = np.maximum(geo.down(lower) - geo.down(upper), 0.0)      # per inner-lip pair, px

    corners = lm[list(L.INNER_MOUTH_CORNERS)]
    inner_half = max(1.0, 0.5 * abs(geo.along(corners[1]) - geo.along(corners[0])))
    s = np.clip(geo.along((upper + lower) / 2.0) / inner_half, -1.0, 1.0)
    rounded = pucker(spread)
    hole = s / (1.0 - PUCKER_NARROW * rounded)                        # a rounded mouth opens in its middle only
    # open in the middle, shut at the corners; the lower power gives a rounded mouth blunter, rounder ends
    profile = np.power(np.clip(1.0 - hole * hole, 0.0, 1.0), 0.7 - 0.25 * rounded)
    want = opening * geo.width * (1.0 + PUCKER_TALL * rounded) * profile
    # where the lips meet they overlap, as far as the template's lips are apart there (lips already shut
    # keep their own line) and fading towards the corners, where they are thin; a small gap grows out of
    # the overlap continuously (2·want − overlap up to want = overlap)
    full = PRESS_OVERLAP * geo.width + 1.0
    overlap = np.minimum(full, gap_now) * np.sqrt(np.clip(1.0 - s * s, 0.0, 1.0))
    want = np.where(want < overlap, 2.0 * want - overlap, want)
    delta = want - gap_now                                            # > 0 opens, < 0 closes
    centre_delta = float(np.interp(0.0, *_sorted(s, delta)))
    draw = spread - 1.0 - PUCKER_CORNERS * rounded

    def moved(idx, shift_px, lips=True):
        p = lm[idx]
        q = p + np.outer(shift_px, geo.v)
        if not lips:       # rounding and spreading are the lips': the jaw and chin only rise and fall
            return p, q
        a = geo.along(q)
        # spread / round about the centre; the extra draw of a rounded mouth grows towards the corners
        t = np.clip(np.abs(a) / (0.5 * geo.width), 0.0, 1.0)
        return p, q + np.outer((spread - 1.0 + (draw - spread + 1.0) * t) * a, geo.u)

    def puff(idx, inner_idx):
        """Rounded lips push forward and bunch up: each lip's outer edge moves away from the mouth by a share
        of the lip's own height there, most in the middle."""
        if rounded == 0:
            return 0.0
        a = geo.along(lm[idx])
        edge = np.interp(a, *_sorted(geo.along(lm[inner_idx]), geo.down(lm[inner_idx])))
        height = np.abs(geo.down(lm[idx]) - edge)
        middle = np.clip(1.0 - (a / (0.5 * geo.width)) ** 2, 0.0, 1.0)
        return PUCKER_PUFF * rounded * height * middle

    def carried(idx):
        """Inner-lip deltas carried to other lip points by their position along the mouth."""
        t = np.clip(geo.along(lm[idx]) / inner_half, -1.0, 1.0)
        return np.interp(t, *_sorted(s, delta))

    # the upper lip lifts a little (a rounded one more, so the opening is round, not a slot in the lower
    # lip); the lower lip and the jaw take the rest
    lift = UPPER_LIFT * (1.0 + rounded)
    iu = moved(INNER_UPPER, -lift * carried(INNER_UPPER))
    ou = moved(OUTER_UPPER, -0.8 * lift * carried(OUTER_UPPER) - puff(OUTER_UPPER, INNER_UPPER))
    il = moved(INNER_LOWER, (1.0 - lift) * carried(INNER_LOWER))
    roll = 0.0
    if tuck > 0:   # the lower lip rolls in: its outer edge comes up by a share of the lip's own height
        inner_at = np.interp(geo.along(lm[OUTER_LOWER]), *_sorted(geo.along(lm[INNER_LOWER]),
                                                                  geo.down(lm[INNER_LOWER])))
        thickness = np.maximum(geo.down(lm[OUTER_LOWER]) - inner_at, 0.0)
        roll = -TUCK_ROLL * tuck * thickness
    ol = moved(OUTER_LOWER, (1.0 - lift) * carried(OUTER_LOWER) + roll + puff(OUTER_LOWER, INNER_LOWER))
    il[1][[0, -1]] = iu[1][[0, -1]]                                   # the corners are shared

    # the jaw turns about the ears: points move less the nearer they are to them
    jaw = list(L.JAW)
    half_face = max(1.0, 0.5 * np.ptp(geo.along(lm[jaw])))
    fall = np.clip(1.0 - np.abs(geo.along(lm[jaw])) / (1.15 * half_face), 0.0, 1.0) ** 0.8
    drop = (1.0 - lift) * centre_delta
    jw = moved(jaw, jaw_follow * drop * fall, lips=False)
    ch = moved(CHIN_INNER, np.full(len(CHIN_INNER), 0.5 * (1.0 + jaw_follow) * drop), lips=False)
    anchors = lm[ANCHORS]

    def stack(*pairs):
        return (np.concatenate([p for p, _ in pairs] + [anchors]).astype(np.float64),
                np.concatenate([q for _, q in pairs] + [anchors]).astype(np.float64))

    sides = lm[SIDES]
    up_src, up_dst = stack(iu, ou, (sides, sides))
    lo_src, lo_dst = stack(il, ol, jw, ch)
    return MouthTarget(up_src, up_dst, lo_src, lo_dst, iu[1], il[1], geo.v)


def _smooth_edge(edge: np.ndarray, rounds: int = 2) -> np.ndarray:
    """An inner-lip edge (corner to corner) with its corners cut (Chaikin), ends kept: the few landmarks
    inside a small rounded opening would outline a V, not a curve."""
    for _ in range(rounds):
        cut = np.empty((2 * len(edge) - 2, 2))
        cut[0::2] = 0.75 * edge[:-1] + 0.25 * edge[1:]
        cut[1::2] = 0.25 * edge[:-1] + 0.75 * edge[1:]
        edge = np.concatenate([edge[:1], cut, edge[-1:]])
    return edge


def _sorted(x, y):
    order = np.argsort(x)
    return x[order], y[order]
