"""`make bench`: one table of numbers measured side by side in this run, plus the same as JSON.

    python bench/run.py [CLIP ...] [--audio SPEECH] [--memory] [--json FILE]

For the built-in demo clip and each CLIP: the pipeline's time against a plain decode + H.264 re-encode of the
same frames with the same encoder settings (ratio), with a cold and a warm face-track cache; the face stage
alone cold vs warm; the whole `heygem generate` process against ffmpeg's own transcode at 720p30 and
1080x1920 HEVC (bench/process_speed.py); peak memory of the pipeline for the input and for the same input made 10× longer (always
for the demo clip, for CLIPs with --memory). Then the Wav2Lip engine's end-to-end speed against its bare
generator, the job queue's overhead, and the dashboard's first paint and progress rate, when those parts are
installed. Ratios are what to compare between runs; seconds depend on the machine.
"""
from __future__ import annotations

import argparse
import importlib
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RSS_SUFFIX, clip_name, peak_rss_mb, plain_transcode, table, write_wav  # noqa: E402
from heygem_core.media.audio import load_audio  # noqa: E402
from heygem_core.demo import demo_face_clip, demo_speech_path  # noqa: E402
from heygem_core.media.encode import VideoWriter  # noqa: E402
from heygem_core.options import LipSyncOptions  # noqa: E402
from heygem_core.pipeline import generate, prepare_speech  # noqa: E402
from heygem_core.face.track import cached_track, track_frames  # noqa: E402
from heygem_core.media.video import FrameReader, probe_video  # noqa: E402

GENERATE = """
import sys
from heygem_core.pipeline import generate
generate(sys.argv[1], sys.argv[2], sys.argv[3])
""" + RSS_SUFFIX


def cpu_s() -> float:
    """CPU seconds used so far by this process, all threads: a ratio of these holds on a busy machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def speed_row(video: Path, audio: Path, work: Path, options: LipSyncOptions) -> dict:
    cache = work / f"cache_{video.stem}"
    speech = prepare_speech(audio)
    c0 = cpu_s()
    cold = generate(audio, video, work / f"{video.stem}_cold.mp4", options, speech=speech, track_cache=cache)
    c1 = cpu_s()
    warm = generate(audio, video, work / f"{video.stem}_warm.mp4", options, speech=speech, track_cache=cache)
    c2 = cpu_s()
    plain = plain_transcode(audio, video, work / f"{video.stem}_plain.mp4", options)
    plain_cpu = cpu_s() - c2
    info = probe_video(video)
    need = min(info.frame_count, warm.frames)                    # the frames the pipeline tracked
    t = time.perf_counter()
    track_frames((f for _, f in FrameReader(info).frames(range(need))), options, fps=info.fps)
    face_cold = time.perf_counter() - t                          # face stage on its own, decoding included
    t = time.perf_counter()
    assert cached_track(info, options, cache, need) is not None  # what the warm run used
    face_warm = time.perf_counter() - t
    return {
        "clip": clip_name(video), "size": f"{info.width}x{info.height}", "frames": warm.frames,
        "gen_s": warm.seconds, "fps": warm.frames / warm.seconds, "rtf": warm.seconds / warm.duration,
        "plain_s": plain, "ratio": warm.seconds / plain, "ratio_cold": cold.seconds / plain,
        "cpu_ratio": (c2 - c1) / plain_cpu, "cpu_ratio_cold": (c1 - c0) / plain_cpu,
        "face_cold_s": face_cold, "face_warm_s": face_warm, "face_ratio": face_cold / max(face_warm, 1e-6),
    }


def longer(video: Path, audio: Path, factor: int, work: Path) -> tuple[Path, Path]:
    """The clip and the speech, each repeated ``factor`` times (re-encoded, same size and rate)."""
    info = probe_video(video)
    sound = load_audio(audio, sample_rate=None, mono=False)
    import numpy as np
    samples = np.concatenate([sound.samples] * factor, axis=-1)
    long_audio = work / f"{audio.stem}_x{factor}.wav"
    write_wav(long_audio, samples, sound.sample_rate)
    long_video = work / f"{video.stem}_x{factor}.mp4"
    with VideoWriter(long_video, info.width, info.height, info.fps, crf=18, preset="veryfast") as w:
        for _ in range(factor):
            for _, frame in FrameReader(info).frames(range(info.frame_count)):
                w.write(frame)
    return long_video, long_audio


def memory_row(video: Path, audio: Path, work: Path, factor: int = 10) -> dict:
    # the audio is cut to the clip's length, so "10× longer" means 10× the frames on both sides
    info = probe_video(video)
    sound = load_audio(audio, sample_rate=None, mono=False)
    cut = work / f"{audio.stem}_cut.wav"
    n = min(sound.samples.shape[-1], int(info.duration * sound.sample_rate))
    write_wav(cut, sound.samples[..., :n], sound.sample_rate)
    base, _ = peak_rss_mb(GENERATE, str(cut), str(video), str(work / "mem_1.mp4"))
    long_video, long_audio = longer(video, cut, factor, work)
    big, _ = peak_rss_mb(GENERATE, str(long_audio), str(long_video), str(work / "mem_10.mp4"))
    return {"clip": clip_name(video), "seconds": round(n / sound.sample_rate, 1), "peak_mb": base,
            f"peak_mb_x{factor}": big, "mem_ratio": big / base}


def optional(module: str, **kwargs) -> dict | None:
    """Rows from another benchmark module's ``measure()``; None when that part is not there."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        print(f"(skipped {module}: {exc})", file=sys.stderr)
        return None
    return mod.measure(**kwargs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clips", nargs="*", help="more face videos (e.g. ../shared/media/*.mp4)")
    ap.add_argument("--audio", default=None, help="speech track (default: the built-in one)")
    ap.add_argument("--memory", action="store_true", help="also measure memory ×10 for the given clips")
    ap.add_argument("--skip", nargs="*", default=[], choices=["memory", "process", "wav2lip", "jobs", "dashboard"])
    ap.add_argument("--json", default="bench/results/bench.json")
    a = ap.parse_args(argv)

    options = LipSyncOptions()
    audio = Path(a.audio) if a.audio else demo_speech_path()
    report: dict = {"machine": platform.platform(), "python": platform.python_version(), "audio": str(audio)}
    with tempfile.TemporaryDirectory(prefix="heygem-bench-") as tmp:
        work = Path(tmp)
        demo = demo_face_clip(work / "demo_clip.mp4", seconds=4.0)
        clips = [demo, *map(Path, a.clips)]
        report["speed"] = [speed_row(c, audio, work, options) for c in clips]
        print(table(report["speed"], list(report["speed"][0])), "\n", flush=True)
        if "memory" not in a.skip:
            report["memory"] = [memory_row(c, audio, work) for c in (clips if a.memory else clips[:1])]
            print(table(report["memory"], list(report["memory"][0])), "\n", flush=True)
        extras = {"process": ("bench.process_speed", {}),
                  "wav2lip": ("bench.wav2lip_speed", {"video": demo, "audio": audio}),
                  "jobs": ("bench.jobs_queue", {}),
                  "dashboard": ("bench.dashboard_paint", {})}
        for name, (module, kwargs) in extras.items():
            if name in a.skip:
                continue
            row = optional(module, **kwargs)
            if row is not None:
                report[name] = row
                rows = row if isinstance(row, list) else [row]
                print(f"{name}:\n" + table(rows, [k for k in rows[0] if k != "samples"]), "\n", flush=True)
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
