"""Wav2Lip speed: the generator in plain eager fp32 vs. the engine's inference path, and end to end.

    python bench/wav2lip_speed.py [--video CLIP] [--audio SPEECH] [--batch 32] [--json F]

All numbers come from one run on one machine, so the ratios hold even when the absolute speed drifts (shared
CPUs): eager and fast batches are timed alternately, and eager is timed again after the end-to-end run.
The generator is a random checkpoint in the released layout (same shapes and cost as the real ones).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from heygem_core.engines.wav2lip.checkpoint import load_generator, save_random_checkpoint  # noqa: E402
from heygem_core.engines.wav2lip.fast import InferenceGenerator  # noqa: E402


def _eager(model, crops: np.ndarray, mel: np.ndarray) -> np.ndarray:
    """The upstream way: NCHW fp32, BatchNorm as separate layers, no inference tricks beyond no-grad."""
    face = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255.0
    masked = face.clone()
    masked[:, :, 48:] = 0
    with torch.no_grad():
        out = model(torch.from_numpy(mel), torch.cat((masked, face), dim=1).contiguous())
    return (out * 255).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def _timed(fn, batch: int, cpu: list | None = None) -> float:
    """Frames/s of one call; appends the CPU seconds per frame (all threads) to ``cpu`` when given."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append((time.process_time() - c) / batch)
    return batch / (time.perf_counter() - t)


def measure(video: str | Path | None = None, audio: str | Path | None = None, *, batch_size: int = 32,
            repeats: int = 3, checkpoint: str | Path | None = None, precision: str = "auto",
            workdir: str | Path | None = None) -> dict:
    """Generator-only frames/s (eager fp32 and the engine's path) and, with ``video``, end-to-end frames/s.

    Returns a dict: ``eager_fps``, ``fast_fps``, ``fast_path`` (precision/kernels), ``speedup``,
    ``max_abs_diff`` and ``mean_abs_diff`` (fast vs eager output, 0–255 levels), the same for the exact fp32
    rewrites alone (``fp32_fast_fps`` …), and with a video ``e2e_fps``, ``e2e_ratio`` (= e2e_fps / eager_fps, eager
    averaged over the timings before and after), ``frames``, seconds per stage (``face_s`` …), and ``e2e_fps_cached_track``
    (a second run of the same template, its face track read from the cache as in a batch); one-off costs of
    a batch (``load_s``, ``first_batch_s``, ``mel_s``) are reported apart. ``eager_cpu_ms`` / ``e2e_cpu_ms``
    are CPU milliseconds per frame (all threads), and ``e2e_cpu_ratio`` their quotient, which other load on
    a shared machine disturbs far less than the wall-clock ratios."""
    tmp = tempfile.TemporaryDirectory(prefix="heygem-bench-") if workdir is None else None
    work = Path(workdir or tmp.name)
    try:
        ckpt = Path(checkpoint) if checkpoint else save_random_checkpoint(work / "wav2lip_random.pth")
        eager = load_generator(ckpt)
        fast = InferenceGenerator(load_generator(ckpt), "cpu", precision)
        exact = InferenceGenerator(load_generator(ckpt), "cpu", "fp32")   # the exact rewrites alone
        rng = np.random.default_rng(0)
        crops = rng.integers(0, 256, (batch_size, 96, 96, 3), dtype=np.uint8)
        mel = rng.uniform(-4, 4, (batch_size, 1, 80, 16)).astype(np.float32)

        fast(crops, mel)                 # first call: the precision check, and one-off kernel set-up
        exact(crops, mel)
        reference = _eager(eager, crops, mel)
        diff = np.abs(fast(crops, mel).astype(np.int16) - reference)
        diff_exact = np.abs(exact(crops, mel).astype(np.int16) - reference).max()
        eager_fps, fast_fps, exact_fps, eager_cpu = [], [], [], []
        for _ in range(repeats):          # alternate, so that load from elsewhere hits all alike
            eager_fps.append(_timed(lambda: _eager(eager, crops, mel), batch_size, eager_cpu))
            fast_fps.append(_timed(lambda: fast(crops, mel), batch_size))
            exact_fps.append(_timed(lambda: exact(crops, mel), batch_size))
        result = {"batch_size": batch_size, "threads": torch.get_num_threads(),
                  "eager_fps": statistics.median(eager_fps), "fast_fps": statistics.median(fast_fps),
                  "fast_path": f"{fast.precision}/{fast.kernels}", "max_abs_diff": int(diff.max()),
                  "mean_abs_diff": float(diff.mean()),
                  "fp32_fast_fps": statistics.median(exact_fps), "fp32_fast_path": f"fp32/{exact.kernels}",
                  "fp32_max_abs_diff": int(diff_exact), "eager_cpu_ms": 1000 * statistics.median(eager_cpu)}
        result["speedup"] = result["fast_fps"] / result["eager_fps"]
        if video is not None:
            result.update(_end_to_end(video, audio, ckpt, batch_size, precision, work))
            after = [_timed(lambda: _eager(eager, crops, mel), batch_size) for _ in range(repeats)]
            result["eager_fps_after"] = statistics.median(after)
            eager_mean = (result["eager_fps"] + result["eager_fps_after"]) / 2
            result["e2e_ratio"] = result["e2e_fps"] / eager_mean
            result["e2e_ratio_cached_track"] = result["e2e_fps_cached_track"] / eager_mean
            # CPU time per frame hardly changes when other processes share the CPU: a steadier comparison
            result["e2e_cpu_ratio"] = result["eager_cpu_ms"] / result["e2e_cpu_ms"]
        return result
    finally:
        if tmp is not None:
            tmp.cleanup()


def _end_to_end(video, audio, ckpt: Path, batch_size: int, precision: str, work: Path) -> dict:
    """Per-video throughput inside a batch. What a batch pays once (loading the weights, the first-batch
    precision check, the speech's features) is timed separately and not counted per video."""
    from heygem_core.demo import demo_speech_path
    from heygem_core.engines.wav2lip.engine import Wav2LipEngine
    from heygem_core.engines.wav2lip.mel import speech_mel
    from heygem_core.options import LipSyncOptions
    from heygem_core.pipeline import generate, prepare_speech

    audio = audio or demo_speech_path()
    options = LipSyncOptions(engine="wav2lip", checkpoint=str(ckpt), batch_size=batch_size)
    t = time.perf_counter()
    engine = Wav2LipEngine(options, precision=precision)
    once = {"load_s": time.perf_counter() - t}
    t = time.perf_counter()
    engine.generator(np.zeros((batch_size, 96, 96, 3), np.uint8), np.zeros((batch_size, 1, 80, 16), np.float32))
    once["first_batch_s"] = time.perf_counter() - t
    speech = prepare_speech(audio)
    t = time.perf_counter()
    speech_mel(speech)
    once["mel_s"] = time.perf_counter() - t
    c = time.process_time()
    cold = generate(audio, video, work / "e2e.mp4", options, speech=speech, engine=engine,
                    track_cache=work / "tracks")
    cpu_ms = 1000 * (time.process_time() - c) / cold.frames
    # the same template again (another speech of a batch): its face track now comes from the cache
    warm = generate(audio, video, work / "e2e.mp4", options, speech=speech, engine=engine,
                    track_cache=work / "tracks")
    stages = {f"{name}_s": seconds for name, seconds in cold.stage_seconds.items()}
    return {"video": str(video), "frames": cold.frames, "e2e_seconds": cold.seconds,
            "e2e_fps": cold.frames / cold.seconds, "e2e_cpu_ms": cpu_ms, **stages, "e2e_fps_cached_track": warm.frames / warm.seconds,
            **once}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", help="template clip for the end-to-end run (omit: generator only)")
    parser.add_argument("--audio", help="speech for the end-to-end run (default: the packaged demo speech)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)
    result = measure(args.video, args.audio, batch_size=args.batch, repeats=args.repeats,
                     precision=args.precision)
    for key, value in result.items():
        print(f"{key:>16}: {value:.2f}" if isinstance(value, float) else f"{key:>16}: {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
