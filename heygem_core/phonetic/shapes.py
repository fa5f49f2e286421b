"""Viseme timeline → the mouth of each video frame: inner-lip opening and lip width, with coarticulation.

Real mouths blend: the lips round during the consonant before a rounded vowel, open quickly and close more
slowly, and reach a closure *before* the stop is released. So the per-hop targets are smoothed (quick
attack, slower release, no net delay), rounding leads the sound a little, and a press is eased into over
~40 ms but held fully shut for its whole span. Silence closes the mouth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..speech import per_frame
from .timeline import VisemeTimeline
from .visemes import Viseme

HOPS_PER_S = 100.0
ROUND_LEAD_S = 0.04      # rounding and spreading start this much before the sound
WIDTH_RANGE = 0.4        # lip width change at full rounding/spread, per unit of the ``rounding`` option
PRESS_EASE_S = 0.02      # lips travel to a closure over this long
LABIODENTAL_OPENING = 0.06    # f v: the lower lip at the upper teeth, which show between the lips
# Through a consonant made behind the lips (t d s n k l …) and the short holds inside speech the lips stay
# parted by at least this much of the mouth's width (real speakers average 0.10–0.17 while speaking) at the
# default ``mouth_gain`` (scaled with it), or half the widest opening if that is less; a vowel may narrow
# further, to ``VOWEL_GAP`` (a close i or u)
SPEAKING_GAP = 0.085
VOWEL_GAP = 0.06
REST_EDGE_S = 0.06       # how far the mouth may move into a pause, ahead of speech or after it


@dataclass
class MouthTrack:
    """Per output frame: inner-lip opening (fraction of mouth width), width factor, and the viseme shown."""

    opening: np.ndarray
    spread: np.ndarray
    pressed: np.ndarray      # bool
    viseme: np.ndarray       # int8
    tuck: np.ndarray | None = None   # 0..1: the lower lip drawn up under the upper teeth (f v)


def mouth_track(tl: VisemeTimeline, fps: float, n_frames: int, *, max_opening: float, gain: float = 1.0,
                rounding: float = 0.5, attack_ms: float = 20.0, release_ms: float = 60.0,
                silence_db: float = -38.0) -> MouthTrack:
    """Per-frame mouth for ``n_frames`` at ``fps``; the keywords are the engine's options of the same name."""
    # while speaking the lips stay parted: a close vowel or a t is narrow, not shut
    widest = gain * max_opening
    gap, vowel_gap = (min(g * gain, 0.5 * widest) for g in (SPEAKING_GAP, VOWEL_GAP))   # at the default gain
    floor = np.where(tl.viseme == Viseme.CONSONANT, gap, vowel_gap)
    speaking = ~np.isin(tl.viseme, (Viseme.REST, Viseme.PRESSED, Viseme.LABIODENTAL))
    target = np.where(speaking, floor + (widest - floor) * tl.openness, tl.openness * widest)
    # quiet hops close the mouth only where they are a pause; inside speech the timeline holds the lips
    target[(tl.loudness < silence_db) & (tl.viseme == Viseme.REST)] = 0.0
    opening = attack_release(target, HOPS_PER_S, attack_ms, release_ms)
    # a pause is shut: the smoothing may lead into it and trail out of it by REST_EDGE_S, no further
    edge = int(round(REST_EDGE_S * HOPS_PER_S))
    opening[~_near(tl.viseme != Viseme.REST, edge)] = 0.0
    press = _ease(tl.pressed.astype(np.float32), PRESS_EASE_S)
    opening = opening * (1.0 - press)
    if tl.held is not None:
        # through a hush inside speech the jaw comes up to the floor: the lips part, no more
        hold = _ease(tl.held.astype(np.float32), 0.02)
        cap = gap
        opening = opening + (np.minimum(opening, cap) - opening) * hold
    labio = _ease(tl.labiodental.astype(np.float32), 0.03)
    opening = opening + (np.minimum(opening, LABIODENTAL_OPENING) - opening) * labio

    lead = int(round(ROUND_LEAD_S * HOPS_PER_S))
    spread = _gaussian(tl.spread.astype(np.float32), 4.0)
    spread = np.r_[spread[lead:], np.repeat(spread[-1:], lead)] if spread.size > lead else spread
    width = 1.0 + WIDTH_RANGE * rounding * spread

    op = per_frame(opening, fps, n_frames)
    shut = per_frame(tl.pressed.astype(np.float32), fps, n_frames) >= 0.5
    op[shut] = 0.0
    return MouthTrack(np.clip(op, 0.0, 0.6).astype(np.float32), per_frame(width, fps, n_frames), shut,
                      _at_centres(tl.viseme, fps, n_frames).astype(np.int8),
                      np.where(shut, 0.0, per_frame(labio, fps, n_frames)).astype(np.float32))


def _ease(mask: np.ndarray, seconds: float) -> np.ndarray:
    """1 on the mask, falling off smoothly over ``seconds`` on both sides (a raised-cosine ramp)."""
    k = max(1, int(round(seconds * HOPS_PER_S)))
    ramp = 0.5 + 0.5 * np.cos(np.pi * np.arange(1, k + 1) / (k + 1))
    kernel = np.r_[ramp[::-1], 1.0, ramp]
    if mask.size == 0:
        return mask
    dilated = np.max(np.lib.stride_tricks.sliding_window_view(np.pad(mask, k), 2 * k + 1) * kernel, axis=1)
    return np.maximum(mask, dilated).astype(np.float32)


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    """``x`` smoothed by a Gaussian of ``sigma`` hops (cut at 4 sigma), its end values held beyond its ends."""
    r = int(4.0 * sigma + 0.5)
    kernel = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    if x.size == 0:
        return x
    return np.convolve(np.pad(x.astype(np.float64), r, mode="edge"), kernel / kernel.sum(), "valid").astype(x.dtype)


def _near(mask: np.ndarray, k: int) -> np.ndarray:
    """True within ``k`` hops of a True in ``mask``."""
    return np.convolve(mask.astype(np.float32), np.ones(2 * k + 1, np.float32), mode="same") > 0.5


def _at_centres(track: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """The hop at the middle of each video frame."""
    idx = np.floor((np.arange(n_frames) + 0.5) / fps * HOPS_PER_S).astype(int)
    return track[np.clip(idx, 0, max(0, track.size - 1))] if track.size else np.zeros(n_frames, track.dtype)


def attack_release(x: np.ndarray, fps: float, attack_ms: float, release_ms: float, *,
                   signed: bool = False) -> np.ndarray:
    """Asymmetric one-pole smoothing run forwards and backwards and averaged: quick to open, slower to
    close, and no net delay (the audio is known in advance, so the filter may look ahead)."""
    def coef(ms):
        return 1.0 if ms <= 0 else 1.0 - np.exp(-1000.0 / (ms * fps))

    a, r = coef(attack_ms), coef(release_ms)

    def run(seq):
        out = np.empty_like(seq)
        y = seq[0] if len(seq) else 0.0
        for i, v in enumerate(seq):
            rising = abs(v) > abs(y) if signed else v > y
            y += (a if rising else r) * (v - y)
            out[i] = y
        return out

    x = np.asarray(x, np.float64)
    if x.size == 0:
        return x.astype(np.float32)
    return (0.5 * (run(x) + run(x[::-1])[::-1])).astype(np.float32)
