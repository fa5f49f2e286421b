"""`heygem generate --audio A --video V [V ...]`: one lip-synced MP4 per video."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import add_option_flags, options_from_args
from .progress_bar import StageBar


def register(sub) -> None:
    p = sub.add_parser("generate", help="make one lip-synced video per face video",
                       description="The face in each VIDEO speaks AUDIO. Writes OUT_DIR/<video>__<audio>.mp4 "
                                   "(…-2.mp4 and so on when that name is taken: nothing is overwritten).")
    p.add_argument("--audio", required=True, help="speech track (wav, mp3, m4a, flac, ogg, or a video's sound)")
    p.add_argument("--video", required=True, nargs="+", action="extend",
                   help="face videos (mp4, mov, mkv, avi, webm) or photos; may be repeated")
    p.add_argument("--text", metavar="FILE", help="the script of the speech (UTF-8 text), for sharper mouth shapes")
    p.add_argument("--out-dir", default="outputs", help="where results go (default: ./outputs)")
    p.add_argument("--track-cache", default=None,
                   help="folder for cached face tracks and speech timelines (default: <out-dir>/.cache); "
                        "'none' to disable")
    p.add_argument("--score", action="store_true", help="also compute each result's sync score")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_option_flags(p)
    p.set_defaults(func=run)


def track_cache_dir(value: str | None, out_dir: Path) -> Path | None:
    """``--track-cache``: a folder, ``none`` (no cache), or unset (``<out-dir>/.cache``)."""
    if value is None:
        return out_dir / ".cache"
    return None if value.strip().lower() == "none" else Path(value)


def run(args) -> int:
    from ..session import LipSyncSession, read_text

    out_dir = Path(args.out_dir)
    text = read_text(args.text) if args.text else None
    # a bad speech track or engine fails the whole command (exit 2) before any video is touched
    session = LipSyncSession(args.audio, options_from_args(args), text=text,
                             track_cache=track_cache_dir(args.track_cache, out_dir))
    quiet = args.quiet or args.json
    results, failures = [], 0
    for i, video in enumerate(args.video, 1):
        bar = StageBar(f"[{i}/{len(args.video)}] {Path(video).name}", disable=True if quiet else None)
        try:
            item = session.run(video, session.output_path(video, out_dir), score=args.score,
                               on_progress=bar.update)
        except BaseException:
            bar.close(ok=False)
            raise
        bar.close(ok=item.ok)
        if not item.ok:
            print(f"heygem: error: {item.error}", file=sys.stderr)
            if len(args.video) == 1:
                return 2        # the one input was unusable
            failures += 1
            continue
        result = item.result
        entry = result.to_dict()
        if item.score is not None:
            entry["score"] = item.score.to_dict()
        elif item.error:
            print(f"heygem: warning: {result.output}: {item.error}", file=sys.stderr)
        results.append(entry)
        if not args.json:
            score = f", sync r={item.score.r:.2f}" if item.score is not None else ""
            print(f"{result.output}  ({result.frames} frames, {result.duration:.1f} s, "
                  f"{result.seconds:.1f} s taken, face in {100 * result.face_ratio:.0f}% of frames{score})")
    if args.json:
        keep = ("output", "audio", "video", "frames", "fps", "duration", "seconds", "face_ratio", "engine",
                "score")
        print(json.dumps([{k: r[k] for k in keep if k in r} for r in results], indent=2))
    return 1 if failures else 0
