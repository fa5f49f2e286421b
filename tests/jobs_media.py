"""Tiny real media for the queue tests: a speech snippet and small face clips (seconds of CPU, not minutes)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import wave
from pathlib import Path

import av
import numpy as np

REPO = str(Path(__file__).resolve().parents[1])
SIZE = (192, 216)       # big enough for FaceMesh to find the face, small enough to run in about a second


def speech_snippet(path: Path, start: float = 1.0, seconds: float = 1.2) -> Path:
    """``seconds`` of the packaged speech clip, from ``start``, as a 16 kHz mono WAV."""
    from heygem_core.demo import demo_speech_path

    with wave.open(str(demo_speech_path())) as src:
        rate, width, channels = src.getframerate(), src.getsampwidth(), src.getnchannels()
        src.setpos(int(start * rate))
        frames = src.readframes(int(seconds * rate))
    with wave.open(str(path), "wb") as dst:
        dst.setnchannels(channels)
        dst.setsampwidth(width)
        dst.setframerate(rate)
        dst.writeframes(frames)
    return path


def face_clip(path: Path, seconds: float = 1.0) -> Path:
    from heygem_core.demo import demo_face_clip

    return demo_face_clip(path, seconds=seconds, size=SIZE)


def blank_clip(path: Path, seconds: float = 0.6) -> Path:
    """A clip with no face in it: the pipeline refuses it."""
    from heygem_core.demo import write_clip

    w, h = SIZE
    return write_clip(path, [np.full((h, w, 3), 90, np.uint8)] * int(seconds * 25), 25.0)


def partly_faceless_clip(path: Path) -> Path:
    """Half a second of face, then a quarter second of an empty wall."""
    from heygem_core.demo import animate_photo, face_photo, write_clip

    w, h = SIZE
    frames = animate_photo(face_photo(), 12, size=SIZE) + [np.full((h, w, 3), 90, np.uint8)] * 6
    return write_clip(path, frames, 25.0)


def check_playable(path: str | Path, *, min_seconds: float) -> int:
    """Decode every frame and the sound of an output; returns the frame count."""
    with av.open(str(path)) as c:
        assert c.streams.video and c.streams.audio, f"{path}: needs a picture and a sound track"
        assert c.streams.video[0].codec_context.name == "h264"
        n = sum(1 for _ in c.decode(video=0))
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
        rate = c.streams.audio[0].rate
    assert n >= int(min_seconds * 25) - 1, f"{path}: only {n} frames"
    assert samples / rate >= min_seconds - 0.1
    return n


def start_worker(root: Path, *extra: str) -> subprocess.Popen:
    """A real worker process for ``root``, as `heygem worker` would run."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))
    return subprocess.Popen([sys.executable, "-m", "heygem_core.jobs.worker", "--root-path", str(root), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=env)


def wait_for(predicate, timeout: float, step: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def leftovers(root: Path) -> list[str]:
    """Anything in outputs/ that is not a finished video, and any work folder left in cache/work/."""
    bad = [p.name for p in (root / "outputs").iterdir() if p.name.startswith(".") or p.suffix != ".mp4"]
    work = root / "cache" / "work"
    bad += [str(p) for p in work.rglob("*")] if work.exists() else []
    return bad
