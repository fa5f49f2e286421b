"""Tiny media for the dashboard tests: a 2 s speech clip, two short face clips, and files that must fail."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def make_media(folder: Path) -> dict[str, Path]:
    from heygem_core.demo import demo_face_clip, demo_speech_path

    folder.mkdir(parents=True, exist_ok=True)
    media = {
        "anna": demo_face_clip(folder / "anna.mp4", seconds=1.0, size=(240, 270)),
        "ben": demo_face_clip(folder / "ben.mp4", seconds=1.2, size=(256, 256)),
    }
    with wave.open(str(demo_speech_path())) as src:           # 2 s of the packaged speech
        rate = src.getframerate()
        samples = np.frombuffer(src.readframes(src.getnframes()), np.int16)
    with wave.open(str(folder / "talk.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples[int(0.4 * rate):int(2.4 * rate)].tobytes())
    media["talk"] = folder / "talk.wav"
    broken = folder / "broken.mp4"                             # an MP4 header followed by junk
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"junk" * 500)
    media["broken"] = broken
    notes = folder / "notes.txt"
    notes.write_text("not a video\n")
    media["notes"] = notes
    big = folder / "big.mp4"                                   # over a 0.25 MiB limit (never probed)
    big.write_bytes(np.random.default_rng(0).integers(0, 255, 400_000, dtype=np.uint8).tobytes())
    media["big"] = big
    return media
