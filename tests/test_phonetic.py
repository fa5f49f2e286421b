"""The viseme timeline on speech made in the test: formant-synthesised vowels, stop closures and bursts, and
(where espeak-ng is installed, as `make test` does as root) spoken sentences with their script."""
import logging
import shutil
import subprocess

import numpy as np
import pytest
from scipy.signal import lfilter

from heygem_core.media.audio import load_audio
from heygem_core.phonetic import Viseme, mouth_track, viseme_timeline
from heygem_core.phonetic.cues import formants, signal_cues
from heygem_core.phonetic.pinyin import syllable_phones
from heygem_core.phonetic.recognise import Phone, known_words, pcm16
from heygem_core.phonetic.script import is_chinese, letters_to_phones, script_words
from heygem_core.phonetic.timeline import shape_hops
from heygem_core.speech import Speech

SR = 16000


def vowel(f1: float, f2: float, seconds: float, f0: float = 120.0, amp: float = 0.3) -> np.ndarray:
    """A glottal pulse train through three formant resonators: a steady vowel with known F1 and F2."""
    n = int(seconds * SR)
    y = np.zeros(n)
    y[:: int(SR / f0)] = 1.0
    for f, bw in ((f1, 80.0), (f2, 100.0), (2700.0, 150.0)):
        r, th = np.exp(-np.pi * bw / SR), 2 * np.pi * f / SR
        y = lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], y)
    y *= np.hanning(n) ** 0.1        # soft edges, no clicks
    return (amp * y / np.abs(y).max()).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), np.float32)


def burst(seconds: float = 0.015, amp: float = 0.3) -> np.ndarray:
    noise = np.random.default_rng(1).normal(0, 1, int(seconds * SR))
    return (amp * lfilter([1, -0.9], [1], noise) / 3.0).astype(np.float32)


A, I, U = (800, 1250), (290, 2300), (320, 800)


def test_formants_of_synthetic_vowels():
    for f1, f2 in (A, I, U):
        got1, got2 = formants(vowel(f1, f2, 0.4), 40)
        assert np.nanmedian(got1[8:32]) == pytest.approx(f1, rel=0.1)
        assert np.nanmedian(got2[8:32]) == pytest.approx(f2, rel=0.1)


def test_a_stop_closure_is_found_between_its_vowel_and_its_burst():
    y = np.concatenate([silence(0.3), vowel(*A, 0.25), silence(0.08), burst(), vowel(*A, 0.25), silence(0.4)])
    cues = signal_cues(Speech(y))
    gap = np.arange(int(0.56 * 100), int(0.62 * 100))
    assert cues.closure[gap].all()
    assert np.nonzero(cues.burst)[0].tolist() == [int(round(0.63 * 100))]
    assert cues.silent[:25].all() and cues.silent[-30:].all()
    assert not cues.closure[:25].any()          # a pause is not a stop


def test_timeline_opens_wide_for_a_spreads_for_i_rounds_for_u_and_rests_in_silence():
    parts = [silence(0.4), vowel(*A, 0.35), silence(0.3), vowel(*I, 0.35), silence(0.3), vowel(*U, 0.35),
             silence(0.4)]
    y = np.concatenate(parts)
    tl = viseme_timeline(Speech(y))
    edges = np.cumsum([0] + [len(p) for p in parts]) / SR
    hops = [slice(int(edges[k] * 100) + 8, int(edges[k + 1] * 100) - 8) for k in (1, 3, 5)]
    a, i, u = (tl.openness[h].mean() for h in hops)
    assert a > 1.3 * max(i, u)
    assert tl.spread[hops[1]].mean() > tl.spread[hops[2]].mean() + 0.3
    assert (tl.viseme[:30] == Viseme.REST).all() and (tl.openness[:30] == 0).all()
    assert (tl.viseme[-30:] == Viseme.REST).all()
    assert tl.source == "audio"

    track = mouth_track(tl, 25.0, int(len(y) / SR * 25), max_opening=0.26)
    frames = [slice(int(edges[k] * 25) + 2, int(edges[k + 1] * 25) - 2) for k in (1, 3, 5)]
    assert track.opening[frames[0]].max() > 0.15
    assert track.opening[:8].max() == 0.0
    assert track.spread[frames[1]].mean() > 1.0 > track.spread[frames[2]].mean()


def test_a_short_gap_inside_speech_keeps_the_lips_apart_and_a_pause_shuts_them():
    """A 90 ms hush between two vowels (a stop's hold, a breath between words) is no pause: the lips stay
    parted, clear of the closure threshold; the 400 ms pause after them shuts the mouth."""
    parts = [silence(0.4), vowel(*A, 0.3), silence(0.09), vowel(*A, 0.3), silence(0.4), vowel(*A, 0.3),
             silence(0.4)]
    y = np.concatenate(parts)
    edges = np.cumsum([0] + [len(p) for p in parts]) / SR
    tl = viseme_timeline(Speech(y))
    gap = slice(int(edges[2] * 100) + 1, int(edges[3] * 100) - 1)
    pause = slice(int(edges[4] * 100) + 10, int(edges[5] * 100) - 10)
    assert not (tl.viseme[gap] == Viseme.REST).any() and not tl.pressed[gap].any()
    assert (tl.viseme[pause] == Viseme.REST).all()
    track = mouth_track(tl, 25.0, int(len(y) / SR * 25), max_opening=0.28)
    assert track.opening[int(edges[2] * 25) + 1: int(edges[3] * 25)].min() > 0.06
    assert track.opening[int(edges[4] * 25) + 3: int(edges[5] * 25) - 3].max() == 0.0


def test_a_heard_bilabial_is_pressed_where_the_sound_is_quiet_and_only_there():
    """Vowel, a 70 ms hush, vowel: a b heard across the hush presses the lips for the hush (meeting just
    before it, parting where the sound comes back), not for the recogniser's segment. An m the phone loop
    hears in the middle of a steady vowel has no quiet to back it: left out from the audio alone, pressed
    when a script says it."""
    parts = [silence(0.3), vowel(*A, 0.3), silence(0.07), vowel(*A, 0.5), silence(0.3)]
    y = np.concatenate(parts)
    hush = np.cumsum([len(p) for p in parts])[1:3] / SR                 # start, end of the hush (s)
    cues = signal_cues(Speech(y))
    b = Phone("B", hush[0] - 0.05, hush[1] + 0.04)
    m = Phone("M", hush[1] + 0.2, hush[1] + 0.28)
    heard = shape_hops([b, m], cues, "audio", "any").pressed
    where = np.nonzero(heard)[0]
    assert abs(where[0] - hush[0] * 100) <= 2 and abs(where[-1] + 1 - hush[1] * 100) <= 2
    assert not heard[int(m.start * 100): int(m.end * 100)].any()
    scripted = shape_hops([b, m], cues, "text", "en").pressed
    assert scripted[int(m.start * 100) + 1: int(m.end * 100) - 1].all()

def test_timeline_is_computed_once_per_speech_and_script():
    sp = Speech(np.concatenate([silence(0.2), vowel(*A, 0.3), silence(0.2)]))
    first = viseme_timeline(sp)
    assert viseme_timeline(sp) is first
    sp.text = "ah"
    assert viseme_timeline(sp) is not first


def test_a_script_with_words_the_dictionary_lacks_can_be_used_again():
    y = np.concatenate([silence(0.2), vowel(*A, 0.3), vowel(*U, 0.3), silence(0.2)])
    for text in ("Zorblat quux.", "我们", "Zorblat quux.", "我们"):   # the second time the aligner knows them
        tl = viseme_timeline(Speech(y, text=text))
        assert tl.n_hops == len(y) // 160 + 1 and tl.source in ("text", "text+audio", "audio")


def test_pcm_conversion_rounds_at_full_scale():
    pcm = np.frombuffer(pcm16(np.array([0.5, -1.0, 1.0, 0.0], np.float32), dither=False), "<i2")
    assert pcm.tolist() == [16384, -32768, 32767, 0]


def test_pcm_conversion_block_by_block_is_the_whole_conversion():
    from heygem_core.phonetic.recognise import PCM_BLOCK

    x = np.random.default_rng(1).normal(0.0, 0.4, int(2.5 * PCM_BLOCK)).astype(np.float32)
    whole = x.astype(np.float64) * 32768.0 + np.random.default_rng(0).normal(0.0, 2.0, x.size)
    want = np.clip(np.round(whole), -32768, 32767).astype("<i2")
    assert np.array_equal(np.frombuffer(pcm16(x), "<i2"), want)


@pytest.mark.parametrize("syllable, phones", [
    ("zhong", "JH UH NG"), ("bo", "B AO"), ("ma3", "M AA"), ("fa", "F AA"), ("shi", "SH IH"), ("wo", "W AO"),
    ("xue", "SH IY EH"), ("yu", "UW"), ("yi", "IY"), ("er", "ER"), ("lv", "L UW"), ("pian", "P IY EH N"),
])
def test_pinyin_syllables_become_phones(syllable, phones):
    assert syllable_phones(syllable) == phones


def test_script_words_english_and_chinese():
    words, extra, lang = script_words("Bob met Zorblat, twice!", known_words())
    assert lang == "en" and words == ["bob", "met", "zorblat", "twice"]
    assert set(extra) == {"zorblat"} and extra["zorblat"].split()[0] == "Z"
    words, extra, lang = script_words("我们不怕，爸爸买了苹果。", known_words())
    assert lang == "zh" and is_chinese("我们不怕")
    assert words[:3] == ["zh_wo", "zh_men", "zh_bu"] and extra["zh_ba"] == "B AA"
    assert letters_to_phones("mapping") == "M AE P IH NG"


# -- spoken sentences (espeak-ng)

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed (make test installs it as root)")
SENTENCE = "Bob, my mom made a map. Pam bought a big bump of bubble gum."


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "bob.wav"
    subprocess.run([ESPEAK, "-v", "en-us", "-s", "140", "-w", str(path), SENTENCE], check=True)
    return load_audio(path, sample_rate=SR, mono=True).samples


@needs_espeak
def test_with_the_script_the_lips_press_on_every_p_b_m(spoken):
    tl = viseme_timeline(Speech(spoken, text=SENTENCE))
    assert tl.source.startswith("text")
    bilabials = tl.phone_times({"P", "B", "M"})
    assert len(bilabials) >= 14                     # b b m m m m p p m b b b m p b b b m in the script
    for start, end in bilabials:
        assert tl.pressed[int(start * 100): max(int(end * 100), int(start * 100) + 1)].any()
    # pressed only around bilabials: nowhere more than 60 ms away from one
    near = np.zeros(tl.n_hops, bool)
    for start, end in bilabials:
        near[max(0, int(start * 100) - 6): int(end * 100) + 6] = True
    assert not (tl.pressed & ~near).any()


@needs_espeak
def test_a_script_of_other_words_falls_back_to_the_audio_with_a_warning(spoken, caplog):
    with caplog.at_level(logging.WARNING, logger="heygem_core.phonetic"):
        tl = viseme_timeline(Speech(spoken, path="bob.wav", text="The quick brown fox jumps over the lazy dog. " * 3))
    assert tl.source == "audio"
    assert "does not" in caplog.text and "bob.wav" in caplog.text


def test_a_long_speech_is_heard_a_minute_at_a_time_cut_in_its_pauses():
    from heygem_core.phonetic.recognise import UTTERANCE_S, utterances

    rate = 16_000
    x = np.random.default_rng(2).normal(0.0, 0.2, int(150 * rate)).astype(np.float32)   # 2.5 min of noise
    x[int(52.0 * rate):int(52.3 * rate)] = 0.0              # a pause in the first minute's last 15 s
    x[int(100.0 * rate):int(100.2 * rate)] = 0.0            # and one in the second's
    spans = utterances(x, rate)
    assert spans[0][0] == 0 and spans[-1][1] == len(x)
    assert all(a == b for (_, a), (b, _) in zip(spans, spans[1:]))           # nothing lost, nothing twice
    assert all(b - a <= UTTERANCE_S * rate for a, b in spans)
    assert 52.0 <= spans[0][1] / rate <= 52.3 and 100.0 <= spans[1][1] / rate <= 100.2
    assert utterances(x[: int(59 * rate)], rate) == [(0, int(59 * rate))]  # a short speech is one utterance


def test_formants_a_chunk_at_a_time_are_the_whole_signals(monkeypatch):
    from heygem_core.phonetic import cues

    t = np.arange(int(7.3 * 16_000)) / 16_000
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.4 * t)                 # a voiced buzz through two resonances
    x = np.sign(np.sin(2 * np.pi * np.cumsum(f0) / 16_000)).astype(np.float32) * 0.2
    x = np.convolve(x, np.exp(-np.arange(200) / 30.0) * np.cos(2 * np.pi * 700 * np.arange(200) / 16_000)
                    + np.exp(-np.arange(200) / 30.0) * np.cos(2 * np.pi * 1800 * np.arange(200) / 16_000),
                    "same").astype(np.float32)
    n = len(x) // 160 + 1
    whole = cues.formants(x, n)
    monkeypatch.setattr(cues, "FORMANT_CHUNK", 137)              # edges everywhere, at odd places
    chunked = cues.formants(x, n)
    assert np.isfinite(whole[0]).sum() > n // 2
    for a, b in zip(whole, chunked):
        assert np.array_equal(a, b, equal_nan=True)


def test_the_formants_resampling_is_scipys_resample_poly():
    """cues.resample (written here, so the cues need not import scipy's filter design) gives resample_poly's
    samples, length and alignment included, for any length."""
    from scipy.signal import resample_poly

    from heygem_core.phonetic.cues import resample

    rng = np.random.default_rng(0)
    for n in (1, 7, 16, 17, 1601, 48_003):
        x = rng.standard_normal(n)
        expected = resample_poly(x, 10_000, 16_000)
        got = resample(x, 5, 8)
        assert got.shape == expected.shape and np.allclose(got, expected, rtol=0, atol=1e-12), n


def test_the_rounding_smoother_is_a_gaussian_with_held_ends():
    from scipy.ndimage import gaussian_filter1d

    from heygem_core.phonetic.shapes import _gaussian

    x = np.r_[np.zeros(20), np.ones(7), -np.ones(30)].astype(np.float32)
    assert np.array_equal(_gaussian(x, 4.0), gaussian_filter1d(x, 4.0, mode="nearest"))
