"""`heygem demo`: the main job on built-in media — one speech track drives two presenters."""
from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on built-in media (no files needed)")
    p.add_argument("--out-dir", default="demo_output", help="where the results go (default: ./demo_output)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..batch import BUILTIN_CLIP, BUILTIN_PHOTO, BUILTIN_SPEECH, plan_batch, run_batch
    from .progress_bar import BarReporter

    plan = plan_batch(BUILTIN_SPEECH, [BUILTIN_CLIP, BUILTIN_PHOTO], out_dir=args.out_dir)
    media = ", ".join(str(v.path) for v in plan.videos)
    print(f"built-in media: {plan.audio.name} ({plan.audio.stat().st_size // 1024} KB speech), {media}")
    failed = 0
    for item in run_batch(plan, reporter=BarReporter()):
        if not item.ok:
            failed += 1
            print(f"heygem: error: {item.describe_error()}", file=sys.stderr)
            continue
        sync = "" if item.score is None else f"; sync r = {item.score.r:.2f} at {item.score.lag_ms:+.0f} ms"
        print(f"  → {item.output}  {item.frames} frames, {item.duration:.1f} s, made in {item.seconds:.1f} s{sync}")
    print(f"\nDone. Open the MP4 files in {Path(args.out_dir).resolve()} with any video player or a browser.")
    return 1 if failed else 0
