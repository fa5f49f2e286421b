"""Sync score: how well a video's mouth follows a speech track.

Per video frame, the mouth opening (inner-lip gap ÷ mouth width, from the project's landmarks) and the
speech-band loudness envelope of the audio; Pearson r at the best lag within ±200 ms. A positive lag means
the sound comes after the mouth movement (the audio is late). With it, the phonetic report
(heygem_core.phonetic.report): do the lips close on p b m, and open wider on a than on i u f v w?
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .face.landmarks import mouth_opening
from .options import LipSyncOptions
from .phonetic.report import PhoneticReport
from .speech import envelope

MAX_LAG_S = 0.2


@dataclass
class SyncScore:
    r: float                 # Pearson r at the best lag (nan when it cannot be measured)
    lag_ms: float            # best lag; > 0: the audio comes after the mouth
    face_ratio: float        # share of frames where a face was found
    opening_range: float     # 95th − 5th percentile of the mouth opening
    opening_speech: float    # mean opening while there is speech
    opening_silence: float   # mean opening during silence (nan when there is none)
    fps: float
    opening: np.ndarray = field(repr=False)
    envelope: np.ndarray = field(repr=False)
    phonetic: PhoneticReport | None = None

    def to_dict(self) -> dict:
        keys = ("r", "lag_ms", "face_ratio", "opening_range", "opening_speech", "opening_silence", "fps")
        out = {k: (None if isinstance(getattr(self, k), float) and np.isnan(getattr(self, k))
                   else round(float(getattr(self, k)), 4)) for k in keys}
        if self.phonetic is not None:
            out["phonetic"] = self.phonetic.to_dict()
        return out


def best_lag(opening: np.ndarray, env: np.ndarray, max_lag: int) -> tuple[float, int]:
    """(r, lag) maximising the Pearson correlation of ``opening[t]`` with ``env[t + lag]``; NaNs ignored."""
    best = (float("nan"), 0)
    n = len(opening)
    for lag in range(-max_lag, max_lag + 1):
        a = opening[max(0, -lag): n - max(0, lag)]
        b = env[max(0, lag): n - max(0, -lag)]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 8:
            continue
        a, b = a[ok], b[ok]
        if a.std() < 1e-9 or b.std() < 1e-9:
            continue
        r = float(np.corrcoef(a, b)[0, 1])
        if np.isnan(best[0]) or r > best[0] + 1e-12 or (abs(r - best[0]) <= 1e-12 and abs(lag) < abs(best[1])):
            best = (r, lag)
    return best


def score_track(opening: np.ndarray, env: np.ndarray, fps: float) -> SyncScore:
    """Score per-frame mouth openings (NaN where no face) against a per-frame envelope in [0, 1]."""
    opening = np.asarray(opening, np.float64)
    env = np.asarray(env, np.float64)[: len(opening)]
    opening = opening[: len(env)]
    r, lag = best_lag(opening, env, max(1, int(round(MAX_LAG_S * fps))))
    found = np.isfinite(opening)
    speech, silence = found & (env > 0.2), found & (env <= 0.0)
    valid = opening[found]
    return SyncScore(
        r=r, lag_ms=1000.0 * lag / fps, face_ratio=float(found.mean()) if len(found) else 0.0,
        opening_range=float(np.percentile(valid, 95) - np.percentile(valid, 5)) if valid.size else float("nan"),
        opening_speech=float(opening[speech].mean()) if speech.any() else float("nan"),
        opening_silence=float(opening[silence].mean()) if silence.any() else float("nan"),
        fps=fps, opening=opening, envelope=env)


def mouth_openings(video: str | Path, options: LipSyncOptions | None = None, *, cache_dir=None,
                   on_progress=None) -> tuple[np.ndarray, float]:
    """Per-frame mouth opening of ``video`` (NaN where no face) and its frame rate."""
    from .face.track import track_frames
    from .media.video import FrameReader, probe_video

    info = probe_video(video)
    options = options or LipSyncOptions()
    # no NoFaceError here: a result with no face at all simply scores nan
    track = track_frames((f for _, f in FrameReader(info).frames(range(info.frame_count))), options,
                         fps=info.fps, total=info.frame_count, on_progress=on_progress)
    opening = np.full(info.frame_count, np.nan)
    n = min(info.frame_count, len(track.found))
    opening[:n] = mouth_opening(track.landmarks[:n])      # NaN landmarks (no face) give NaN
    return opening, info.fps


def sync_score(audio: str | Path, video: str | Path, *, speech=None, plot: str | Path | None = None,
               on_progress=None, phonetic: bool = True) -> SyncScore:
    """Score how well the mouth in ``video`` follows the speech in ``audio`` (its script, when
    ``speech.text`` is set, gives the phone timings of the phonetic report)."""
    from .pipeline import prepare_speech

    speech = speech or prepare_speech(audio)
    opening, fps = mouth_openings(video, on_progress=on_progress)
    result = score_track(opening, envelope(speech, fps, len(opening)), fps)
    if phonetic:
        from .phonetic import viseme_timeline
        from .phonetic.report import phonetic_report

        result.phonetic = phonetic_report(opening, fps, viseme_timeline(speech))
    if plot:
        from .plots import plot_score

        plot_score(result, plot)
    return result
