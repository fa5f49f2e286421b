"""The viseme timeline of a speech: what the lips should be doing every 10 ms, computed once per speech.

    tl = viseme_timeline(speech)            # speech.text, when set, is aligned; otherwise audio only

Phones come from forced alignment of the script when there is one (English, or Chinese via pinyin) and from
the recogniser's phone loop otherwise; text that does not fit the audio is dropped with a warning. The
signal cues then correct what a misheard phone would get wrong: silence is rest, a vowel's opening and
rounding follow its formants, and a stop closure or a dip in loudness at a recognised bilabial presses the
lips for exactly as long as the sound has them shut. (A spectral-tilt nasal-murmur cue was tried and dropped:
it fired on vowels as often as on m n ng.)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .cues import Cues, signal_cues
from .recognise import AlignmentFailed, Phone, align, known_words, phone_loop
from .script import script_words
from .visemes import BILABIALS, VOWELS, Viseme, phone_shapes

log = logging.getLogger("heygem_core.phonetic")

HOP_S = 0.01
SILENCE_DB = -38.0
# a script whose alignment leaves more than this share of the loud hops under silence does not match
MISMATCH_SHARE = 0.35
# speech the script leaves unread for this long (10 ms hops) is taken from the phone loop
UNREAD_FILL_HOPS = 30
PRESS_LEAD_S = 0.01     # the lips meet this long before a stop's closure is heard to begin
MIN_PRESS_S = 0.06      # and stay together at least this long, so even a fast b is seen
MAX_CUE_PRESS_S = 0.15  # a longer murmur or gap is not one bilabial
DIP_DB = 10.0           # a bilabial heard by the phone loop must be this much quieter than its neighbours
SEARCH_S = 0.03         # how far from a heard bilabial its closure may lie
VOWEL_DB_SPAN = 25.0    # a vowel this many dB under the speech peak opens not at all (floored at 0.3 of its shape)
CONSONANT_DB_SPAN = 20.0
PAUSE_HOPS = 25         # a quiet stretch this long (10 ms hops) is a pause; a shorter one is a stop or a breath
                        # between words, through which the lips stay as the sounds around it leave them


@dataclass
class VisemeTimeline:
    """Per 10 ms hop: the viseme class and the shape targets, before coarticulation."""

    viseme: np.ndarray        # int8, a ``Viseme`` per hop
    openness: np.ndarray      # 0 (shut) … 1 (widest), already scaled by the loudness of the vowel
    spread: np.ndarray        # −1 rounded … +1 spread
    pressed: np.ndarray       # bool: lips pressed together (p b m)
    labiodental: np.ndarray   # bool: lower lip to the upper teeth (f v)
    loudness: np.ndarray      # speech-band dB under the speech peak
    phones: list[Phone] = field(repr=False)
    source: str = "audio"     # "text" (aligned script), "text+audio" (script with gaps filled), "audio"
    language: str = "any"
    hop_s: float = HOP_S
    held: np.ndarray | None = field(default=None, repr=False)   # bool: a short hush inside speech

    @property
    def n_hops(self) -> int:
        return int(self.viseme.size)

    def speaking_frames(self, fps: float, n_frames: int) -> np.ndarray:
        """Whether each video frame's middle falls in speech (not a pause). [shape=(n_frames,), bool]"""
        if not self.n_hops:
            return np.zeros(n_frames, bool)
        idx = np.floor((np.arange(n_frames) + 0.5) / fps / self.hop_s).astype(int)
        return self.viseme[np.clip(idx, 0, self.n_hops - 1)] != Viseme.REST

    def phone_times(self, names) -> np.ndarray:
        """(start, end) seconds of every phone named in ``names`` [shape=(k, 2)]."""
        names = set(names)
        return np.array([(p.start, p.end) for p in self.phones if p.name in names], np.float64).reshape(-1, 2)


def viseme_timeline(speech, text: str | None = None) -> VisemeTimeline:
    """The timeline of ``speech`` (memoised on it, and kept in ``speech.cache_dir`` when it has one);
    ``text`` defaults to ``speech.text``."""
    text = (speech.text if text is None else text) or None
    text = text.strip() if text else None
    return speech.memo(("viseme_timeline", text), lambda: _cached_or_built(speech, text))


def _cached_or_built(speech, text: str | None) -> VisemeTimeline:
    if speech.cache_dir is None:
        return build_timeline(speech, text)
    from .timeline_cache import load_timeline, save_timeline, timeline_path

    path = timeline_path(speech.cache_dir, speech.samples, text)
    tl = load_timeline(path)
    if tl is None:
        tl = build_timeline(speech, text)
        save_timeline(path, tl)
    elif text and tl.source == "audio":        # said when it was built: say it again
        log.warning("script does not fit the speech%s; shaping the mouth from the audio alone",
                    f" ({speech.path})" if speech.path else "")
    return tl


def build_timeline(speech, text: str | None) -> VisemeTimeline:
    cues = signal_cues(speech, silence_db=SILENCE_DB)
    phones, source, language = recognised_phones(speech, cues, text)
    return shape_hops(phones, cues, source, language)


def recognised_phones(speech, cues: Cues, text: str | None) -> tuple[list[Phone], str, str]:
    """Phones from the script when it fits the audio, else from the phone loop: ``(phones, source, lang)``."""
    loud = cues.speaking
    if text:
        words, extra, language = script_words(text, known_words())
        where = f" ({speech.path})" if speech.path else ""
        try:
            aligned = align(speech.samples, words, extra)
        except AlignmentFailed as exc:
            log.warning("script does not fit the speech%s: %s; shaping the mouth from the audio alone",
                        where, exc)
        else:
            unread = loud & (_phone_index(aligned, cues.loudness.size, "SIL") > 0)
            share = unread.sum() / max(1, loud.sum())
            log.debug("script alignment leaves %.0f%% of the speech unread", 100 * share)
            if share > MISMATCH_SHARE:
                log.warning("script does not match the speech%s: %.0f%% of the speech falls outside its words; "
                            "shaping the mouth from the audio alone", where, 100 * share)
            else:
                # the script covers most of the speech; a long stretch it leaves out comes from the phone loop
                gaps = _long_runs(unread, UNREAD_FILL_HOPS)
                if gaps.any():
                    return _fill_gaps(aligned, phone_loop(speech.samples), gaps), "text+audio", language
                return aligned, "text", language
    return phone_loop(speech.samples), "audio", "any"


def _phone_index(phones: list[Phone], n: int, name: str) -> np.ndarray:
    """1 on the hops covered by phones called ``name``."""
    out = np.zeros(n, np.int8)
    for p in phones:
        if p.name == name:
            out[_hop(p.start, n): _hop(p.end, n)] = 1
    return out


def _fill_gaps(aligned: list[Phone], looped: list[Phone], unread: np.ndarray) -> list[Phone]:
    keep = [p for p in aligned if p.name != "SIL"]
    n = unread.size
    def mostly_unread(p):
        seg = unread[_hop(p.start, n): _hop(p.end, n)]
        return seg.size > 0 and seg.mean() > 0.5
    extra = [p for p in looped if p.name != "SIL" and mostly_unread(p)]
    return sorted(keep + extra, key=lambda p: p.start)


def _hop(t: float, n: int) -> int:
    return int(np.clip(round(t / HOP_S), 0, n))


def shape_hops(phones: list[Phone], cues: Cues, source: str, language: str) -> VisemeTimeline:
    n = cues.loudness.size
    vis = np.zeros(n, np.int8)
    opn = np.zeros(n, np.float32)
    spr = np.zeros(n, np.float32)
    pressed = np.zeros(n, bool)
    labio = np.zeros(n, bool)
    vowel = np.zeros(n, bool)
    for p in phones:
        a, b = _hop(p.start, n), max(_hop(p.end, n), _hop(p.start, n) + 1)
        shapes = phone_shapes(p.name)
        cut = a + (b - a) // 2 if len(shapes) == 2 else b
        for (s, e), shape in zip(((a, cut), (cut, b)), shapes):
            vis[s:e], opn[s:e], spr[s:e] = shape.viseme, shape.openness, shape.spread
        vowel[a:b] = p.name in VOWELS
        labio[a:b] |= shapes[0].viseme == Viseme.LABIODENTAL

    # the formants back up the vowels: F1 ↔ opening, F2 ↔ spread vs round (relative to this speaker)
    trust = 0.25 if source.startswith("text") else 0.5
    f1, f2 = cues.f1, cues.f2
    # speech the recogniser heard as silence or noise: the formants alone give its shape
    unheard = cues.speaking & (vis == Viseme.REST) & np.isfinite(f1)
    vis[unheard], vowel[unheard] = Viseme.CONSONANT, True
    ok = vowel & np.isfinite(f1) & np.isfinite(f2)
    opn[unheard & ok], spr[unheard & ok] = np.clip((f1[unheard & ok] - 300.0) / 500.0, 0.1, 1.0), 0.0
    if ok.sum() >= 10:
        opn[ok] = (1 - trust) * opn[ok] + trust * np.clip((f1[ok] - 300.0) / 500.0, 0.1, 1.0)
        med = np.median(f2[ok])
        spread_f = np.tanh((f2[ok] - med) / (np.percentile(f2[ok], 75) - np.percentile(f2[ok], 25) + 100.0))
        spr[ok] = (1 - trust) * spr[ok] + trust * spread_f
    # a quieter syllable opens less than a stressed one; consonants are quiet by nature, and vary less
    opn *= np.where(vowel, np.clip(1.0 + cues.loudness / VOWEL_DB_SPAN, 0.3, 1.0),
                    np.clip(1.0 + cues.loudness / CONSONANT_DB_SPAN, 0.2, 1.0))

    for p in phones:
        if p.name in BILABIALS and not _press_heard(pressed, p, cues, n) and source != "audio":
            _press(pressed, p, cues, n)     # a script's p b m is pressed even where the signal shows no quiet
    # a pause is a quarter second of quiet or of nothing heard; it rests, whatever a phone says
    pause = pauses(cues.silent | (vis == Viseme.REST))
    pressed &= ~pause
    opn[pressed] = 0.0
    vis[pressed] = Viseme.PRESSED

    # a shorter stretch inside speech (the hold of a t, d, k, g; a breath between words) is no pause: the
    # jaw is nearly closed but the lips stay apart, as they are around it
    held = ~pause & ~pressed & (cues.silent | (vis == Viseme.REST))
    vis[held], opn[held] = Viseme.CONSONANT, np.where(cues.silent[held], 0.0, opn[held])
    rest = pause & ~pressed
    vis[rest], opn[rest] = Viseme.REST, 0.0
    spr[rest] *= 0.3
    return VisemeTimeline(vis, opn, np.clip(spr, -1, 1), pressed, labio & ~rest, cues.loudness, phones, source,
                          language, held=held & cues.silent)


def pauses(silent: np.ndarray) -> np.ndarray:
    """The stretches of ``silent`` that are pauses: at least ``PAUSE_HOPS`` long, or before the first sound
    or after the last one."""
    out = _long_runs(silent, PAUSE_HOPS)
    for a, b in _runs(silent):
        if a == 0 or b == silent.size:
            out[a:b] = True
    return out


def _press(pressed: np.ndarray, p: Phone, cues: Cues, n: int) -> None:
    """Lips together for a bilabial: from just before it until its burst (p, b) or through it (m)."""
    a, b = _hop(p.start - PRESS_LEAD_S, n), _hop(p.end, n)
    if p.name in ("P", "B"):
        bursts = np.nonzero(cues.burst[_hop(p.start, n): min(n, b + 3)])[0]
        if bursts.size:
            b = _hop(p.start, n) + int(bursts[0])
    b = max(b, a + int(round(MIN_PRESS_S / HOP_S)))
    pressed[a:min(b, n)] = True


def _press_heard(pressed: np.ndarray, p: Phone, cues: Cues, n: int) -> bool:
    """The phones say *that* the lips close about here (the phone loop tells p b m from t d k n, which the
    signal cannot), the signal says *when*: the stop closure that touches the phone, else the stretch of it
    at least ``DIP_DB`` quieter than the sound around it (a shut mouth muffles even a voiced b or m).
    Returns False, pressing nothing, where the signal shows no such quiet: from the phone loop alone such a
    p b m is left out (it hears them in breaths, noise and loud vowels)."""
    a, b = _hop(p.start - SEARCH_S, n), max(_hop(p.end + SEARCH_S, n), _hop(p.start, n) + 1)
    cap = int(round(MAX_CUE_PRESS_S / HOP_S))
    runs = [(s, e) for s, e in _runs(cues.closure[a:b]) if e - s <= cap]
    if not runs:
        around = np.r_[cues.loudness[max(0, a - 10):a], cues.loudness[b:b + 10]]
        if not around.size:
            return False
        runs = [(s, e) for s, e in _runs(cues.loudness[a:b] < around.max() - DIP_DB) if e - s <= cap]
    if not runs:
        return False
    s, e = max(runs, key=lambda r: r[1] - r[0])
    # the lips meet a little before the quiet begins, and part where the sound comes back (the burst)
    s = min(a + s - int(round(PRESS_LEAD_S / HOP_S)), a + e - int(round(MIN_PRESS_S / HOP_S)))
    pressed[max(0, s):min(n, a + e)] = True
    return True


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]))


def _long_runs(mask: np.ndarray, min_hops: int) -> np.ndarray:
    """The runs of ``mask`` at least ``min_hops`` long."""
    out = np.zeros(mask.shape, bool)
    for a, b in _runs(mask):
        if b - a >= min_hops:
            out[a:b] = True
    return out
