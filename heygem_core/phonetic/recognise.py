"""Phones with timings from the speech, by pocketsphinx (its en-US model ships inside the wheel).

Two ways: a *phone loop* (audio only: the likeliest phone sequence, any language, roughly every other phone
wrong but mostly within its class) and *forced alignment* to a known sequence of words (the script), which
places each word's phones where the audio has them. Both return ``Phone`` segments in seconds.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..speech import SAMPLE_RATE

FRAME_S = 0.01   # pocketsphinx works at 100 frames/s


@dataclass(frozen=True)
class Phone:
    name: str        # ARPAbet without stress, or "SIL"
    start: float     # seconds
    end: float


class AlignmentFailed(RuntimeError):
    """The words could not be aligned to the audio (text and speech do not match)."""


# One decoding at a time. A decoder is made fresh for each speech (≈0.2 s): one that has heard other speech
# carries its normalisation over and would give the same speech different phones.
_lock = threading.Lock()


def _model_paths() -> dict[str, str]:
    try:
        from pocketsphinx import get_model_path
    except ImportError as exc:   # pragma: no cover - a declared dependency
        raise ImportError("the phonetic mouth needs pocketsphinx: pip install pocketsphinx==5.1.1") from exc
    root = get_model_path()
    return {"hmm": f"{root}/en-us/en-us", "allphone": f"{root}/en-us/en-us-phone.lm.bin",
            "dict": f"{root}/en-us/cmudict-en-us.dict"}


def _phone_loop_decoder():
    from pocketsphinx import Decoder
    m = _model_paths()
    # wide beams and a moderate phone-LM weight: a rough phonetic transcription for any language
    # batch CMN: each utterance is normalised on its own, so the same speech always gives the same phones
    return Decoder(hmm=m["hmm"], allphone=m["allphone"], lw=2.0, beam=1e-20, pbeam=1e-20, cmn="batch",
                   loglevel="FATAL")


def _align_decoder(wide: bool):
    from pocketsphinx import Decoder
    m = _model_paths()
    # wide beams keep a forced path alive through stretches the acoustic model fits poorly (a synthetic voice)
    beams = dict(beam=1e-80, wbeam=1e-60, pbeam=1e-80) if wide else {}
    return Decoder(hmm=m["hmm"], dict=m["dict"], lm=None, cmn="batch", loglevel="FATAL", **beams)


PCM_BLOCK = 1 << 20     # samples converted at a time: a long speech is never held as float64 whole


def pcm16(samples: np.ndarray, *, dither: bool = True) -> memoryview:
    """16-bit PCM bytes as the recogniser wants them: ``round(x × 32768)``, clipped (a ``× 32767`` truncation
    makes alignment fail on some clips), with a faint fixed dither: stretches of exact digital zero
    (synthetic or gated audio) give the recogniser's log energies nothing to normalise and make alignment
    fail. Converted block by block into one int16 buffer (2 bytes a sample, no float64 copy of the whole)."""
    samples = np.asarray(samples).reshape(-1)
    out = np.empty(samples.size, "<i2")
    rng = np.random.default_rng(0)          # one stream drawn block after block: the same dither as at once
    for i in range(0, samples.size, PCM_BLOCK):
        x = samples[i:i + PCM_BLOCK].astype(np.float64) * 32768.0
        if dither:
            x += rng.normal(0.0, 2.0, x.size)
        np.clip(np.round(x, out=x), -32768, 32767, out=x)
        out[i:i + PCM_BLOCK] = x
    return memoryview(out).cast("B")


UTTERANCE_S = 60.0      # a longer speech is heard as utterances of at most this long …
CUT_SEARCH_S = 15.0     # … each cut at the quietest 10 ms of its last this-many seconds (a pause, if any)


def phone_loop(samples: np.ndarray) -> list[Phone]:
    """The likeliest phone sequence of 16 kHz mono ``samples``, audio only. A speech longer than a minute is
    heard a minute at a time (cut in its pauses), so the recogniser's memory stays that of one minute."""
    out: list[Phone] = []
    with _lock:
        d = _phone_loop_decoder()
        for a, b in utterances(samples):
            d.start_utt()
            d.process_raw(pcm16(samples[a:b]), full_utt=True)
            d.end_utt()
            t0 = a / SAMPLE_RATE
            out += [Phone(_clean(s.word), t0 + s.start_frame * FRAME_S, t0 + (s.end_frame + 1) * FRAME_S)
                    for s in d.seg()]
    return out


def utterances(samples: np.ndarray, rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """(start, end) sample spans covering ``samples``, each at most ``UTTERANCE_S`` long, cut at the quietest
    10 ms in the last ``CUT_SEARCH_S`` seconds before the limit."""
    n, hop, limit = len(samples), rate // 100, int(UTTERANCE_S * rate)
    spans, a = [], 0
    while n - a > limit:
        lo = a + limit - int(CUT_SEARCH_S * rate)
        window = np.asarray(samples[lo:a + limit], np.float32)
        energy = np.square(window[: window.size // hop * hop].reshape(-1, hop)).sum(1)
        cut = lo + int(np.argmin(energy)) * hop + hop // 2
        spans.append((a, cut))
        a = cut
    spans.append((a, n))
    return spans


def known_words() -> set[str]:
    """Every word of the pronouncing dictionary (lower case)."""
    return set(_dictionary())


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, str]:
    words: dict[str, str] = {}
    with open(_model_paths()["dict"], encoding="utf-8") as f:
        for line in f:
            parts = line.split(maxsplit=1)
            if len(parts) == 2 and "(" not in parts[0]:
                words[parts[0]] = parts[1].strip()
    return words


def pronunciation(word: str) -> str | None:
    """The dictionary's first pronunciation of ``word`` (space-separated ARPAbet), or None."""
    return _dictionary().get(word.lower())


def align(samples: np.ndarray, words: list[str], extra: dict[str, str] | None = None) -> list[Phone]:
    """Phones of ``words`` placed on the audio by forced alignment (pauses come out as ``SIL``).

    ``extra`` maps words missing from the dictionary (and Mandarin syllables) to their ARPAbet phones.
    The recogniser's phone-level pass is fragile: it is tried on the audio as it is with the usual beams,
    then dithered with wide beams; when only the word pass holds, each word's phones share its span (vowels
    twice as long as consonants). Raises ``AlignmentFailed`` when not even the words can be fitted."""
    if not words:
        raise AlignmentFailed("no words to align")
    extra = extra or {}
    word_spans, reason = None, "no alignment"
    with _lock:
        for wide in (False, True):
            d = _align_decoder(wide)
            raw = pcm16(samples, dither=wide)
            try:
                for word, phones in extra.items():
                    if d.lookup_word(word) is None:      # a word given twice is added once
                        d.add_word(word, phones, False)
                d.set_align_text(" ".join(words))
                _decode(d, raw)
                spans = [(s.word, s.start_frame, s.end_frame + 1) for s in (d.seg() or [])]
                if not spans:
                    raise RuntimeError("the word pass found no path")
                word_spans = word_spans or spans
                d.set_alignment()
                _decode(d, raw)
                out = [Phone(_clean(p.name), p.start * FRAME_S, (p.start + p.duration) * FRAME_S)
                       for w in d.get_alignment() for p in w]
                if out:
                    return out
            except RuntimeError as exc:
                reason = str(exc)
    if word_spans is None:
        raise AlignmentFailed(reason)
    return _split_words(word_spans, extra)


def _decode(d, raw: bytes) -> None:
    d.start_utt()
    d.process_raw(raw, full_utt=True)
    d.end_utt()


def _split_words(spans, extra: dict[str, str]) -> list[Phone]:
    """Word spans (frames) → phones, each word's span shared out over its pronunciation."""
    from .visemes import VOWELS
    out = []
    for word, a, b in spans:
        pron = extra.get(word) or _variants().get(word)
        if not pron:
            out.append(Phone("SIL", a * FRAME_S, b * FRAME_S))
            continue
        phones = [_clean(p) for p in pron.split()]
        weight = np.array([2.0 if p in VOWELS else 1.0 for p in phones])
        edges = a + (b - a) * np.r_[0.0, np.cumsum(weight)] / weight.sum()
        out += [Phone(p, edges[i] * FRAME_S, edges[i + 1] * FRAME_S) for i, p in enumerate(phones)]
    return out


@lru_cache(maxsize=1)
def _variants() -> dict[str, str]:
    """Every dictionary entry, alternative pronunciations (``word(2)``) included."""
    with open(_model_paths()["dict"], encoding="utf-8") as f:
        return {parts[0]: parts[1].strip() for parts in (line.split(maxsplit=1) for line in f) if len(parts) == 2}


def _clean(name: str) -> str:
    from .visemes import base_phone
    return base_phone(name)
