import numpy as np
import pytest

from heygem_core.engines.procedural import mouth_targets
from heygem_core.phonetic.shapes import attack_release
from heygem_core.options import LipSyncOptions
from heygem_core.speech import Speech, envelope, per_frame
from conftest import tone_bursts


def test_envelope_is_high_in_bursts_and_zero_in_silence():
    sp = Speech(tone_bursts(seconds=2.0, bursts=((0.4, 0.8), (1.2, 1.6))))
    env = envelope(sp, 25.0, 50)
    t = (np.arange(50) + 0.5) / 25
    loud = ((t > 0.45) & (t < 0.75)) | ((t > 1.25) & (t < 1.55))
    quiet = (t < 0.3) | ((t > 0.9) & (t < 1.1)) | (t > 1.7)
    assert env[loud].min() > 0.8
    assert env[quiet].max() == 0.0


def test_envelope_ignores_hum_below_the_speech_band():
    sr = 16000
    t = np.arange(2 * sr) / sr
    hum = (0.5 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    y = hum + tone_bursts(seconds=2.0, bursts=((0.8, 1.2),))
    env = envelope(Speech(y), 25.0, 50)
    assert env[:15].max() == 0.0 and env[22:28].min() > 0.8


def test_features_are_computed_once_per_speech():
    sp = Speech(tone_bursts())
    calls = []
    sp.memo("k", lambda: calls.append(1) or 5)
    assert sp.memo("k", lambda: calls.append(1) or 6) == 5 and len(calls) == 1


def test_per_frame_pools_hops_inside_each_frame():
    track = np.arange(100, dtype=np.float32)  # 1 s at 10 ms hops
    out = per_frame(track, 25.0, 25)
    assert out[0] == pytest.approx(1.5) and out[1] == pytest.approx(5.5)


def test_attack_release_has_no_net_delay_and_opens_faster_than_it_closes():
    x = np.zeros(100, np.float32)
    x[40:60] = 1.0
    y = attack_release(x, 25.0, 35.0, 90.0)
    centre = (np.arange(100) * y).sum() / y.sum()
    assert abs(centre - 49.5) < 1.5          # the pulse stays where it was
    assert y[45] > 0.8 and y.max() <= 1.0


def test_mouth_targets_close_in_silence_and_open_in_speech():
    sp = Speech(tone_bursts(seconds=2.0, bursts=((0.6, 1.4),)))
    opts = LipSyncOptions()
    opening, spread = mouth_targets(sp, 25.0, 50, opts)
    assert opening[:8].max() < 0.01 and opening[-6:].max() < 0.01
    assert opening[20:30].mean() > 0.5 * opts.max_opening
    assert np.all(opening <= opts.max_opening * opts.mouth_gain + 1e-6)
    assert np.all(np.abs(spread - 1.0) < 0.1)


def test_full_scale_reference_and_silence():
    from heygem_core.speech import FULL_SCALE_DB
    sr = 16000
    t = np.arange(sr) / sr
    sine = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    from heygem_core.speech import band_frames
    power, _ = band_frames(sine)
    assert 10 * np.log10(np.median(power.sum(0))) - FULL_SCALE_DB == pytest.approx(0.0, abs=0.5)
    assert envelope(Speech(np.zeros(sr, np.float32)), 25.0, 25).max() == 0.0
    faint = (1e-4 * np.random.default_rng(0).standard_normal(sr)).astype(np.float32)
    assert envelope(Speech(faint), 25.0, 25).max() == 0.0
    # a quiet but real voice is still normalised to its own peak
    assert envelope(Speech(0.02 * sine), 25.0, 25)[5:20].min() > 0.9


def test_numpy_stft_matches_librosa():
    import librosa
    from heygem_core.speech import stft_power
    y = np.random.default_rng(3).standard_normal(5000).astype(np.float32)
    ref = np.abs(librosa.stft(y, n_fft=512, hop_length=160, center=True, pad_mode="constant")) ** 2
    got = stft_power(y)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("n", [300, 16000 * 3 + 77])
def test_band_features_in_blocks_equal_the_whole_spectrogram(n):
    # a long speech's features are computed a block of hops at a time; the numbers must not change
    from heygem_core.speech import band_frames, band_summary
    y = np.random.default_rng(5).standard_normal(n).astype(np.float32) * 0.1
    power, freqs = band_frames(y)
    total, weighted = band_summary(Speech(y), block=7)
    np.testing.assert_array_equal(total, power.sum(axis=0))
    np.testing.assert_array_equal(weighted, (freqs[:, None] * power).sum(axis=0))
