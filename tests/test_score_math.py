import numpy as np
import pytest

from heygem_core.score import best_lag, score_track


def test_known_lag_is_found():
    rng = np.random.default_rng(0)
    env = np.convolve(rng.random(200), np.ones(4) / 4, "same")
    opening = np.roll(env, -3)              # audio 3 frames after the mouth
    r, lag = best_lag(opening, env, 5)
    assert lag == 3 and r > 0.99
    s = score_track(opening, env, 25.0)
    assert s.lag_ms == pytest.approx(120.0)


def test_unrelated_signals_score_low_and_nan_frames_are_skipped():
    rng = np.random.default_rng(1)
    env = np.convolve(rng.random(300), np.ones(5) / 5, "same")
    other = np.convolve(rng.random(300), np.ones(5) / 5, "same")
    other[::7] = np.nan
    s = score_track(other, env, 25.0)
    assert s.r < 0.3
    assert s.face_ratio == pytest.approx(1 - len(range(0, 300, 7)) / 300)


def test_flat_mouth_cannot_be_scored():
    s = score_track(np.full(50, 0.1), np.linspace(0, 1, 50), 25.0)
    assert np.isnan(s.r) and s.to_dict()["r"] is None
