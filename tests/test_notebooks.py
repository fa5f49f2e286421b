"""The notebooks run headless under papermill on tiny media: the batch notebook (directly and through
`heygem batch`) and the tuning notebook. Each run starts a real kernel and runs the real pipeline."""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from heygem_core.media.audio import load_audio
from heygem_core.options import LipSyncOptions
from heygem_core.media.video import FrameReader, probe_video

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SPEECH_S = 1.2


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel named `heygem` (as the set-up registers one) for this interpreter, importing this tree."""
    prefix = tmp_path_factory.mktemp("kernel")
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", "heygem"],
                   check=True, capture_output=True)
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "PYTHONPATH")}
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(prefix / "share" / "jupyter"),
                                                               saved["JUPYTER_PATH"]]))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved["PYTHONPATH"]]))
    yield "heygem"
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def media(tmp_path_factory, speech_wav):
    """1.2 s of the packaged speech, a 1 s 288×320 face clip and a 320 px face photo."""
    from heygem_core.demo import demo_face_clip, face_photo
    from heygem_core.media.audio import write_wav

    d = tmp_path_factory.mktemp("nbmedia")
    speech = load_audio(speech_wav)
    audio = write_wav(d / "talk.wav", speech.samples[int(0.4 * 16000): int((0.4 + SPEECH_S) * 16000)], 16000)
    clip = demo_face_clip(d / "clip.mp4", seconds=1.0, size=(288, 320))
    photo = d / "portrait.jpg"
    cv2.imwrite(str(photo), cv2.resize(face_photo(), (320, 375), interpolation=cv2.INTER_AREA))
    return {"dir": d, "audio": audio, "clip": clip, "photo": photo}


def execute(notebook: Path, out: Path, cwd: Path, **parameters):
    import papermill as pm

    return pm.execute_notebook(str(notebook), str(out), parameters=parameters, kernel_name="heygem",
                               cwd=str(cwd), progress_bar=False)


def outputs(nb, output_type=None):
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if output_type is None or out["output_type"] == output_type:
                yield cell, out


def assert_plays(path: Path, seconds: float):
    """An H.264 + AAC MP4 as long as the speech, every frame decodable."""
    info = probe_video(path)
    assert info.codec == "h264" and info.has_audio
    assert info.frame_count == int(np.ceil(seconds * info.fps - 1e-6))
    with FrameReader(info) as reader:
        frames = [f for _, f in reader.frames(range(info.frame_count))]
    assert len(frames) == info.frame_count and frames[-1].shape == (info.height, info.width, 3)
    assert load_audio(path).duration == pytest.approx(seconds, abs=0.05)


def report_rows(nb) -> list[str]:
    html = "".join("".join(out["data"]["text/html"]) for _, out in outputs(nb, "display_data")
                   if "text/html" in out["data"])
    assert 'class="heygem-batch-report"' in html
    return re.findall(r'<tr class="item" data-status="(\w+)"', html)


def test_batch_notebook_runs_headless_and_reports_one_row_per_video(kernel, media, tmp_path):
    # a glob pattern and a relative path: both resolved in the directory papermill runs in
    out = tmp_path / "report.ipynb"
    nb = execute(NOTEBOOKS / "batch.ipynb", out, cwd=media["dir"], audio=str(media["audio"]),
                 videos=["*.mp4", "portrait.jpg"], out_dir=str(tmp_path / "results"))

    assert not list(outputs(nb, "error"))
    assert report_rows(nb) == ["done", "done"]
    results = tmp_path / "results"
    for name in ("clip__talk.mp4", "portrait__talk.mp4"):
        assert_plays(results / name, SPEECH_S)
        assert (results / name).with_suffix(".sync.png").stat().st_size > 1000
    report = json.loads((results / "batch_report.json").read_text())
    assert [row["status"] for row in report["items"]] == ["done", "done"]
    assert all(row["frames"] == 30 and row["face_ratio"] == 1.0 and row["sync_r"] > 0.5 for row in report["items"])
    # one sync plot per item in the notebook itself
    assert sum("image/png" in out["data"] for _, out in outputs(nb, "display_data")) == 2


def batch_cli(argv):
    """`heygem batch ...` through its own parser (the sub-command module's register/run)."""
    from heygem_core.cli import batch

    parser = argparse.ArgumentParser(prog="heygem")
    parser.add_argument("--debug", action="store_true")
    batch.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def test_heygem_batch_reports_a_failing_item_and_still_runs_the_others(kernel, media, tmp_path, capsys,
                                                                         monkeypatch):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00 not a video " * 200)
    style = tmp_path / "style.yaml"
    LipSyncOptions(mouth_gain=1.3, preset="ultrafast").to_yaml(style)
    params = tmp_path / "run.yaml"
    params.write_text(f"audio: {media['audio']}\nvideos: [{broken}, {media['clip']}]\nparams: style.yaml\n"
                      f"engine: procedural\nout_dir: not_here\n")
    monkeypatch.chdir(tmp_path)      # relative paths in the file are relative to where the command runs

    code = batch_cli(["batch", params, "--out-dir", "runs/one", "--quiet"])
    captured = capsys.readouterr()

    assert code == 1
    assert f"heygem: error: {broken}:" in captured.err
    results = tmp_path / "runs" / "one"
    assert not (tmp_path / "not_here").exists()
    assert_plays(results / "clip__talk.mp4", SPEECH_S)
    import nbformat

    report = nbformat.read(results / "batch_report.ipynb", as_version=4)
    assert report_rows(report) == ["failed", "done"]
    errors = [out for _, out in outputs(report, "error")]
    assert [e["ename"] for e in errors] == ["BatchFailed"]            # only the final cell, after the report
    assert report["cells"][-1]["outputs"][-1]["output_type"] == "error"
    summary = json.loads((results / "batch_report.json").read_text())
    assert summary["options"]["mouth_gain"] == 1.3 and summary["options"]["preset"] == "ultrafast"
    assert (summary["done"], summary["failed"]) == (1, 1)


def test_heygem_batch_without_the_kernel_says_how_to_register_it(tmp_path, media):
    from heygem_core.errors import HeygemError

    params = tmp_path / "run.yaml"
    params.write_text(f"audio: {media['audio']}\nvideos: {media['clip']}\n")
    with pytest.raises(HeygemError, match=r"no Jupyter kernel named 'no-such-kernel'.*ipykernel install"):
        batch_cli(["batch", params, "--kernel", "no-such-kernel", "--out-dir", tmp_path / "o"])
    assert not (tmp_path / "o" / "batch_report.ipynb").exists()


def test_tune_notebook_renders_a_preview_and_saves_params_that_load_back(kernel, media, tmp_path):
    start = LipSyncOptions(mouth_gain=1.35, max_opening=0.3, release_ms=120.0, color_match=False,
                           loop_mode="loop", pad_bottom=25, crf=23)
    start.to_yaml(tmp_path / "start.yaml")
    nb = execute(NOTEBOOKS / "tune.ipynb", tmp_path / "tune.ipynb", cwd=tmp_path, audio=str(media["audio"]),
                 video=str(media["clip"]), workspace=str(tmp_path / "ws"), work_dir="work",
                 params_dir=str(tmp_path / "sets"), start_params="start.yaml", preview_seconds=1.0,
                 preview_from=0.2, save_as="lively", script="Peter bought a map.")

    assert not list(outputs(nb, "error"))
    text = "".join("".join(out["text"]) for _, out in outputs(nb, "stream"))
    assert "preview preview_001.mp4: frames 5–29 of 30 (25 frames from 0.20 s)" in text
    summary = next(line for line in text.splitlines() if line.startswith("preview preview_001.mp4"))
    assert summary.endswith("; script: 4 words")                # the script parameter is used
    saved = tmp_path / "sets" / "lively.yaml"
    assert "loads back into the same options" in text
    assert LipSyncOptions.from_yaml(saved) == start          # sliders → file → options, nothing lost
    info = probe_video(tmp_path / "work" / "preview_001.mp4")
    assert info.frame_count == 25 and info.has_audio
    assert list((tmp_path / "ws" / "cache").glob("*.npz"))    # the face track is kept in the workspace


def test_batch_notebook_in_its_own_folder_finds_project_paths_and_writes_to_the_workspace(kernel, media,
                                                                                             tmp_path, monkeypatch):
    """As JupyterLab runs it: in notebooks/, with a path relative to the project."""
    monkeypatch.setenv("HEYGEM_WORKSPACE", str(tmp_path / "ws"))
    nb = execute(NOTEBOOKS / "batch.ipynb", tmp_path / "report.ipynb", cwd=NOTEBOOKS, audio=str(media["audio"]),
                 videos=[str(media["photo"])], params="params/news.yaml")
    assert not list(outputs(nb, "error"))
    assert report_rows(nb) == ["done"]
    summary = json.loads((tmp_path / "ws" / "batch_output" / "batch_report.json").read_text())
    assert summary["options"] == LipSyncOptions.load("news").to_dict()
    assert_plays(tmp_path / "ws" / "batch_output" / "portrait__talk.mp4", SPEECH_S)

    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match=r"no such file \(looked in .*notebooks and "):
        execute(NOTEBOOKS / "batch.ipynb", tmp_path / "bad.ipynb", cwd=NOTEBOOKS, audio=str(media["audio"]),
                videos=[str(media["photo"])], params="params/nope.yaml")


@pytest.mark.parametrize("name", ["notebooks/tune.ipynb", "notebooks/batch.ipynb", "dashboards/heygem.ipynb"])
def test_notebooks_are_committed_without_outputs(name):
    """Lab saves outputs into the notebook it runs; the shipped ones must stay clean (run
    `jupyter nbconvert --clear-output --inplace` before committing)."""
    import nbformat

    nb = nbformat.read(ROOT / name, as_version=4)
    stored = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert stored == [], f"{name}: cells {stored} hold outputs"


def test_heygem_batch_that_cannot_run_exits_2_with_the_reason(kernel, media, tmp_path, capsys):
    from heygem_core.errors import HeygemError

    params = tmp_path / "run.yaml"
    params.write_text(f"audio: {tmp_path / 'nope.wav'}\nvideos: [{media['clip']}]\n")
    with pytest.raises(HeygemError) as err:
        batch_cli(["batch", params, "--out-dir", tmp_path / "o", "--quiet"])
    assert str(err.value) == (f"the batch did not run: {tmp_path / 'nope.wav'}: no such file "
                              f"(see {tmp_path / 'o' / 'batch_report.ipynb'})")
    assert not (tmp_path / "o" / "batch_report.json").exists()
