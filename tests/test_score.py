"""The sync score on real video with known answers: a face whose mouth is set from the audio by construction."""
import json

import numpy as np
import pytest

from heygem_core.cli import main
from heygem_core.composite import apply
from heygem_core.demo import face_photo, write_clip
from heygem_core.engines.procedural import ProceduralEngine
from heygem_core.options import LipSyncOptions
from heygem_core.score import sync_score
from heygem_core.speech import Speech, envelope
from heygem_core.face.track import track_frames
from mediagen import write_wav

FPS = 25.0


def syllables(seed: int, seconds: float = 4.0, sr: int = 16000) -> np.ndarray:
    """Speech-like bursts of random length and loudness with pauses between them."""
    rng = np.random.default_rng(seed)
    y = np.zeros(int(seconds * sr), np.float32)
    t = 0.2
    while t < seconds - 0.3:
        dur, gap = rng.uniform(0.08, 0.3), rng.uniform(0.05, 0.35)
        a, b = int(t * sr), int(min(seconds, t + dur) * sr)
        n = np.arange(b - a) / sr
        f0 = rng.uniform(110, 220)
        y[a:b] = rng.uniform(0.1, 0.6) * np.sin(np.pi * n / dur) * (
            np.sin(2 * np.pi * f0 * n) + 0.5 * np.sin(2 * np.pi * 3 * f0 * n) + 0.3 * np.sin(2 * np.pi * 7 * f0 * n))
        t += dur + gap
    return y


@pytest.fixture(scope="module")
def constructed(tmp_path_factory):
    """A clip whose mouth opening is, frame by frame, the audio's loudness envelope (by construction)."""
    tmp = tmp_path_factory.mktemp("score")
    import cv2
    img = cv2.resize(face_photo(), (256, 300))
    lm = track_frames([img], LipSyncOptions(track_smoothing=0.0)).landmarks[0]
    y = syllables(0)
    n = int(len(y) / 16000 * FPS)
    env = envelope(Speech(y), FPS, n)
    engine = ProceduralEngine(LipSyncOptions())
    frames = []
    for k in range(n):
        patch = engine.render(img, lm, 0.25 * float(env[k]), 1.0)
        frames.append(apply(img.copy(), patch) if patch else img.copy())
    clip = write_clip(tmp / "constructed.mp4", frames, FPS, options={"crf": "16"})
    return tmp, clip, y


def test_the_matching_audio_scores_high_at_zero_lag(constructed):
    tmp, clip, y = constructed
    s = sync_score(write_wav(tmp / "same.wav", y), clip)
    assert s.r > 0.9 and s.lag_ms == 0.0 and s.face_ratio == 1.0
    assert s.opening_range > 0.1 and s.opening_silence < 0.03


def test_an_unrelated_audio_scores_low(constructed):
    tmp, clip, _ = constructed
    s = sync_score(write_wav(tmp / "other.wav", syllables(7)), clip)
    assert s.r < 0.4


def test_audio_three_frames_late_is_a_120_ms_lag(constructed, capsys):
    tmp, clip, y = constructed
    late = np.concatenate([np.zeros(int(3 / FPS * 16000), np.float32), y])
    plot = tmp / "late.png"
    assert main(["score", "--audio", str(write_wav(tmp / "late.wav", late)), "--video", str(clip), "--json",
                 "--plot", str(plot)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["lag_ms"] == pytest.approx(120.0) and out["r"] > 0.9
    assert {"r", "lag_ms", "face_ratio"} <= set(out)
    assert plot.stat().st_size > 10_000
