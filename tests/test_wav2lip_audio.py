"""Wav2Lip's mel features, checked against an independent numpy computation, and the per-frame windows."""
from __future__ import annotations

import numpy as np
import pytest

from heygem_core.engines.wav2lip.mel import mel_spectrogram, mel_window, mel_windows, speech_mel, window_start
from heygem_core.speech import Speech

SR = 16000


def _slaney_mel_filters(sr=16000, n_fft=800, n_mels=80, fmin=55.0, fmax=7600.0) -> np.ndarray:
    """Slaney's auditory-toolbox mel filterbank, written out from its definition."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0

    def hz_to_mel(f):
        f = np.asarray(f, np.float64)
        return np.where(f < min_log_hz, f / f_sp, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep)

    def mel_to_hz(m):
        return np.where(m < min_log_mel, m * f_sp, min_log_hz * np.exp(logstep * (m - min_log_mel)))

    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    bins = np.arange(n_fft // 2 + 1) * sr / n_fft
    filters = np.zeros((n_mels, bins.size))
    for m in range(n_mels):
        lo, centre, hi = edges[m:m + 3]
        rising = (bins - lo) / (centre - lo)
        falling = (hi - bins) / (hi - centre)
        filters[m] = np.maximum(0, np.minimum(rising, falling)) * 2.0 / (hi - lo)   # equal-area (Slaney) norm
    return filters


def _reference_mel(y: np.ndarray) -> np.ndarray:
    """The training recipe in plain numpy: pre-emphasis, reflect-padded centred Hann STFT, mel, dB, scale."""
    y = y.astype(np.float64)
    y = np.concatenate([y[:1], y[1:] - 0.97 * y[:-1]])
    padded = np.pad(y, 400, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(800) / 800)   # periodic Hann
    n_cols = 1 + (padded.size - 800) // 200
    frames = np.stack([padded[i * 200:i * 200 + 800] * window for i in range(n_cols)], axis=1)
    magnitude = np.abs(np.fft.rfft(frames, axis=0))
    db = 20 * np.log10(np.maximum(1e-5, _slaney_mel_filters() @ magnitude)) - 20
    return np.clip(8 * (db + 100) / 100 - 4, -4, 4)


def _signal(seconds=1.3, seed=0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    rng = np.random.default_rng(seed)
    y = 0.4 * np.sin(2 * np.pi * 440 * t) * (t < 0.6) + 0.2 * np.sin(2 * np.pi * 2500 * t) \
        + 0.05 * rng.standard_normal(t.size)
    return y.astype(np.float32)


def test_matches_independent_numpy_computation():
    y = _signal()
    mel = mel_spectrogram(y)
    expected = _reference_mel(y)
    assert mel.shape == expected.shape == (80, 1 + y.size // 200)
    assert mel.dtype == np.float32
    np.testing.assert_allclose(mel, expected, atol=1e-5)


@pytest.mark.parametrize("seconds", [0.5, 1.0, 2.37])
def test_eighty_columns_per_second(seconds):
    mel = mel_spectrogram(np.zeros(int(SR * seconds), np.float32))
    assert mel.shape[0] == 80
    assert abs(mel.shape[1] - 80 * seconds) <= 1
    assert np.all(mel == -4.0)   # silence sits at the normalised floor


def test_tone_lands_in_its_band_and_range():
    t = np.arange(SR) / SR
    mel = mel_spectrogram((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    assert mel.min() >= -4 and mel.max() <= 4
    centres = np.argmax(_slaney_mel_filters(), axis=1) * SR / 800
    assert abs(centres[np.argmax(mel[:, 40])] - 1000) < 80


def test_resamples_other_rates():
    y = _signal(1.0)
    import librosa

    y22 = librosa.resample(y, orig_sr=SR, target_sr=22050)
    assert mel_spectrogram(y22, 22050).shape == mel_spectrogram(y).shape


def test_computed_once_per_speech():
    speech = Speech(_signal(0.8))
    first = speech_mel(speech)
    assert speech_mel(speech) is first
    assert speech_mel(Speech(_signal(0.8))) is not first


@pytest.mark.parametrize("fps, starts", [
    (25.0, [0, 3, 6, 9, 12, 16, 19, 22, 25, 28, 32]),   # 3.2 columns per frame
    (30.0, [0, 2, 5, 8, 10, 13, 16, 18, 21, 24, 26]),   # 8/3 columns per frame
])
def test_window_start_for_any_frame_rate(fps, starts):
    assert [window_start(i, fps) for i in range(11)] == starts


@pytest.mark.parametrize("fps", [25.0, 30.0, 29.97])
def test_window_contents_and_end_case(fps):
    mel = np.arange(80 * 100, dtype=np.float32).reshape(80, 100) % 1000   # 100 columns = 1.25 s
    for i in range(60):
        window = mel_window(mel, i, fps)
        start = int(i * 80 / fps)
        assert window.shape == (80, 16)
        if start + 16 <= 100:
            np.testing.assert_array_equal(window, mel[:, start:start + 16])
        else:  # past the end: the last 16 columns
            np.testing.assert_array_equal(window, mel[:, 84:])
    stacked = mel_windows(mel, [0, 7, 59], fps)
    assert stacked.shape == (3, 1, 80, 16) and stacked.dtype == np.float32
    np.testing.assert_array_equal(stacked[2, 0], mel[:, 84:])


def test_speech_shorter_than_a_window_is_padded_with_silence():
    mel = mel_spectrogram(_signal(0.1))   # 9 columns
    window = mel_window(mel, 0, 25.0)
    assert window.shape == (80, 16)
    np.testing.assert_array_equal(window[:, :mel.shape[1]], mel)
    assert np.all(window[:, mel.shape[1]:] == -4.0)
