"""Language-independent cues from the signal, one value per 10 ms hop, that back up the recognised phones.

- silence: the speech-band loudness well under the speech peak;
- stop closures: a short dip in loudness (the vocal tract shut) that ends in a sudden broadband onset (the
  burst) — the lips or tongue are together during the dip;
- formants from LPC: F1 follows the jaw opening (≈300 Hz for i/u, 700–1000 Hz for a), F2 front/spread (high)
  vs back/rounded (low).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lean_import import import_lean
from ..speech import HOP, SAMPLE_RATE, WIN, loudness_db, power_blocks

# the one compiled routine needed, from the module it lives in: scipy.signal's own __init__ (its whole API,
# scipy.stats too) and even its filter-design modules cost more CPU to import than a short speech's cues
upfirdn = import_lean("scipy.signal._upfirdn", ("scipy.signal",)).upfirdn

LPC_RATE = 10_000      # formants of interest lie under 5 kHz
LPC_ORDER = 12
LPC_BLOCK = 2048       # frames analysed at a time (~30 MB of working arrays)
LPC_WIN = 250          # 25 ms at LPC_RATE
PRE_EMPHASIS = 0.63    # y[n] = x[n] − 0.63 x[n−1] before LPC


@dataclass
class Cues:
    loudness: np.ndarray     # dB under the speech peak [shape=(n_hops,)]
    silent: np.ndarray       # bool: under the silence threshold or near the recording's noise floor
    speaking: np.ndarray     # bool: clearly speech, well above both
    closure: np.ndarray      # bool: inside a stop closure that ends in a burst
    burst: np.ndarray        # bool: a burst onset starts in this hop
    f1: np.ndarray           # Hz, NaN where unvoiced or unreliable
    f2: np.ndarray


def signal_cues(speech, *, silence_db: float = -38.0) -> Cues:
    db = loudness_db(speech)
    n = db.size
    # a noisy room (crowd, hiss) sits above the fixed threshold: the pauses are what the floor says
    floor = float(np.percentile(db, 10)) if db.size else silence_db
    gate = float(np.clip(floor + 8.0, silence_db, -28.0))
    silent = db < gate
    speaking = db > max(gate, -25.0)
    low, high = _low_and_high(speech.samples, n)
    tilt = 10 * np.log10(low / high)
    closure, burst = stop_closures(db, high)
    f1, f2 = formants(speech.samples, n)
    voiced = (db > -25.0) & (tilt > -25.0)     # speech-loud, and not a hiss with nothing under 400 Hz
    f1[~voiced], f2[~voiced] = np.nan, np.nan
    return Cues(db, silent, speaking, closure, burst, f1, f2)


def _low_and_high(samples: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Power under 400 Hz (80–400) and over 1 kHz (1–5 kHz) per 10 ms hop, for the first ``n`` hops; the
    spectrogram a block at a time, never whole."""
    freqs = np.fft.rfftfreq(WIN, 1.0 / SAMPLE_RATE)
    lo_bins, hi_bins = (freqs >= 80) & (freqs < 400), (freqs >= 1000) & (freqs < 5000)
    low, high = np.full(n, 1e-10, np.float32), np.full(n, 1e-10, np.float32)
    for h0, h1, power in power_blocks(samples):
        if h0 >= n:
            break
        h1 = min(h1, n)
        low[h0:h1] = power[lo_bins, : h1 - h0].sum(0) + 1e-10
        high[h0:h1] = power[hi_bins, : h1 - h0].sum(0) + 1e-10
    return low, high


def stop_closures(db: np.ndarray, high: np.ndarray, *, min_ms: int = 30, max_ms: int = 180,
                  depth_db: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Hops inside a stop closure, and the hops where its burst begins.

    A closure is a run of hops at least ``depth_db`` quieter than the speech on both sides, between
    ``min_ms`` and ``max_ms`` long, ending in a rise of the high band of at least ``depth_db`` within 20 ms
    (a release, not a slow fade-in). Longer gaps are pauses, not stops."""
    n = db.size
    closure, burst = np.zeros(n, bool), np.zeros(n, bool)
    hi_db = 10 * np.log10(high)
    lo_n, hi_n = min_ms // 10, max_ms // 10
    # local reference: the louder of the speech just before and just after
    ref = np.maximum(_shifted_max(db, -8, -1), _shifted_max(db, 1, 8))
    dip = (db < ref - depth_db) & (ref > -30.0)
    i = 0
    while i < n:
        if not dip[i]:
            i += 1
            continue
        j = i
        while j < n and dip[j]:
            j += 1
        if lo_n <= j - i <= hi_n and j + 2 < n:
            rise = hi_db[j:j + 2].max() - np.median(hi_db[i:j])
            if rise >= depth_db and db[i - 1 if i else 0] > db[i:j].mean():
                closure[i:j] = True
                burst[j] = True
        i = j
    return closure, burst


def _shifted_max(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """max of x[t + a … t + b] for each t (edges padded with the minimum)."""
    pad = np.pad(x, (max(0, -a), max(0, b)), constant_values=x.min() if x.size else 0.0)
    win = np.lib.stride_tricks.sliding_window_view(pad, b - a + 1)
    return win.max(1)[: x.size]


FORMANT_CHUNK = 6000    # hops (60 s) of speech resampled and filtered at a time


def formants(samples: np.ndarray, n_hops: int) -> tuple[np.ndarray, np.ndarray]:
    """F1 and F2 (Hz) per 10 ms hop from LPC roots of pre-emphasised 25 ms frames at 10 kHz; NaN where no
    plausible pair is found. The speech is resampled a minute at a time (with a margin, so every value is
    the one a whole-signal resampling gives): a long speech is never held at 10 kHz or as float64 whole."""
    f1 = np.full(n_hops, np.nan, np.float32)
    f2 = np.full(n_hops, np.nan, np.float32)
    for k0 in range(0, n_hops, FORMANT_CHUNK):
        k1 = min(n_hops, k0 + FORMANT_CHUNK)
        _formants_of(_lpc_windows(samples, k0, k1), k0, f1, f2)
    return f1, f2


def _lpc_windows(samples: np.ndarray, k0: int, k1: int) -> np.ndarray:
    """The pre-emphasised 10 kHz windows of hops k0..k1-1 [shape=(k1 - k0, LPC_WIN)], each exactly as
    framing the whole resampled, pre-emphasised signal (zero-padded by half a window before, a window after)
    gives it."""
    up, down = LPC_RATE // 1000, SAMPLE_RATE // 1000        # 10 kHz / 16 kHz = 10/16: a multiple of 16 in
    n_in = len(samples)                                     # is a multiple of 10 out (exact sample times)
    n_out = -(-n_in * up // down)
    hop = LPC_RATE * HOP // SAMPLE_RATE
    lo, hi = k0 * hop - LPC_WIN // 2, (k1 - 1) * hop - LPC_WIN // 2 + LPC_WIN     # output samples wanted
    o0 = max(0, (lo - 1) // up * up)                        # one more before it for the pre-emphasis
    o1 = min(n_out, -(-hi // up) * up)
    margin = 100 * down                                     # input samples either side: beyond the filter
    a = max(0, o0 * down // up - margin)
    b = min(n_in, o1 * down // up + margin)
    y = resample(np.asarray(samples[a:b], np.float64), up, down)
    start = a * up // down                                  # output index of y[0]
    seg = y[o0 - start: o1 - start]
    if o0 == 0:                                             # pre-emphasis for the upper formants
        seg = np.concatenate((seg[:1], seg[1:] - PRE_EMPHASIS * seg[:-1]))
    else:
        seg = seg - PRE_EMPHASIS * y[o0 - start - 1: o1 - start - 1]
    local = np.zeros(hi - lo)                               # the zero padding where the signal has none
    s0, s1 = max(lo, o0), min(hi, o1)
    if s1 > s0:
        local[s0 - lo: s1 - lo] = seg[s0 - o0: s1 - o0]
    return np.lib.stride_tricks.sliding_window_view(local, LPC_WIN)[::hop][: k1 - k0]


def resample(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """``x`` at ``up/down`` times its rate (coprime ``up``, ``down``), ``ceil(len(x) * up / down)`` samples,
    the signal taken as zero outside: a Kaiser-windowed (β 5) sinc low-pass at the lower Nyquist, 10 periods
    of the higher rate each side, applied polyphase. (The same design as ``scipy.signal.resample_poly``'s
    default: that function's module imports scipy's filter design and more.)"""
    rate = max(up, down)
    half = 10 * rate
    m = np.arange(2 * half + 1) - half
    h = np.sinc(m / rate) / rate * np.kaiser(2 * half + 1, 5.0)
    h *= up / h.sum()                                       # unit gain at DC, times the zeros stuffed in
    n_out = -(-len(x) * up // down)
    pre = down - half % down                                # zeros ahead, so output 0 falls on input 0
    skip = (half + pre) // down
    y = upfirdn(np.r_[np.zeros(pre), h], x, up, down)
    if len(y) < skip + n_out:
        y = np.r_[y, np.zeros(skip + n_out - len(y))]
    return y[skip: skip + n_out]


def _formants_of(windows: np.ndarray, k0: int, f1: np.ndarray, f2: np.ndarray) -> None:
    """F1, F2 of each window into ``f1``/``f2`` from hop ``k0`` on, a block of frames at a time (each frame's
    LPC is its own)."""
    for b0 in range(0, len(windows), LPC_BLOCK):
        frames = windows[b0:b0 + LPC_BLOCK] * np.hamming(LPC_WIN)
        energy = (frames ** 2).sum(1)
        ok = energy > 1e-7 * LPC_WIN
        if not ok.any():
            continue
        coefs = lpc(frames[ok], LPC_ORDER)
        for k, roots in zip(k0 + b0 + np.nonzero(ok)[0], _all_roots(coefs)):
            if roots is None:
                continue
            roots = roots[np.imag(roots) > 0]
            freq = np.angle(roots) * LPC_RATE / (2 * np.pi)
            bw = -np.log(np.abs(roots) + 1e-12) * LPC_RATE / np.pi
            cand = np.sort(freq[(freq > 200) & (bw < 400)])
            if cand.size >= 2 and cand[0] < 1100 and cand[1] - cand[0] > 150:
                f1[k], f2[k] = cand[0], cand[1]


def _all_roots(coefs: np.ndarray) -> list:
    """``np.roots`` of each row (None where a coefficient is not finite), the companion matrices of all rows
    solved in one stacked ``eigvals`` call: the same LAPACK solve per row, without a Python call each."""
    finite = np.isfinite(coefs).all(1)
    plain = finite & (coefs[:, 0] != 0) & (coefs[:, -1] != 0)    # np.roots would strip no zeros
    out: list = [np.roots(a) if f else None for a, f in zip(coefs, finite & ~plain)]
    if plain.any():
        p = coefs[plain]
        m = np.zeros((len(p), p.shape[1] - 1, p.shape[1] - 1))
        m[:, np.arange(1, m.shape[1]), np.arange(m.shape[1] - 1)] = 1.0
        m[:, 0, :] = -p[:, 1:] / p[:, :1]
        for i, roots in zip(np.nonzero(plain)[0], np.linalg.eigvals(m)):
            out[i] = roots
    return out


def lpc(frames: np.ndarray, order: int) -> np.ndarray:
    """LPC polynomials ``[1, a1 … a_order]`` of each row of ``frames`` (autocorrelation method,
    Levinson–Durbin run on all rows at once). [shape=(n, order + 1)]"""
    n, w = frames.shape
    spec = np.fft.rfft(frames, 2 * w)
    r = np.fft.irfft(np.abs(spec) ** 2)[:, : order + 1]
    r[:, 0] *= 1.0 + 1e-9                      # a whisker of white noise keeps the recursion stable
    a = np.zeros((n, order + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    for i in range(1, order + 1):
        k = -(a[:, :i] * r[:, i:0:-1]).sum(1) / np.maximum(err, 1e-12)
        a[:, 1:i + 1] = a[:, 1:i + 1] + k[:, None] * a[:, i - 1::-1][:, :i]
        err *= 1.0 - k * k
    return a
