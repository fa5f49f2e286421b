"""The One-Euro filter: low-pass filtering that adapts its cut-off to the signal's speed, so a still signal
is smoothed hard while a moving one is followed without lag (Casiez, Roussel & Vogel, CHI 2012)."""
from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters arrays of any fixed shape, each element on its own, one sample at a time.

    cutoff = min_cutoff + beta · |speed|, with the speed low-passed at ``d_cutoff`` Hz. Speeds are divided by
    the ``scale`` passed with each sample, so ``beta`` is in units of 1 / (scale per second) and the filter
    behaves the same on a small face and a large one.
    """

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float = 1.0):
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample passes through unchanged."""
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None

    def __call__(self, x: np.ndarray, dt: float, scale: float = 1.0) -> np.ndarray:
        """x : any shape (same every call) → filtered copy, float64; dt in seconds."""
        x = np.asarray(x, np.float64)
        if self._x is None:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            return x.copy()
        speed = (x - self._x) / (dt * max(scale, 1e-9))
        self._dx = self._dx + _alpha(self.d_cutoff, dt) * (speed - self._dx)
        a = _alpha(self.min_cutoff + self.beta * np.abs(self._dx), dt)
        self._x = self._x + a * (x - self._x)
        return self._x.copy()
