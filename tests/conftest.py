"""Shared fixtures: every test makes its own media (no test reads ../shared)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def face_clip(media_dir) -> Path:
    """A real face photo animated into a 2 s, 25 fps, 480×540 H.264 clip."""
    from heygem_core.demo import demo_face_clip

    return demo_face_clip(media_dir / "face.mp4", seconds=2.0)


@pytest.fixture(scope="session")
def speech_wav() -> Path:
    """The packaged 7 s speech clip (16 kHz mono WAV)."""
    from heygem_core.demo import demo_speech_path

    return demo_speech_path()


def tone_bursts(sr: int = 16000, seconds: float = 2.0, bursts=((0.3, 0.7), (1.1, 1.6))) -> np.ndarray:
    """A speech-band signal that is loud in the given (start, end) stretches and silent elsewhere."""
    t = np.arange(int(sr * seconds)) / sr
    y = np.zeros_like(t)
    for a, b in bursts:
        on = (t >= a) & (t < b)
        y[on] = 0.5 * np.sin(2 * np.pi * 220 * t[on]) + 0.3 * np.sin(2 * np.pi * 1200 * t[on])
    return y.astype(np.float32)


@pytest.fixture(scope="session")
def wav2lip_checkpoint(tmp_path_factory) -> Path:
    """A randomly initialised Wav2Lip generator in the released file layout (~146 MB, written once)."""
    from heygem_core.engines.wav2lip.checkpoint import save_random_checkpoint

    return save_random_checkpoint(tmp_path_factory.mktemp("wav2lip") / "wav2lip_random.pth")


@pytest.fixture(scope="module")
def browser():
    """A headless chromium (the system one) for the browser tests of one module."""
    from browser import launch_chromium

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()
