"""Peak memory of `generate` on a long 1080p input against a short one (each in a fresh process).

    python bench/long_memory.py [--minutes 1 10] [--size 1920x1080] [--speech-hours 2] [--before DIR]
                                [--template-seconds S] [--json FILE]

Builds face clips of the given lengths (the built-in portrait with gentle camera motion, H.264) and speech
tracks as long (the built-in speech repeated), runs the pipeline on each in its own process, and prints the
peak resident memory of each and the ratio to the shortest, with the frames and seconds of each result.
``--template-seconds S``: one S-second clip for every length, played forward and back by the product to
the speech's length (the whole result is still made and encoded; only the template file stays small). A streaming pipeline's peak should barely move
with the length (the face track grows by ~3.8 KB per frame; frames never pile up).

``--speech-hours H``: a speech of H hours (44.1 kHz stereo WAV) on a short template. What grows with the
speech is prepared before the first frame (decoding it for the features, the features, the mouth targets)
plus the output's sound track as it is fed to the encoder; the run is stopped once ``--frames`` frames have
been made (the frames side is what the minutes rows measure). ``--before DIR`` runs the package in DIR (an
earlier checkout) on the same inputs too.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import RSS_SUFFIX, peak_rss_mb, table, write_wav  # noqa: E402
from heygem_core.media.audio import load_audio  # noqa: E402
from heygem_core.demo import animate_photo, demo_speech_path, face_photo  # noqa: E402
from heygem_core.media.encode import VideoWriter  # noqa: E402
from heygem_core.media.video import probe_video  # noqa: E402

GENERATE = """
import sys
from heygem_core.pipeline import generate
generate(sys.argv[1], sys.argv[2], sys.argv[3])
""" + RSS_SUFFIX

# generate, stopped (Cancelled) once a given number of frames have been made
GENERATE_SOME = """
import sys
from heygem_core.errors import Cancelled
from heygem_core.pipeline import generate
made = [0]
def progress(p):
    if p.stage == "synthesis":
        made[0] = p.done
try:
    generate(sys.argv[1], sys.argv[2], sys.argv[3], on_progress=progress,
             should_stop=lambda: made[0] >= int(sys.argv[4]))
except Cancelled:
    pass
""" + RSS_SUFFIX


def long_speech(work: Path, hours: float, rate: int = 44100) -> Path:
    """A WAV of ``hours`` of speech (the built-in one repeated, stereo), written a piece at a time."""
    import wave

    speech = load_audio(demo_speech_path(), sample_rate=rate, mono=True).samples
    piece = (np.clip(np.stack([speech, 0.8 * speech], 1), -1, 1) * 32767).astype("<i2").tobytes()
    per_piece = len(speech)
    total = int(hours * 3600 * rate)
    path = work / f"speech_{hours:g}h.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(rate)
        for start in range(0, total, per_piece):
            w.writeframes(piece[: 4 * min(per_piece, total - start)])
    return path


def speech_rows(work: Path, hours: float, frames: int, before: str | None) -> list[dict]:
    from heygem_core.demo import demo_face_clip

    video = demo_face_clip(work / "short_face.mp4", seconds=3.0)
    audio = long_speech(work, hours)
    rows = []
    for label, root in ([("before", before)] if before else []) + [("now", None)]:
        code = GENERATE_SOME if root is None else f"import sys; sys.path.insert(0, {str(Path(root).resolve())!r})\n" + GENERATE_SOME
        t = time.perf_counter()
        peak, _ = peak_rss_mb(code, str(audio), str(video), str(work / f"speech_{label}.mp4"), str(frames))
        rows.append({"version": label, "speech_h": hours, "speech": "44.1 kHz stereo", "frames_made": frames,
                     "peak_mb": peak, "seconds": time.perf_counter() - t})
        print(table(rows[-1:], list(rows[-1])), flush=True)
    return rows


def make_inputs(work: Path, minutes: float, size: tuple[int, int], fps: float = 25.0,
                template_s: float | None = None) -> tuple[Path, Path]:
    """A face clip and a speech of ``minutes``; with ``template_s``, the clip is that many seconds and the
    product plays it forward and back (``loop_mode="pingpong"``, the default) for the whole speech."""
    n = int(round((minutes * 60 if template_s is None else template_s) * fps))
    cycle = animate_photo(face_photo(), 250, size=size)        # 10 s of motion, played back and forth
    video = work / (f"face_{minutes:g}min.mp4" if template_s is None else f"face_{template_s:g}s.mp4")
    with VideoWriter(video, size[0], size[1], fps, crf=23, preset="ultrafast") as w:
        for i in range(n):
            k = i % (2 * len(cycle) - 2)
            w.write(cycle[k if k < len(cycle) else 2 * len(cycle) - 2 - k])
    speech = load_audio(demo_speech_path())
    reps = int(np.ceil(minutes * 60 / speech.duration))
    audio = work / f"speech_{minutes:g}min.wav"
    write_wav(audio, np.tile(speech.samples, reps)[: int(minutes * 60 * speech.sample_rate)], speech.sample_rate)
    return video, audio


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--speech-hours", type=float, default=None,
                    help="instead: a speech this long on a short template")
    ap.add_argument("--frames", type=int, default=250, help="with --speech-hours: frames made before stopping")
    ap.add_argument("--before", default=None, help="with --speech-hours: also run the package in this checkout")
    ap.add_argument("--template-seconds", type=float, default=None,
                    help="a template this long for every length (played forward and back by the product) "
                         "instead of a clip as long as the speech")
    ap.add_argument("--json", default="bench/results/long_memory.json")
    a = ap.parse_args(argv)
    if a.speech_hours:
        with tempfile.TemporaryDirectory(prefix="heygem-mem-") as tmp:
            rows = speech_rows(Path(tmp), a.speech_hours, a.frames, a.before)
        print()
        print(table(rows, list(rows[0])))
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(rows, indent=2))
        return 0
    size = tuple(int(v) for v in a.size.split("x"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="heygem-mem-") as tmp:
        work = Path(tmp)
        for minutes in a.minutes:
            video, audio = make_inputs(work, minutes, size, template_s=a.template_seconds)
            t = time.perf_counter()
            out = work / f"out_{minutes:g}.mp4"
            peak, _ = peak_rss_mb(GENERATE, str(audio), str(video), str(out))
            made = probe_video(out)
            rows.append({"minutes": minutes, "size": a.size, "template_s": a.template_seconds or minutes * 60,
                         "frames_out": made.frame_count, "out_s": round(made.duration, 1), "peak_mb": peak,
                         "seconds": time.perf_counter() - t})
            print(table(rows[-1:], list(rows[-1])), flush=True)
    for r in rows:
        r["ratio_to_shortest"] = r["peak_mb"] / rows[0]["peak_mb"]
    print()
    print(table(rows, list(rows[0])))
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
