"""Speech tracks with any number of channels decode: in the library, through the CLI (its own process, so a
crash shows as a signal), the upload check and the queue."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import av
import numpy as np
import pytest

from heygem_core.jobs import Workspace
from heygem_core.jobs.worker import Worker
from heygem_core.media.audio import load_audio
from heygem_core.options import LipSyncOptions
from heygem_core.ui.uploads import validate_upload

from jobs_media import REPO, check_playable, face_clip, speech_snippet
from mediagen import write_audio

CHANNELS = (1, 2, 6, 8, 16)


def speech_channels(path, channels: int, seconds: float = 1.2, ext_codec: str | None = None):
    """The packaged speech in every channel, channel ``c`` scaled by ``1 / (c + 1)``."""
    clip = load_audio(speech_snippet(path.with_name(f"src-{path.stem}.wav"), seconds=seconds))
    samples = np.stack([clip.samples / (c + 1) for c in range(channels)])
    return write_audio(path, samples, clip.sample_rate, codec=ext_codec), clip.samples


@pytest.mark.parametrize("channels", CHANNELS)
def test_any_channel_count_decodes_and_downmixes(tmp_path, channels):
    path, mono_src = speech_channels(tmp_path / f"ch{channels}.wav", channels)
    with av.open(str(path)) as c:
        assert c.streams.audio[0].channels == channels
    mono = load_audio(path)
    expected = mono_src * np.mean([1 / (c + 1) for c in range(channels)])
    assert mono.channels == 1 and mono.samples.shape == mono_src.shape
    assert np.abs(mono.samples - expected).max() < 2e-3          # the average of the channels, in order
    native = load_audio(path, sample_rate=None, mono=False)
    assert native.channels == channels
    for c in (0, channels - 1):
        assert np.abs(native.samples[c] - mono_src / (c + 1)).max() < 2e-3
    resampled = load_audio(path, sample_rate=22050, mono=False)
    assert resampled.samples.shape == (channels, round(mono.duration * 22050))


def test_eight_channel_aac_decodes(tmp_path):
    path, _ = speech_channels(tmp_path / "ch8.m4a", 8)
    audio = load_audio(path, sample_rate=None, mono=False)
    assert audio.channels == 8 and audio.duration == pytest.approx(1.2, abs=0.05)


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "heygem_core.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("channels", (8, 16))
def test_cli_generate_and_score_take_many_channels(tmp_path, channels):
    audio, _ = speech_channels(tmp_path / f"ch{channels}.wav", channels)
    face = face_clip(tmp_path / "face.mp4")
    out = tmp_path / "out"
    gen = _cli("generate", "--audio", str(audio), "--video", str(face), "--out-dir", str(out),
               "--preset", "ultrafast", "--json", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    result = json.loads(gen.stdout)[0]
    check_playable(result["output"], min_seconds=1.1)
    score = _cli("score", "--audio", str(audio), "--video", result["output"], "--json", cwd=tmp_path)
    assert score.returncode == 0, score.stderr
    assert json.loads(score.stdout)["face_ratio"] > 0.9


def test_upload_check_accepts_many_channels(tmp_path):
    for channels in (8, 16):
        path, _ = speech_channels(tmp_path / f"ch{channels}.wav", channels)
        assert validate_upload("audio", path.name, path.read_bytes(), limit_bytes=1 << 30) is None


def test_queue_runs_an_eight_channel_item_and_the_next(tmp_path):
    ws = Workspace(tmp_path / "ws")
    audio, _ = speech_channels(tmp_path / "ch8.wav", 8)
    face = face_clip(tmp_path / "face.mp4")
    fast = LipSyncOptions(preset="ultrafast")
    first = ws.store.submit(audio, [face], fast)
    second = ws.store.submit(speech_snippet(tmp_path / "mono.wav"), [face], fast)
    assert Worker(ws.root, idle_exit=0).run() == 2
    for job_id in (first, second):
        item = ws.store.get_job(job_id).items[0]
        assert item.status == "done", item.error
        check_playable(item.output, min_seconds=1.1)
