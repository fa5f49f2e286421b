"""`heygem generate --audio A --video V [V ...]`: one lip-synced MP4 per video."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from ..errors import HeygemError
from ..names import output_name
from .common import add_option_flags, options_from_args
from .progress_bar import StageBar

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("generate", help="make one lip-synced video per face video",
                       description="The face in each VIDEO speaks AUDIO. Writes OUT_DIR/<video>__<audio>.mp4.")
    p.add_argument("--audio", required=True, help="speech track (wav, mp3, m4a, flac, ogg, or a video's sound)")
    p.add_argument("--video", required=True, nargs="+", action="extend", help="face videos (mp4, mov, mkv, avi, webm) or photos")
    p.add_argument("--out-dir", default="outputs", help="where results go (default: ./outputs)")
    p.add_argument("--track-cache", default=None,
                   help="folder for cached face tracks (default: <out-dir>/.cache); 'none' to disable")
    p.add_argument("--score", action="store_true", help="also compute each result's sync score")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_option_flags(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..engines import get_engine
    from ..pipeline import generate, prepare_speech

    options = options_from_args(args)
    out_dir = Path(args.out_dir)
    cache = None if str(args.track_cache).lower() == "none" else Path(args.track_cache or out_dir / ".cache")
    speech = prepare_speech(args.audio)          # a bad audio fails the whole command: exit 2
    engine = get_engine(options)                 # loaded once for every video
    results, failures = [], 0
    for i, video in enumerate(args.video, 1):
        label = f"[{i}/{len(args.video)}] {Path(video).name}"
        bar = StageBar(label, disable=args.quiet or args.json and not sys.stderr.isatty())
        try:
            result = generate(args.audio, video, out_dir / output_name(video, args.audio), options,
                              on_progress=bar.update, speech=speech, engine=engine, track_cache=cache)
        except BaseException as exc:
            bar.close(ok=False)
            if not isinstance(exc, HeygemError):
                raise
            if len(args.video) == 1:
                raise
            failures += 1
            print(f"heygem: error: {exc}", file=sys.stderr)
            if args.debug:
                log.exception("item failed")
            continue
        bar.close()
        entry = result.to_dict()
        if args.score:
            from ..score import sync_score
            entry["score"] = sync_score(args.audio, result.output).to_dict()
        results.append(entry)
        if not args.json:
            score = f", sync r={entry['score']['r']:.2f}" if args.score else ""
            print(f"{result.output}  ({result.frames} frames, {result.duration:.1f} s, "
                  f"{result.seconds:.1f} s taken, face in {100 * result.face_ratio:.0f}% of frames{score})")
    if args.json:
        keep = ("output", "audio", "video", "frames", "fps", "duration", "seconds", "face_ratio", "engine",
                "score")
        print(json.dumps([{k: r[k] for k in keep if k in r} for r in results], indent=2))
    return 1 if failures else 0
