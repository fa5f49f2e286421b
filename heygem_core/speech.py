"""The speech track: decoded once, its features computed once and shared by every video of a batch.

The loudness envelope here is the one definition of "how loud is the speech at video frame i" used both by
the procedural engine (to drive the mouth) and by the sync score (to judge any result, whatever engine).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

SAMPLE_RATE = 16_000
BAND_HZ = (250.0, 4000.0)   # where speech energy lives; hum and hiss outside it do not open the mouth
HOP = 160                   # 10 ms analysis hop at 16 kHz
WIN = 512                   # 32 ms window
# Band power of a full-scale sine with a Hann window of WIN samples (Parseval): 0 dBFS on our scale.
FULL_SCALE_DB = 10.0 * np.log10(3.0 * WIN * WIN / 32.0)
# A recording whose speech never rises above this is treated as silence, not normalised up to "loud".
QUIETEST_PEAK_DBFS = -45.0
SILENCE_DBFS = -65.0        # quieter than this is silence, whatever the rest of the clip does


@dataclass
class Speech:
    """Decoded speech: 16 kHz mono float32 ``samples`` plus a memo of features derived from them.

    ``text`` is the script of the speech when the user has it (English or Chinese): the mouth shapes are then
    aligned to its words instead of recognised from the sound alone. ``cache_dir``, when set, keeps its viseme
    timeline on disk for the next run with the same speech."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE
    path: str = ""
    text: str | None = None
    cache_dir: str | Path | None = None
    _memo: dict = field(default_factory=dict, repr=False)
    # re-entrant: a feature's compute() may ask for another memoised feature of the same speech
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Return ``compute()``, computed once per ``key`` for this speech (thread-safe)."""
        with self._lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]


def stft_power(samples: np.ndarray, n_fft: int = WIN, hop: int = HOP) -> np.ndarray:
    """|STFT|² with a periodic Hann window, frames centred on ``t * hop`` (zero padding at the ends), the
    same framing as ``librosa.stft(center=True, pad_mode="constant")``. [shape=(n_fft // 2 + 1, n_frames)]"""
    return _framed_power(np.pad(np.asarray(samples, np.float32), n_fft // 2), n_fft, hop)


def _framed_power(y: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|rfft|² of the Hann-windowed frames starting at every ``hop`` samples of ``y`` that fit whole."""
    n_frames = 1 + max(0, (len(y) - n_fft) // hop)
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop][:n_frames]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    return (np.abs(np.fft.rfft(frames * window, axis=1)) ** 2).T


def band_frames(samples: np.ndarray, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Speech-band power spectrogram at a 10 ms hop.

    Returns ``power`` [shape=(n_bins, n_hops)] restricted to BAND_HZ and the bins' ``freqs``.
    """
    y = np.asarray(samples, np.float32)
    if len(y) < WIN:
        y = np.pad(y, (0, WIN - len(y)))
    spec = stft_power(y)
    freqs = np.fft.rfftfreq(WIN, 1.0 / sr)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    return spec[band], freqs[band]


def power_blocks(samples: np.ndarray, block: int = 4096):
    """``stft_power`` of ``samples`` (padded to at least one window) ``block`` hops at a time: yields
    ``(h0, h1, power)`` with ``power`` [shape=(n_bins, h1 - h0)] exactly the columns h0..h1-1 of the whole
    spectrogram, which a long speech never holds at once (two hours would be gigabytes)."""
    y = np.asarray(samples, np.float32)
    if len(y) < WIN:
        y = np.pad(y, (0, WIN - len(y)))
    half = WIN // 2
    n_hops = 1 + max(0, (len(y) + 2 * half - WIN) // HOP)
    for h0 in range(0, n_hops, block):
        h1 = min(n_hops, h0 + block)
        # the frames of the signal zero-padded by half a window at each end, framed exactly as stft_power
        # frames the whole of it (the padding made for this block only: no copy of it all)
        a, b = h0 * HOP - half, (h1 - 1) * HOP + WIN - half
        seg = np.pad(y[max(a, 0): min(b, len(y))], (max(0, -a), max(0, b - len(y))))
        yield h0, h1, _framed_power(seg, WIN, HOP)


def n_hops_of(samples: np.ndarray) -> int:
    """How many 10 ms hops ``power_blocks`` gives for ``samples``."""
    return 1 + max(0, max(len(samples), WIN) // HOP)


def band_summary(speech: Speech, block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Speech-band power (summed over the band's bins) and power-weighted band frequency sum per 10 ms hop,
    from `band_frames`' spectrogram computed ``block`` hops at a time (`power_blocks`): the same numbers,
    without ever holding a long speech's whole spectrogram. [each shape=(n_hops,)]"""

    def compute():
        freqs = np.fft.rfftfreq(WIN, 1.0 / speech.sample_rate)
        band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
        n = n_hops_of(speech.samples)
        total, weighted = np.empty(n), np.empty(n)
        for h0, h1, power in power_blocks(speech.samples, block):
            power = power[band]
            total[h0:h1] = power.sum(axis=0)
            weighted[h0:h1] = (freqs[band][:, None] * power).sum(axis=0)
        return total, weighted

    return speech.memo("band_summary", compute)


def loudness_db(speech: Speech) -> np.ndarray:
    """Speech-band loudness in dB relative to the clip's speech peak, one value per 10 ms [shape=(n_hops,)].

    The peak is the 98th percentile (a click does not set it) and never below QUIETEST_PEAK_DBFS, so
    silence or faint noise stays far below the peak instead of being scaled up to it."""

    def compute():
        total, _ = band_summary(speech)
        db = 10.0 * np.log10(total + 1e-12) - FULL_SCALE_DB
        peak = max(float(np.percentile(db, 98)), QUIETEST_PEAK_DBFS) if db.size else 0.0
        return np.where(db < SILENCE_DBFS, -120.0, db - peak).astype(np.float32)

    return speech.memo("loudness_db", compute)


def spectral_centroid(speech: Speech) -> np.ndarray:
    """Speech-band spectral centroid in Hz per 10 ms hop: low for rounded vowels (o, u), high for spread (i, e)."""

    def compute():
        total, weighted = band_summary(speech)
        return (weighted / (total + 1e-10)).astype(np.float32)

    return speech.memo("centroid", compute)


def per_frame(track: np.ndarray, fps: float, n_frames: int, *, reduce: str = "mean") -> np.ndarray:
    """Resample a 10 ms-hop feature track to video frames: value for frame i pools the hops inside
    [i/fps, (i+1)/fps). Frames past the end of the audio take the last value."""
    hops_per_s = SAMPLE_RATE / HOP
    out = np.empty(n_frames, np.float32)
    if track.size == 0:
        out[:] = 0.0
        return out
    for i in range(n_frames):
        a = int(np.floor(i / fps * hops_per_s))
        b = max(a + 1, int(np.floor((i + 1) / fps * hops_per_s)))
        a, b = min(a, track.size - 1), min(b, track.size)
        seg = track[a:b]
        out[i] = seg.max() if reduce == "max" else seg.mean()
    return out


def envelope(speech: Speech, fps: float, n_frames: int, *, floor_db: float = -38.0) -> np.ndarray:
    """Speech-band loudness envelope per video frame, mapped to [0, 1]: 0 at or below ``floor_db`` under the
    speech peak (silence), 1 at the peak. Linear in dB, which follows perceived loudness and jaw opening
    better than linear amplitude. [shape=(n_frames,)]"""
    db = per_frame(loudness_db(speech), fps, n_frames)
    return np.clip((db - floor_db) / (-floor_db), 0.0, 1.0).astype(np.float32)
