"""How well a video's lips make the shapes of its speech, whatever made the video.

Given the mouth opening of every frame (inner-lip gap ÷ mouth width, measured on the video) and the phones of
the speech with their timings:

- **bilabial closure**: the share of p b m on which the lips close (gap ≤ ``CLOSED`` within ±1 frame of the
  phone), the tell a viewer lip-reads without meaning to;
- **chance**: the same share with every phone moved 0.5–1.4 s away: what a mouth that closes at moments
  unrelated to the sounds scores. A mouth that truly follows the sounds scores well above it. A phone moved
  into a pause (its frames, ±1, not all speech) is left out: no p b m is spoken there, and the mouth has to be
  shut there anyway (silence closes it), so counting it would measure the pauses, not the timing of the
  lips. ``chance_with_pauses`` counts every moved phone, pauses included; on a clip with long pauses and few
  p b m it is high for any mouth that is shut in silence;
- **aperture ratio**: how wide open vowels (a) open against close vowels and labiodentals (i u f v w), each
  phone taken at its widest.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .visemes import BILABIALS, CLOSE_SOUNDS, OPEN_VOWELS

CLOSED = 0.06
CHANCE_SHIFTS_S = tuple(np.round(np.arange(0.5, 1.41, 0.1), 2))


@dataclass
class PhoneticReport:
    bilabial_closure: float    # share of p b m with closed lips (nan when there are none)
    chance: float              # the same with the phone timings shifted, of the shifted phones that land in speech
    chance_with_pauses: float  # the same, counting shifted phones that land in a pause too
    aperture_ratio: float      # mean widest opening on a ÷ on i u f v w
    open_aperture: float
    close_aperture: float
    n_bilabials: int
    source: str                # where the phone timings came from: "text", "text+audio" or "audio"

    @property
    def above_chance(self) -> float:
        """Closure share minus chance, in percentage points."""
        return 100.0 * (self.bilabial_closure - self.chance)

    def to_dict(self) -> dict:
        out = {k: (None if isinstance(v, float) and np.isnan(v) else (round(v, 4) if isinstance(v, float) else v))
               for k, v in asdict(self).items()}
        out["above_chance"] = None if np.isnan(self.above_chance) else round(self.above_chance, 1)
        return out

    def summary(self) -> str:
        return (f"lips close on {100 * self.bilabial_closure:.0f}% of {self.n_bilabials} p/b/m "
                f"(chance {100 * self.chance:.0f}%; {100 * self.chance_with_pauses:.0f}% counting pauses); "
                f"open vowels open {self.aperture_ratio:.2f}× the close ones (phones from {self.source})")


def frames_of(start: float, end: float, fps: float, n: int, pad: int = 1) -> slice:
    """The video frames showing [start, end), widened by ``pad`` frames each side."""
    a = int(np.floor(start * fps)) - pad
    b = max(int(np.ceil(end * fps)), int(np.floor(start * fps)) + 1) + pad
    return slice(max(0, a), min(n, b))


def closure_share(opening: np.ndarray, fps: float, times: np.ndarray, *, shift: float = 0.0,
                  speaking: np.ndarray | None = None) -> float:
    """Share of the phones at ``times`` [shape=(k, 2), seconds] with a closed mouth within ±1 frame; with
    ``shift`` the times move by that much, wrapping around the end of the clip. With ``speaking`` (bool per
    frame) a phone with a frame that is not speech (±1 frame, as looked at) is left out."""
    n = len(opening)
    duration = n / fps
    closed = []
    for start, end in np.asarray(times, np.float64).reshape(-1, 2):
        if shift:
            start, end = (start + shift) % duration, (start + shift) % duration + (end - start)
        window = frames_of(start, end, fps, n)
        if speaking is not None and not speaking[window].all():
            continue
        seg = opening[window]
        seg = seg[np.isfinite(seg)]
        if seg.size:
            closed.append(seg.min() <= CLOSED)
    return float(np.mean(closed)) if closed else float("nan")


def widest(opening: np.ndarray, fps: float, times: np.ndarray) -> float:
    """Mean over the phones at ``times`` of the widest opening while each is heard (no padding)."""
    n = len(opening)
    peaks = []
    for start, end in np.asarray(times, np.float64).reshape(-1, 2):
        seg = opening[frames_of(start, end, fps, n, pad=0)]
        seg = seg[np.isfinite(seg)]
        if seg.size:
            peaks.append(seg.max())
    return float(np.mean(peaks)) if peaks else float("nan")


def phonetic_report(opening: np.ndarray, fps: float, timeline) -> PhoneticReport:
    """The report for per-frame ``opening`` (NaN where no face) against the phones of ``timeline``."""
    opening = np.asarray(opening, np.float64)
    bil = timeline.phone_times(BILABIALS)
    share = closure_share(opening, fps, bil)
    speaking = timeline.speaking_frames(fps, len(opening))
    chance, chance_with_pauses = (_chance(opening, fps, bil, mask) for mask in (speaking, None))
    a, c = widest(opening, fps, timeline.phone_times(OPEN_VOWELS)), widest(opening, fps,
                                                                           timeline.phone_times(CLOSE_SOUNDS))
    ratio = a / c if c > 0 else float("nan")
    return PhoneticReport(share, chance, chance_with_pauses, ratio, a, c, len(bil), timeline.source)


def _chance(opening: np.ndarray, fps: float, times: np.ndarray, speaking: np.ndarray | None) -> float:
    """The closure share of ``times`` moved by each of ``CHANCE_SHIFTS_S``, pooled over the moved phones."""
    closed = counted = 0
    for shift in CHANCE_SHIFTS_S:
        for t in times:
            share = closure_share(opening, fps, t[None], shift=shift, speaking=speaking)
            if np.isfinite(share):
                closed, counted = closed + share, counted + 1
    return closed / counted if counted else float("nan")
