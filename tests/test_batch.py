"""Batch planning and the report, without a kernel: inputs, names, options, the table and the progress lines."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from heygem_core import batch
from heygem_core.errors import InputError, OptionsError
from heygem_core.options import LipSyncOptions
from heygem_core.progress import Progress

ROOT = Path(__file__).resolve().parents[1]


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_videos_expand_globs_in_order_and_keep_a_pattern_that_matches_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("b.mp4", "a.MOV", "c.jpg", "notes.txt", "sound.wav"):
        touch(tmp_path / "clips" / name)
    got = batch.expand_videos(["clips/*", "missing/*.mp4", "one.mp4", "builtin:nope"], tmp_path / "media")
    assert [(v.spec, v.path and str(v.path), v.error) for v in got[:5]] == [
        ("clips/a.MOV", "clips/a.MOV", None), ("clips/b.mp4", "clips/b.mp4", None),
        ("clips/c.jpg", "clips/c.jpg", None),
        ("missing/*.mp4", None, "no video or photo matches this pattern"),
        ("one.mp4", "one.mp4", None)]                       # a plain path is kept; generate judges it
    assert got[5].path is None and "unknown built-in medium" in got[5].error
    assert [v.spec for v in batch.expand_videos("clips/b.mp4", tmp_path)] == ["clips/b.mp4"]
    with pytest.raises(OptionsError, match="videos"):
        batch.expand_videos([], tmp_path)


def test_builtin_media_are_written_once_into_the_media_folder(tmp_path):
    from heygem_core.demo import demo_speech_path
    from heygem_core.media.video import probe_video

    assert batch.resolve_media("builtin:speech", tmp_path) == demo_speech_path()
    photo = batch.resolve_media("builtin:photo", tmp_path / "m")
    assert photo == tmp_path / "m" / "presenter_photo.jpg" and probe_video(photo).width == 512
    stamp = photo.stat().st_mtime_ns
    assert batch.resolve_media("builtin:photo", tmp_path / "m").stat().st_mtime_ns == stamp


def test_options_come_from_the_params_file_then_engine_and_checkpoint(tmp_path):
    style = tmp_path / "s.yaml"
    LipSyncOptions(mouth_gain=1.4, crf=18).to_yaml(style)
    opts = LipSyncOptions.load(style, engine="wav2lip", checkpoint="wav2lip_gan.pth")
    assert (opts.mouth_gain, opts.crf, opts.engine, opts.checkpoint) == (1.4, 18, "wav2lip", "wav2lip_gan.pth")
    assert LipSyncOptions.load() == LipSyncOptions.load(None, crf=None) == LipSyncOptions()
    with pytest.raises(OptionsError, match="checkpoint"):
        LipSyncOptions.load(engine="wav2lip")


def test_batch_parameter_files_are_checked(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("audio: a.wav\nvideos: [v.mp4]\nmouth_gain: 2\n")
    with pytest.raises(InputError, match="unknown batch parameter 'mouth_gain'.*valid parameters: audio"):
        batch.load_batch_params(bad)
    bad.write_text("videos: [v.mp4]\n")
    with pytest.raises(InputError, match="needs 'audio' and 'videos'"):
        batch.load_batch_params(bad)
    with pytest.raises(InputError, match="no such file"):
        batch.load_batch_params(tmp_path / "none.yaml")


def test_example_batch_uses_the_builtin_media_and_matches_the_notebook_parameters():
    import papermill as pm

    from heygem_core.resources import notebook, shipped_params_dir

    example = batch.load_batch_params(shipped_params_dir() / "example_batch.yaml")
    assert example["audio"] == "builtin:speech" and set(example["videos"]) == {"builtin:clip", "builtin:photo"}
    assert LipSyncOptions.load(example["params"]) == LipSyncOptions.from_yaml(shipped_params_dir() / "default.yaml")
    cell = pm.inspect_notebook(str(notebook("batch.ipynb")))
    assert tuple(cell) == batch.BATCH_KEYS
    assert yaml.safe_load(cell["out_dir"]["default"]) == batch.DEFAULT_OUT_DIR


def test_plan_describes_the_run(tmp_path):
    style = tmp_path / "s.yaml"
    LipSyncOptions(teeth=0.2).to_yaml(style)
    plan = batch.plan_batch("builtin:speech", ["x/*.mp4"], params=style, out_dir=tmp_path / "o")
    text = plan.describe()
    assert "options (differing from the defaults): teeth=0.2" in text
    assert "x/*.mp4  [no video or photo matches this pattern]" in text


def items():
    from heygem_core.score import score_track
    import numpy as np

    env = np.clip(np.sin(np.linspace(0, 12, 50)), 0, 1)
    score = score_track(0.2 * env, env, 25.0)
    good = batch.BatchItem("clips/anna.mp4", Path("out/anna__talk.mp4"), "done", frames=50, duration=2.0,
                           seconds=1.234, face_ratio=0.96, score=score)
    bad = batch.BatchItem("clips/ben.mp4", None, "failed", error="clips/ben.mp4: no face found in any of 9 frames")
    odd = batch.BatchItem("x/*.mov", None, "failed", error="no video or photo matches this pattern")
    return [good, bad, odd]


def test_report_table_has_one_row_per_video_with_the_numbers():
    rows = batch.report_rows(items())
    assert rows[0] == {"video": "clips/anna.mp4", "output": "out/anna__talk.mp4", "status": "done", "frames": 50,
                       "duration_s": 2.0, "time_s": 1.23, "sync_r": 1.0, "lag_ms": 0, "face_ratio": 0.96,
                       "error": None}
    html = batch.report_html(items())
    assert html.count('<tr class="item"') == 3 and html.count('data-status="failed"') == 2
    assert "<td>anna__talk.mp4</td>" in html and "<td>96%</td>" in html
    assert "1 of 3 videos done" in html
    assert "&lt;" not in batch.report_html(items()[:1])


def test_a_failed_item_fails_the_run_with_every_reason(tmp_path):
    with pytest.raises(batch.BatchFailed) as err:
        batch.raise_if_failed(items())
    assert str(err.value) == ("2 of 3 items failed: clips/ben.mp4: no face found in any of 9 frames; "
                              "x/*.mov: no video or photo matches this pattern")
    batch.raise_if_failed(items()[:1])


def test_progress_lines_are_few_and_name_the_item():
    lines: list[str] = []
    rep = batch.ProgressLines(lines.append)
    for p in [Progress("decode", 0, 1), Progress("decode", 1, 1)] + \
             [Progress("face", i, 100) for i in range(5, 101, 5)] + [Progress("synthesis", 100, 100)]:
        rep.progress(1, 2, "anna.mp4", p)
    assert lines == ["[1/2] anna.mp4: decode 0/1", "[1/2] anna.mp4: decode 1/1", "[1/2] anna.mp4: face 5/100",
                     "[1/2] anna.mp4: face 30/100", "[1/2] anna.mp4: face 55/100", "[1/2] anna.mp4: face 80/100",
                     "[1/2] anna.mp4: face 100/100", "[1/2] anna.mp4: synthesis 100/100"]
    rep.finished(2, 2, items()[1])
    assert lines[-1] == "[2/2] FAILED: clips/ben.mp4: no face found in any of 9 frames"
