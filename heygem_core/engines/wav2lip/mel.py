"""Wav2Lip's audio input: the mel spectrogram the published models were trained on, and its per-frame windows.

The numbers are the training recipe's, not tunables: change one and the model sees features it never saw.
"""
from __future__ import annotations

import numpy as np

from ...speech import Speech

SAMPLE_RATE = 16_000
PREEMPHASIS = 0.97
N_FFT, HOP, WIN = 800, 200, 800      # 50 ms window, 12.5 ms hop → 80 columns per second
N_MELS, FMIN, FMAX = 80, 55.0, 7600.0
REF_LEVEL_DB, MIN_LEVEL_DB, MAX_ABS = 20.0, -100.0, 4.0
COLUMNS_PER_SECOND = SAMPLE_RATE / HOP   # 80
WINDOW = 16                              # columns per video frame (200 ms)


def mel_spectrogram(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Normalised log-mel spectrogram in [-4, 4], 80 columns per second.

    Parameters
    ----------
    samples : np.ndarray [shape=(n,)]
        Mono speech, float in [-1, 1].
    sample_rate : int
        Resampled to 16 kHz when different.

    Returns
    -------
    np.ndarray [shape=(80, 1 + n // 200), float32]
    """
    import librosa

    y = np.asarray(samples, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono samples of shape (n,), got {y.shape}")
    if sample_rate != SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=SAMPLE_RATE)
    y = y.astype(np.float64)
    emphasised = np.empty_like(y)
    if y.size:
        emphasised[0] = y[0]
        emphasised[1:] = y[1:] - PREEMPHASIS * y[:-1]
    # The models were trained with librosa 0.7, whose centred STFT padded by reflection (newer librosa pads
    # with zeros); reflection needs at least n_fft/2 + 1 samples.
    if emphasised.size <= N_FFT // 2:
        emphasised = np.pad(emphasised, (0, N_FFT // 2 + 1 - emphasised.size))
    spec = np.abs(librosa.stft(emphasised, n_fft=N_FFT, hop_length=HOP, win_length=WIN, window="hann",
                               center=True, pad_mode="reflect"))
    mel = mel_basis() @ spec
    db = 20.0 * np.log10(np.maximum(1e-5, mel)) - REF_LEVEL_DB
    norm = 2 * MAX_ABS * (db - MIN_LEVEL_DB) / -MIN_LEVEL_DB - MAX_ABS
    return np.clip(norm, -MAX_ABS, MAX_ABS).astype(np.float32)


_MEL_BASIS: np.ndarray | None = None


def mel_basis() -> np.ndarray:
    """The Slaney-normalised 80-band filterbank, 55–7600 Hz, for an 800-point FFT [shape=(80, 401)]."""
    global _MEL_BASIS
    if _MEL_BASIS is None:
        import librosa

        _MEL_BASIS = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX)
    return _MEL_BASIS


def speech_mel(speech: Speech) -> np.ndarray:
    """``mel_spectrogram`` of a Speech, computed once per speech however many videos it drives."""
    return speech.memo("wav2lip_mel", lambda: mel_spectrogram(speech.samples, speech.sample_rate))


def window_start(frame: int, fps: float) -> int:
    """First mel column of video frame ``frame`` at ``fps``: the column at the frame's start time."""
    return int(frame * COLUMNS_PER_SECOND / fps)


def mel_window(mel: np.ndarray, frame: int, fps: float) -> np.ndarray:
    """The 16 mel columns (200 ms) the model hears for video frame ``frame`` [shape=(80, 16)].

    Frames whose window runs past the end of the speech get the last 16 columns; speech shorter than one
    window is padded with silence (the normalised floor, -4)."""
    if mel.shape[1] < WINDOW:
        mel = np.pad(mel, ((0, 0), (0, WINDOW - mel.shape[1])), constant_values=-MAX_ABS)
    start = window_start(frame, fps)
    if start + WINDOW > mel.shape[1]:
        start = mel.shape[1] - WINDOW
    return mel[:, start:start + WINDOW]


def mel_windows(mel: np.ndarray, frames, fps: float) -> np.ndarray:
    """``mel_window`` for each frame number, stacked for the model [shape=(len(frames), 1, 80, 16), float32]."""
    out = np.empty((len(frames), 1, mel.shape[0], WINDOW), np.float32)
    for k, frame in enumerate(frames):
        out[k, 0] = mel_window(mel, frame, fps)
    return out
