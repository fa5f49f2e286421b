"""Lip-sync quality on real clips: sync r and lag, mouth range, silence, upper-face fidelity.

    python bench/quality.py --videos A.mp4 B.mp4 --audios s1.wav s2.flac [--out-dir D] [--json F]
                            [--before DIR]

For each (video, audio): generate with the default options; sync score of the result; PSNR of the upper face
(brows, eyes, nose) against the template, next to the same PSNR of a plain re-encode with the same encoder
settings (the difference is what the lip sync costs there, ideally ~0 dB); the mouth opening during speech and
during silence. A silent stretch is spliced into the middle of each speech clip to check the mouth closes.

``--before DIR`` instead compares this checkout's results with those of the package in DIR (an earlier
checkout, run in its own process) on the same inputs: the faces tracked in both results (largest landmark
difference, mean over frames; the lips' inner gap, frame by frame and on average) and the upper face of
each against the template, pixel for pixel after decoding.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import clip_name, plain_transcode, psnr, table, write_wav  # noqa: E402
from heygem_core.face import landmarks as L  # noqa: E402
from heygem_core.media.audio import load_audio  # noqa: E402
from heygem_core.options import LipSyncOptions  # noqa: E402
from heygem_core.pipeline import generate, prepare_speech  # noqa: E402
from heygem_core.score import sync_score  # noqa: E402
from heygem_core.media.timeline import template_indices  # noqa: E402
from heygem_core.face.track import track_video  # noqa: E402
from heygem_core.media.video import probe_video  # noqa: E402


def with_silence(audio: Path, out: Path, gap_s: float = 1.0) -> Path:
    """The speech with ``gap_s`` of silence spliced into its middle (16 kHz mono WAV)."""
    a = load_audio(audio)
    mid = len(a.samples) // 2
    y = np.concatenate([a.samples[:mid], np.zeros(int(gap_s * 16000), np.float32), a.samples[mid:]])
    return write_wav(out, y, 16000)


def frames_of(path):
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            yield f.to_ndarray(format="bgr24")


def upper_face_psnr(template, result, plain, n_out, options):
    info = probe_video(template)
    track = track_video(info, options, cache_dir=Path(result).parent / ".cache")
    order = template_indices(n_out, info.frame_count, options.loop_mode)
    from heygem_core.media.video import FrameReader
    got, base = [], []
    for (j, tf), rf, pf in zip(FrameReader(info).frames(order), frames_of(result), frames_of(plain)):
        lm = track.face(j)
        if lm is None:
            continue
        m = L.upper_face_mask(lm, tf.shape)
        got.append(psnr(rf, tf, m))
        base.append(psnr(pf, tf, m))
    return float(np.mean(got)), float(np.mean(base))


def run(videos, audios, out_dir: Path, options: LipSyncOptions):
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for audio in audios:
        spliced = with_silence(Path(audio), out_dir / f"{Path(audio).stem}_gap.wav")
        speech = prepare_speech(spliced)
        for video in videos:
            out = out_dir / f"{Path(video).stem}__{spliced.stem}.mp4"
            t = time.perf_counter()
            res = generate(spliced, video, out, options, speech=speech, track_cache=out_dir / ".cache")
            gen_s = time.perf_counter() - t
            plain = out_dir / f"plain_{Path(video).stem}__{spliced.stem}.mp4"
            plain_s = plain_transcode(spliced, video, plain, options)
            s = sync_score(spliced, out, speech=speech)
            psnr_res, psnr_plain = upper_face_psnr(video, out, plain, res.frames, options)
            rows.append(dict(video=clip_name(video), audio=clip_name(audio), r=s.r, lag_ms=s.lag_ms,
                             open_speech=s.opening_speech, open_silence=s.opening_silence,
                             open_range=s.opening_range, face=s.face_ratio,
                             psnr_upper=psnr_res, psnr_plain=psnr_plain, psnr_diff=psnr_plain - psnr_res,
                             gen_s=gen_s, plain_s=plain_s, ratio=gen_s / plain_s))
            print(table(rows[-1:], list(rows[-1])), flush=True)
    return rows


GENERATE = """
import sys
sys.path.insert(0, sys.argv[1])
import heygem_core
assert heygem_core.__file__.startswith(sys.argv[1]), heygem_core.__file__
from heygem_core.pipeline import generate
generate(sys.argv[2], sys.argv[3], sys.argv[4], track_cache=sys.argv[5])
"""


def compare_versions(videos, audios, before: Path, out_dir: Path, options: LipSyncOptions) -> list[dict]:
    """Results of the package in ``before`` against this checkout's, on every (video, audio)."""
    import subprocess

    out_dir.mkdir(parents=True, exist_ok=True)
    here = str(Path(__file__).resolve().parents[1])
    rows = []
    for audio in audios:
        for video in videos:
            outs = {}
            for tag, root in (("before", str(Path(before).resolve())), ("now", here)):
                out = out_dir / f"{tag}_{Path(video).stem}__{Path(audio).stem}.mp4"
                subprocess.run([sys.executable, "-c", GENERATE, root, str(audio), str(video), str(out),
                                str(out_dir / f".cache_{tag}")], check=True)
                outs[tag] = out
            tracks = {k: track_video(probe_video(v), options) for k, v in outs.items()}
            both = tracks["before"].found & tracks["now"].found
            a, b = tracks["before"].landmarks[both], tracks["now"].landmarks[both]
            lm_err = np.abs(a - b).max(axis=(1, 2))
            gap_a, gap_b = L.mouth_opening(a), L.mouth_opening(b)
            width = L.mouth_width(a)
            info = probe_video(video)
            template = track_video(info, options, cache_dir=out_dir / ".cache_now")
            upper = {k: _upper_face_identical(video, v, template, options) for k, v in outs.items()}
            rows.append(dict(video=clip_name(video), audio=clip_name(audio), frames=int(both.sum()),
                             lm_max_px=float(lm_err.max()), lm_mean_max_px=float(lm_err.mean()),
                             gap_px_max=float(np.abs(gap_a - gap_b).max() * width.mean()),
                             gap_mean_before=float(gap_a.mean()), gap_mean_now=float(gap_b.mean()),
                             gap_rel_err=float(abs(gap_b.mean() - gap_a.mean()) / max(gap_a.mean(), 1e-6)),
                             upper_psnr_before=upper["before"], upper_psnr_now=upper["now"]))
            print(table(rows[-1:], list(rows[-1])), flush=True)
    return rows


def _upper_face_identical(template, result, track, options) -> float:
    """PSNR of the upper face (brows, eyes, nose) of ``result`` against ``template``, over all frames."""
    info = probe_video(template)
    from heygem_core.media.video import FrameReader
    got = []
    n = sum(1 for _ in frames_of(result))
    order = template_indices(n, info.frame_count, options.loop_mode)
    for (j, tf), rf in zip(FrameReader(info).frames(order), frames_of(result)):
        lm = track.face(j)
        if lm is not None:
            got.append(psnr(rf, tf, L.upper_face_mask(lm, tf.shape)))
    return float(np.mean(got))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", nargs="+", required=True)
    ap.add_argument("--audios", nargs="+", required=True)
    ap.add_argument("--out-dir", default="bench/results/quality")
    ap.add_argument("--params", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--before", default=None, help="compare with the package in this earlier checkout")
    a = ap.parse_args(argv)
    options = LipSyncOptions.from_yaml(a.params) if a.params else LipSyncOptions()
    if a.before:
        rows = compare_versions(a.videos, a.audios, Path(a.before), Path(a.out_dir), options)
        print()
        print(table(rows, list(rows[0])))
        if a.json:
            Path(a.json).write_text(json.dumps(rows, indent=2))
        return
    rows = run(a.videos, a.audios, Path(a.out_dir), options)
    print()
    print(table(rows, list(rows[0])))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
