"""`heygem score --audio A --video V [--text SCRIPT]`: how well the mouth follows the speech, and whether
the lips make its shapes (p b m closed, a open wider than i u f v w)."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("score", help="sync score of a video against a speech track")
    p.add_argument("--audio", required=True)
    p.add_argument("--video", required=True)
    p.add_argument("--json", action="store_true", help="print the score as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="save both curves over time")
    p.add_argument("--text", metavar="FILE.txt",
                   help="the script of the speech (UTF-8, English or Chinese): exact phone timings for the "
                        "phonetic figures")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..media.files import check_file
    from ..score import sync_score
    from ..media.video import IMAGE_EXTS, VIDEO_EXTS

    from ..pipeline import prepare_speech
    from ..session import read_text

    check_file(args.video, VIDEO_EXTS + IMAGE_EXTS, "a video or an image")
    speech = prepare_speech(args.audio)
    if args.text:
        speech.text = read_text(args.text)
    s = sync_score(args.audio, args.video, speech=speech, plot=args.plot)
    if args.json:
        print(json.dumps(s.to_dict(), indent=2))
    else:
        print(f"r = {s.r:.3f} at lag {s.lag_ms:+.0f} ms; face in {100 * s.face_ratio:.0f}% of frames; "
              f"mouth opening range {s.opening_range:.3f} (speech {s.opening_speech:.3f}, "
              f"silence {s.opening_silence:.3f})")
        if s.phonetic is not None:
            print(s.phonetic.summary())
        if args.plot:
            print(f"plot: {args.plot}")
    return 0
