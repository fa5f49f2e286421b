"""`heygem generate` against the ffmpeg command line, whole process, side by side.

    python bench/process_speed.py [--repeat 3] [--seconds 10] [--media ../shared/media] [--before DIR]
                                  [--json FILE]

For a 720p30 H.264 clip and a 1080x1920 HEVC 30 fps clip (the real ones from ``--media`` when that folder
exists, else synthetic ones made here), each with a speech track as long as the clip, the runs alternate:
ffmpeg's own transcode (the command below), then `heygem generate` three times on one cache folder: ``cold``
(nothing cached), ``warm`` (the same run again: the face track and the speech's viseme timeline are read
from the cache) and ``new speech`` (the template's track cached, the speech a new one: the same track a
touch quieter, so its timeline is made again, as for the next speech a presenter is given). Each is a fresh process; its CPU time (user + system, all threads and children) comes from the
kernel (``wait4``), so the ratios hold on a busy machine. Start-up is the time from starting the process to
the first frame handed to the encoder (logged by the writer), and the CPU the process had used by then
(``startup_cpu``: what the start-up costs whatever the load; the wall time is inflated on a busy machine).

``--before DIR``: also run the package found in DIR (another checkout, e.g. ``git archive`` of an earlier
commit) in the same alternation, for a before/after table measured under the same load.

Needs the ``ffmpeg`` command (``make bench`` installs Debian's when it is missing); the product does not.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import table, write_wav  # noqa: E402
from heygem_core.media.audio import load_audio  # noqa: E402

SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"

# `heygem generate`, with the writer's debug line (the moment the first frame reaches the encoder) on stderr.
HEYGEM = """
import logging, sys
h = logging.StreamHandler()
h.setFormatter(logging.Formatter("%(message)s"))
lg = logging.getLogger("heygem_core.media.encode")
lg.addHandler(h)
lg.setLevel(logging.DEBUG)
from heygem_core.cli import main
sys.exit(main(sys.argv[1:]))
"""
FIRST_FRAME = re.compile(r"first frame to the encoder at ([0-9.]+)(?: \(([0-9.]+) s of CPU\))?")


def ffmpeg_cmd(video: Path, audio: Path, out: Path) -> list[str]:
    """The transcode a lip-sync run is measured against (same encoder settings as the product's defaults)."""
    return ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(video), "-i", str(audio),
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(out)]


def heygem_cmd(video: Path, audio: Path, out_dir: Path, cache: Path, root: Path | None = None) -> list[str]:
    """`heygem generate` of this checkout, or of the package in ``root``. The root goes first on
    ``sys.path`` from inside the command: ``python -c`` puts the working folder ahead of ``PYTHONPATH``, so
    run from this checkout's root, PYTHONPATH alone would import this checkout for both."""
    code = HEYGEM if root is None else f"import sys; sys.path.insert(0, {str(root)!r})\n" + HEYGEM
    return [sys.executable, "-c", code, "generate", "--audio", str(audio), "--video", str(video),
            "--out-dir", str(out_dir), "--track-cache", str(cache), "--quiet"]


def timed(cmd: list[str]) -> dict:
    """Run ``cmd``; its wall seconds, CPU seconds and (for heygem) start-up seconds."""
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    first = FIRST_FRAME.search(err)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "startup": float(first.group(1)) - start if first else None,
            "startup_cpu": float(first.group(2)) if first and first.group(2) else None}


def speech_as_long_as(video: Path, speech: Path, out: Path) -> Path:
    """``speech`` cut (or repeated) to the length of ``video``, at its own rate and channels, as WAV."""
    from heygem_core.media.video import probe_video

    duration = probe_video(video).duration
    sound = load_audio(speech, sample_rate=None, mono=False)
    n = int(round(duration * sound.sample_rate))
    reps = int(np.ceil(n / sound.samples.shape[-1]))
    return write_wav(out, np.tile(sound.samples, (1, reps) if sound.samples.ndim == 2 else reps)[..., :n],
                     sound.sample_rate)


def portrait_hevc(src: Path, out: Path, seconds: float) -> Path:
    """A 1080x1920 HEVC clip at 30 fps from ``src`` (scaled and padded as needed)."""
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-t", f"{seconds:g}",
           "-vf", "scale=1080:1920:force_original_aspect_ratio=decrease,pad=1080:1920:(ow-iw)/2:(oh-ih)/2,fps=30",
           "-c:v", "libx265", "-preset", "ultrafast", "-crf", "22", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-an", str(out)]
    subprocess.run(cmd, check=True)
    return out


def inputs(work: Path, media: Path, seconds: float) -> list[tuple[str, Path, Path]]:
    """(label, video, speech) for the two formats measured."""
    if (media / "woman_720p30.mp4").exists():
        clip720 = media / "woman_720p30.mp4"
        portrait_src = media / "man_portrait_1080x1920_hevc.mp4"
        speech = media / "speech_en_jfk_11s.flac"
    else:   # a fresh machine without the shared media: the built-in face and speech
        from heygem_core.demo import demo_face_clip, demo_speech_path

        clip720 = demo_face_clip(work / "synthetic_720p30.mp4", seconds=min(seconds, 8.0), fps=30.0,
                                 size=(1280, 720))
        portrait_src = demo_face_clip(work / "synthetic_portrait.mp4", seconds=min(seconds, 8.0), fps=30.0,
                                      size=(1080, 1920))
        speech = demo_speech_path()
    portrait = portrait_hevc(portrait_src, work / "portrait_1080x1920_hevc30.mp4", seconds)
    return [(f"720p30 {clip720.stem}", clip720, speech_as_long_as(clip720, speech, work / "speech_720.wav")),
            ("1080x1920 hevc 30fps", portrait, speech_as_long_as(portrait, speech, work / "speech_portrait.wav"))]


def measure(repeat: int = 3, seconds: float = 10.0, media: Path = SHARED_MEDIA, before: Path | None = None
            ) -> list[dict] | None:
    if shutil.which("ffmpeg") is None:
        print("(skipped the comparison with ffmpeg: no ffmpeg command; make bench installs it)", file=sys.stderr)
        return None
    versions = {"": None} if before is None else {"before_": Path(before).resolve(), "": None}
    rows = []
    with tempfile.TemporaryDirectory(prefix="heygem-proc-") as tmp:
        work = Path(tmp)
        for label, video, audio in inputs(work, Path(media), seconds):
            sound = load_audio(audio, sample_rate=None, mono=False)
            other = write_wav(audio.with_name(f"quieter_{audio.name}"), sound.samples * 0.9, sound.sample_rate)
            runs: dict[str, list[dict]] = {"ffmpeg": []}
            for r in range(repeat):     # alternating, so load on the machine falls on all of them alike
                runs["ffmpeg"].append(timed(ffmpeg_cmd(video, audio, work / "ffmpeg.mp4")))
                for tag, root in versions.items():
                    cache = work / f"cache_{tag}{len(rows)}_{r}"
                    for state, speech in (("cold", audio), ("warm", audio), ("new_speech", other)):
                        runs.setdefault(tag + state, []).append(
                            timed(heygem_cmd(video, speech, work / "out", cache, root)))
            med = {k: {m: statistics.median(x[m] for x in v) for m in ("wall", "cpu")} for k, v in runs.items()}
            row = {"clip": label, "ffmpeg_cpu": med["ffmpeg"]["cpu"], "ffmpeg_wall": med["ffmpeg"]["wall"]}
            for tag in versions:
                for state in ("cold", "warm", "new_speech"):
                    k = tag + state
                    starts = [x["startup"] for x in runs[k] if x["startup"] is not None]
                    start_cpus = [x["startup_cpu"] for x in runs[k] if x.get("startup_cpu") is not None]
                    row.update({f"{k}_cpu": med[k]["cpu"], f"{k}_wall": med[k]["wall"],
                                f"{k}_cpu_x": med[k]["cpu"] / med["ffmpeg"]["cpu"],
                                f"{k}_wall_x": med[k]["wall"] / med["ffmpeg"]["wall"],
                                f"{k}_startup_s": statistics.median(starts) if starts else None,
                                f"{k}_startup_cpu_s": statistics.median(start_cpus) if start_cpus else None})
            row.update({"runs": repeat, "load": os.getloadavg()[0],
                        "samples": {k: [{m: x[m] for m in ("cpu", "wall", "startup_cpu") if m in x} for x in v]
                                    for k, v in runs.items()}})
            rows.append(row)
            print(table(rows[-1:], [k for k in row if k not in ("runs", "samples")]), "\n", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the portrait clip")
    ap.add_argument("--media", default=str(SHARED_MEDIA))
    ap.add_argument("--before", default=None, help="another checkout's root to measure alongside")
    ap.add_argument("--json", default="bench/results/process_speed.json")
    a = ap.parse_args(argv)
    rows = measure(a.repeat, a.seconds, Path(a.media), a.before)
    if rows is None:
        return 1
    print(table(rows, [k for k in rows[0] if k not in ("runs", "samples")]))
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
