"""Which template frame each output frame shows.

The output is as long as the speech. A template that is shorter is replayed: ``pingpong`` plays it forward
then backward (0, 1, …, n-1, n-2, …, 1, 0, 1, …) so there is never a jump back to the first frame; ``loop``
wraps around (…, n-1, 0, 1, …). A still image is a template of one frame: always index 0.
"""
from __future__ import annotations

import math

import numpy as np

MODES = ("pingpong", "loop")


def template_index(k: int, n: int, mode: str = "pingpong") -> int:
    """The template frame shown at output frame ``k``.

    Parameters
    ----------
    k : int
        Output frame number, ``k >= 0``.
    n : int
        Number of template frames, ``n >= 1``.
    mode : {"pingpong", "loop"}
    """
    _check(n, mode)
    if k < 0:
        raise ValueError(f"output frame number must be >= 0, got {k}")
    if n == 1:
        return 0
    if mode == "loop":
        return k % n
    period = 2 * (n - 1)
    r = k % period
    return r if r < n else period - r


def template_indices(n_out: int, n: int, mode: str = "pingpong") -> np.ndarray:
    """``template_index(k, n, mode)`` for ``k = 0 … n_out-1``.

    Returns
    -------
    np.ndarray [shape=(n_out,), dtype=int64]
    """
    _check(n, mode)
    if n_out < 0:
        raise ValueError(f"number of output frames must be >= 0, got {n_out}")
    k = np.arange(n_out, dtype=np.int64)
    if n == 1:
        return np.zeros(n_out, dtype=np.int64)
    if mode == "loop":
        return k % n
    period = 2 * (n - 1)
    r = k % period
    return np.where(r < n, r, period - r)


def output_frame_count(audio_duration: float, fps: float) -> int:
    """Frames needed for the video to cover ``audio_duration`` seconds at ``fps`` (at least one).

    Rounds up, so the picture never ends before the sound; the last frame overhangs the audio by less than
    one frame. A hair of tolerance keeps 5.0 s at 25 fps at 125 frames despite float rounding.
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if not audio_duration > 0:
        raise ValueError(f"audio duration must be positive, got {audio_duration}")
    return max(1, math.ceil(audio_duration * fps - 1e-6))


def _check(n: int, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown loop mode {mode!r}; choose one of: {', '.join(MODES)}")
    if n < 1:
        raise ValueError(f"a template needs at least one frame, got {n}")
