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
The parts: `mouth_shape` (geometry and target points), `warp` (the field), `cavity` (the inside).
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import ThreadpoolController

from ..composite import Patch, clip_box
from ..options import LipSyncOptions
from ..phonetic import mouth_track, viseme_timeline
from ..speech import Speech
from .cavity import paint_cavity
from .mouth_shape import MouthGeometry, pucker, target_points
from .warp import remap, warp_field


class ProceduralEngine:
    name = "procedural"
    batch_size = 8      # frames handed over at a time: enough to keep the reader and encoder threads busy

    def __init__(self, options: LipSyncOptions):
        self.options = options
        self.opening: np.ndarray | None = None   # per output frame, fraction of mouth width
        self.spread: np.ndarray | None = None    # per output frame, width factor around 1
        self.tuck: np.ndarray | None = None      # per output frame, lower lip under the upper teeth (f v)

    # -- audio side, once per (speech, video)
    def prepare(self, speech: Speech, fps: float, n_frames: int) -> None:
        track = mouth_frames(speech, fps, n_frames, self.options)
        self.opening, self.spread, self.tuck = track.opening, track.spread, track.tuck

    def target_opening(self) -> np.ndarray | None:
        """The inner-lip opening this engine aims at for each output frame (fraction of mouth width), once
        prepared: what the tuning plots draw beside the opening measured on the result."""
        return None if self.opening is None else self.opening.copy()

    # -- image side
    def synthesize(self, frames, faces, indices):
        # Tiny solves and products: BLAS worker threads only fight the decoder and encoder threads here.
        with _blas_threads().limit(limits=1):
            return [None if face is None else render_near_mouth(self.render, frame, face, self.opening[k],
                                                                self.spread[k], self.tuck[k])
                    for frame, face, k in zip(frames, faces, indices)]

    def render(self, frame: np.ndarray, lm: np.ndarray, opening: float, spread: float,
               tuck: float = 0.0) -> Patch | None:
        """The patch that gives ``frame`` an inner-lip opening of ``opening`` × mouth width."""
        geo = MouthGeometry(lm)
        if geo.width < 6:           # a face too small to animate: leave the frame as it is
            return None
        target = target_points(lm, geo, opening, spread, self.options.jaw_follow, tuck)
        box = clip_box(geo.region(), frame.shape[1], frame.shape[0])
        if box[2] - box[0] < 8 or box[3] - box[1] < 8:
            return None
        field, sub = warp_field(target, geo, lm, box)
        if field is None:
            return None
        pixels = remap(frame, field, sub)
        mask = np.hypot(field[..., 0], field[..., 1])
        mask *= 4.0
        np.minimum(mask, 1.0, out=mask)                     # clip to 0..1 (a length is never below 0)
        mask[mask < 1.0 / 64] = 0.0        # a displacement this small changes no pixel: leave those exact
        if opening * geo.width > 1.0:
            # rounded lips pushed forward hide the teeth; the small opening shows the dark inside
            teeth = self.options.teeth * (1.0 - 0.8 * pucker(spread))
            paint_cavity(pixels, mask, field, frame, target.polygon, sub, lm, geo, opening, teeth, tuck)
        return Patch(sub, pixels, mask)


def render_near_mouth(render, frame, lm: np.ndarray, opening: float, spread: float,
                      tuck: float = 0.0) -> Patch | None:
    """``render(frame, lm, opening, spread, tuck)`` given only the BGR pixels around the mouth when ``frame`` is a
    `PlanarFrame` (YUV planes read as BGR where read): the region the warp can sample, the mouth region
    plus more than the farthest displacement, with the landmarks and the patch shifted to match."""
    if isinstance(frame, np.ndarray):
        return render(frame, lm, opening, spread, tuck)
    geo = MouthGeometry(lm)
    x0, y0, x1, y1 = geo.region()
    reach = 0.7 * geo.width + 4.0               # targets open at most 0.6 mouth widths
    bx0, by0, bx1, by1 = clip_box((x0 - reach, y0 - reach, x1 + reach, y1 + reach), frame.shape[1],
                                  frame.shape[0])
    if bx1 - bx0 < 8 or by1 - by0 < 8:
        return None
    patch = render(frame[by0:by1, bx0:bx1], lm - np.array([bx0, by0], lm.dtype), opening, spread, tuck)
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
    track = mouth_frames(speech, fps, n_frames, options)
    return track.opening, track.spread


def mouth_frames(speech: Speech, fps: float, n_frames: int, options: LipSyncOptions):
    """The speech's mouth for each output frame (`phonetic.MouthTrack`)."""
    return mouth_track(viseme_timeline(speech), fps, n_frames, max_opening=options.max_opening,
                       gain=options.mouth_gain, rounding=options.rounding, attack_ms=options.attack_ms,
                       release_ms=options.release_ms, silence_db=options.silence_db)


# ---------------------------------------------------------------------------------------------------------
# geometry
