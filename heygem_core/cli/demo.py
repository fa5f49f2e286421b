"""`heygem demo`: the main job on built-in media — one speech track drives two presenters."""
from __future__ import annotations

from pathlib import Path

import cv2


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on built-in media (no files needed)")
    p.add_argument("--out-dir", default="demo_output", help="where the results go (default: ./demo_output)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..demo import demo_face_clip, demo_speech_path, face_photo
    from ..options import LipSyncOptions
    from ..pipeline import generate, prepare_speech
    from ..score import sync_score
    from ..names import output_name
    from .progress_bar import StageBar

    out = Path(args.out_dir)
    media = out / "media"
    media.mkdir(parents=True, exist_ok=True)
    audio = demo_speech_path()
    clip = demo_face_clip(media / "presenter_clip.mp4", seconds=3.0)
    still = media / "presenter_photo.jpg"
    cv2.imwrite(str(still), face_photo())
    print(f"built-in media: {audio.name} ({audio.stat().st_size // 1024} KB speech), {clip}, {still}")

    options = LipSyncOptions()
    speech = prepare_speech(audio)
    for video in (clip, still):
        bar = StageBar(video.name)
        result = generate(audio, video, out / output_name(video, audio), options, on_progress=bar.update,
                          speech=speech, track_cache=out / ".cache")
        bar.close()
        score = sync_score(audio, result.output)
        print(f"  → {result.output}  {result.frames} frames, {result.duration:.1f} s, made in "
              f"{result.seconds:.1f} s; sync r = {score.r:.2f} at {score.lag_ms:+.0f} ms")
    print(f"\nDone. Open the MP4 files in {out.resolve()} with any video player or a browser.")
    return 0
