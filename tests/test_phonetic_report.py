"""The phonetic report with known answers: a real face photo animated so that its lips close exactly on the
p/b/m of a phone list and open wider on a than on i/u; the same video against shifted phone times scores
chance."""
import json

import cv2
import numpy as np
import pytest

from heygem_core.cli import main
from heygem_core.composite import apply
from heygem_core.demo import face_photo, write_clip
from heygem_core.engines.procedural import ProceduralEngine
from heygem_core.face.track import track_frames
from heygem_core.options import LipSyncOptions
from heygem_core.phonetic.recognise import Phone
from heygem_core.phonetic.report import closure_share, phonetic_report
from heygem_core.phonetic.timeline import VisemeTimeline
from heygem_core.phonetic.visemes import Viseme
from heygem_core.score import mouth_openings
from mediagen import write_wav

FPS = 25.0
SECONDS = 6.0
BILABIAL_AT = (0.44, 0.96, 1.6, 2.12, 2.96, 3.56, 4.4, 5.2)        # starts; each lasts 80 ms
OPEN_AT = (0.64, 1.84, 3.2, 4.72)                                     # "a", 160 ms each
CLOSE_AT = (1.2, 2.48, 3.92, 5.48)                                    # "i", "u", "f", "w", 160 ms each


def phones(shift: float = 0.0) -> list[Phone]:
    out = [Phone(n, t + shift, t + shift + 0.08) for n, t in zip("PBMPBMPB", BILABIAL_AT)]
    out += [Phone("AA", t + shift, t + shift + 0.16) for t in OPEN_AT]
    out += [Phone(n, t + shift, t + shift + 0.16) for n, t in zip(("IY", "UW", "F", "W"), CLOSE_AT)]
    return sorted(out, key=lambda p: p.start)


def timeline_of(phone_list) -> VisemeTimeline:
    """Speech from 0.3 s to 5.8 s, a pause around it."""
    n = int(SECONDS * 100)
    z = np.zeros(n, np.float32)
    vis = np.full(n, Viseme.CONSONANT, np.int8)
    vis[:30], vis[580:] = Viseme.REST, Viseme.REST
    return VisemeTimeline(vis, z, z, z > 0, z > 0, z, phone_list, source="text")


def constructed_opening(n: int) -> np.ndarray:
    """Talking at 0.14 by default; 0.24 on a, 0.07 on i/u/f/w, shut on p/b/m (by construction)."""
    t = (np.arange(n) + 0.5) / FPS
    opening = np.full(n, 0.14)
    for p in phones():
        on = (t >= p.start) & (t < p.end)
        opening[on] = 0.0 if p.name in "PBM" else (0.24 if p.name == "AA" else 0.07)
    return opening


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    img = cv2.resize(face_photo(), (256, 300))
    lm = track_frames([img], LipSyncOptions(track_smoothing=0.0)).landmarks[0]
    engine = ProceduralEngine(LipSyncOptions())
    n = int(SECONDS * FPS)
    frames = []
    for value in constructed_opening(n):
        patch = engine.render(img, lm, float(value), 1.0)
        frames.append(apply(img.copy(), patch) if patch else img.copy())
    path = write_clip(tmp_path_factory.mktemp("phonetic") / "lips.mp4", frames, FPS, options={"crf": "16"})
    opening, fps = mouth_openings(path)
    return path, opening, fps


def test_lips_closing_on_every_bilabial_score_high_and_far_above_chance(clip):
    _, opening, fps = clip
    rep = phonetic_report(opening, fps, timeline_of(phones()))
    assert rep.n_bilabials == 8
    assert rep.bilabial_closure == 1.0
    assert rep.chance < 0.5 and rep.above_chance >= 50
    assert rep.chance_with_pauses <= rep.chance + 0.1
    assert rep.aperture_ratio > 1.8
    assert rep.to_dict()["above_chance"] == pytest.approx(rep.above_chance, abs=0.1)


def test_chance_leaves_out_moved_phones_that_land_in_a_pause():
    """Lips shut through a long pause and open through speech: moved p/b/m that land in the pause find them
    shut, which ``chance_with_pauses`` counts and ``chance`` does not."""
    n = int(SECONDS * FPS)
    opening = np.full(n, 0.14)
    opening[int(2.6 * FPS): int(4.0 * FPS)] = 0.0                        # a 1.4 s pause
    tl = timeline_of([Phone("M", t, t + 0.08) for t in (1.0, 2.0, 4.4)])
    tl.viseme[260:400] = Viseme.REST
    rep = phonetic_report(opening, FPS, tl)
    assert rep.chance == 0.0 and rep.chance_with_pauses > 0.3


def test_the_same_lips_against_shifted_phones_score_chance(clip):
    _, opening, fps = clip
    rep = phonetic_report(opening, fps, timeline_of(phones(shift=0.3)))
    assert rep.bilabial_closure <= 0.5
    assert rep.above_chance <= 10           # lips timed to other moments do no better than chance
    assert rep.aperture_ratio < 1.3


def test_closure_share_counts_one_frame_either_side():
    opening = np.full(50, 0.2)
    opening[10] = 0.0
    at = np.array([[11 / FPS, 11.5 / FPS]])              # the closed frame is one before the phone
    assert closure_share(opening, FPS, at) == 1.0
    assert closure_share(opening, FPS, at + 2 / FPS) == 0.0
    opening[:] = np.nan
    assert np.isnan(closure_share(opening, FPS, at))     # no face, no verdict


def test_score_cli_prints_the_phonetic_report_and_reads_the_script(clip, tmp_path, capsys):
    path, _, _ = clip
    y = np.zeros(int(SECONDS * 16000), np.float32)
    rng = np.random.default_rng(0)
    for p in phones():
        if p.name not in "PBM":                           # loud where the mouth is open, quiet on p/b/m
            a, b = int(p.start * 16000), int(p.end * 16000)
            y[a:b] = 0.3 * np.sin(2 * np.pi * 150 * np.arange(b - a) / 16000) + 0.02 * rng.normal(size=b - a)
    wav = write_wav(tmp_path / "s.wav", y)
    script = tmp_path / "script.txt"
    script.write_text("Bob met Pam.", encoding="utf-8")
    assert main(["score", "--audio", str(wav), "--video", str(path), "--text", str(script), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"bilabial_closure", "chance", "chance_with_pauses", "aperture_ratio", "source"} <= set(out["phonetic"])
    assert main(["score", "--audio", str(wav), "--video", str(path)]) == 0
    assert "p/b/m" in capsys.readouterr().out
    assert main(["score", "--audio", str(wav), "--video", str(path), "--text", str(tmp_path / "nope.txt")]) != 0
    assert "nope.txt: no such file" in capsys.readouterr().err
