"""Phonetic mouth on real clips: do the lips make the shapes of the speech?

    python bench/phonetic.py --videos A.mp4 B.mp4 --audios s1.wav s2.flac [--texts s1.txt -] [--out-dir D]

For each (audio, video), generated once from the audio alone and once with its script (when one is given):
the share of p b m on which the lips close (inner-lip gap ≤ 6 % of mouth width within ±1 frame) next to the
same share with the phone timings shifted 0.5–1.4 s (chance), the aperture of open vowels (a) over close
sounds (i u f v w), the loudness sync r and lag, and what the viseme timeline costs per second of speech
(CPU seconds ÷ speech seconds; target ≤ 0.2, once per speech for a whole batch).

The phone timings the lips are judged against come from the script aligned to the audio when there is one
(for both runs, so the audio-only run is judged against the same truth), and from the phone loop otherwise.
The mouth opening is measured with the project's own face tracker (MediaPipe FaceMesh, 478 points; the
central inner-lip pairs 82–87, 13–14, 312–317 over the corner distance 61–291).

Mandarin test speech with its script: ``espeak-ng -v cmn-latn-pinyin -f zh.txt -w zh.wav`` (zh.txt in hanzi).
The plain ``cmn`` voice of espeak-ng 1.51 reads hanzi as syllables followed by their tone digits in English
("ba four"), which no script matches.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import clip_name, table  # noqa: E402
from heygem_core.options import LipSyncOptions  # noqa: E402
from heygem_core.phonetic import viseme_timeline  # noqa: E402
from heygem_core.phonetic.report import phonetic_report  # noqa: E402
from heygem_core.pipeline import generate, prepare_speech  # noqa: E402
from heygem_core.score import mouth_openings, score_track  # noqa: E402
from heygem_core.speech import Speech, envelope  # noqa: E402


def timeline_cost(samples: np.ndarray, text: str | None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) for one fresh timeline of ``samples``."""
    speech = Speech(samples, text=text)
    c, w = time.process_time(), time.perf_counter()
    viseme_timeline(speech)
    return time.process_time() - c, time.perf_counter() - w


def run(videos, audios, texts, out_dir: Path, options: LipSyncOptions, stills: bool):
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    viseme_timeline(Speech(np.zeros(16000, np.float32)))       # load the recogniser once, outside the timing
    for audio, text in zip(audios, texts):
        base = prepare_speech(audio)
        truth = viseme_timeline(Speech(base.samples, text=text)) if text else viseme_timeline(base)
        runs = [("audio", None)] + ([("text", text)] if text else [])
        for label, script in runs:
            cpu, wall = timeline_cost(base.samples, script)
            speech = Speech(base.samples, path=str(audio), text=script)
            for video in videos:
                out = out_dir / f"{Path(video).stem}__{Path(audio).stem}__{label}.mp4"
                generate(audio, video, out, options, speech=speech, track_cache=out_dir / ".cache")
                opening, fps = mouth_openings(out, cache_dir=out_dir / ".cache")
                sync = score_track(opening, envelope(speech, fps, len(opening)), fps)
                rep = phonetic_report(opening, fps, truth)
                rows.append(dict(video=clip_name(video), audio=clip_name(audio), mouth=label, truth=truth.source,
                                 closure=rep.bilabial_closure, chance=rep.chance, above=rep.above_chance,
                                 chance_all=rep.chance_with_pauses,
                                 n_pbm=rep.n_bilabials, aperture=rep.aperture_ratio, r=sync.r, lag_ms=sync.lag_ms,
                                 cost=cpu / base.duration, cost_wall=wall / base.duration))
                if stills:
                    save_stills(out, opening, fps, truth, out_dir / "stills")
                print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in rows[-1].items()}),
                      flush=True)
    return rows


def save_stills(video: Path, opening: np.ndarray, fps: float, truth, folder: Path) -> None:
    """PNG close-ups of the mouth: the frame at the middle of a p/b/m, of an open vowel, a rounded one, an f/v."""
    import cv2

    from heygem_core.face import landmarks as L
    from heygem_core.face.track import track_frames
    from heygem_core.media.video import FrameReader, probe_video

    folder.mkdir(parents=True, exist_ok=True)
    info = probe_video(video)
    picks = {}
    for kind, names in (("closure", {"P", "B", "M"}), ("open", {"AA", "AE"}), ("round", {"UW", "OW", "W", "AO"}),
                        ("labio", {"F", "V"})):
        times = truth.phone_times(names)
        for k, (a, b) in enumerate(times[:: max(1, len(times) // 3)][:3]):
            picks[f"{kind}{k}"] = min(info.frame_count - 1, int((a + b) / 2 * fps))
    if not picks:
        return
    frames = dict(FrameReader(info).frames(sorted(set(picks.values()))))
    for name, i in picks.items():
        frame = frames[i]
        lm = track_frames([frame], LipSyncOptions(track_smoothing=0.0)).landmarks[0]
        if not np.isfinite(lm).all():
            continue
        c = lm[list(L.OUTER_LIPS)].mean(0)
        half = 1.1 * L.mouth_width(lm)
        x0, y0 = int(max(0, c[0] - half)), int(max(0, c[1] - half * 0.8))
        crop = frame[y0: int(c[1] + half * 0.8), x0: int(c[0] + half)]
        crop = cv2.resize(crop, (320, int(320 * crop.shape[0] / max(1, crop.shape[1]))))
        cv2.putText(crop, f"{name} f{i} open {opening[i]:.2f}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 255, 255), 1, cv2.LINE_AA)
        cv2.imwrite(str(folder / f"{video.stem}__{name}.png"), crop)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", nargs="+", required=True)
    ap.add_argument("--audios", nargs="+", required=True)
    ap.add_argument("--texts", nargs="*", default=[],
                    help="one script file per audio, in order; '-' for an audio without a script")
    ap.add_argument("--out-dir", default="bench_out/phonetic")
    ap.add_argument("--stills", action="store_true", help="save mouth close-ups (PNG) of each result")
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args(argv)
    texts = [None if t in (None, "-") else Path(t).read_text(encoding="utf-8")
             for t in (args.texts + ["-"] * len(args.audios))[: len(args.audios)]]
    rows = run(args.videos, args.audios, texts, Path(args.out_dir), LipSyncOptions(), args.stills)
    print(table(rows, ["video", "audio", "mouth", "truth", "closure", "chance", "above", "chance_all", "n_pbm",
                       "aperture", "r", "lag_ms", "cost", "cost_wall"]))
    print("targets: closure ≥ 0.70 and ≥ 25 points above chance; aperture ≥ 1.3; r ≥ 0.6 within ±40 ms; "
          "cost ≤ 0.2 (CPU s per s of speech)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
