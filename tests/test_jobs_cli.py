"""`heygem submit | worker | jobs | history | cancel | export` through the real entry point."""
from __future__ import annotations

import json
import os
import signal
import zipfile
from pathlib import Path

import pytest

import heygem_core.cli as cli
from heygem_core.jobs import Workspace, worker_pid

from jobs_media import check_playable, face_clip, speech_snippet, wait_for


@pytest.fixture
def heygem(monkeypatch, capsys):
    """Run `heygem ARGS`; returns (exit code, stdout, stderr). Only this module's commands are registered,
    so the test does not depend on the other sub-commands being present."""
    monkeypatch.setattr(cli, "COMMANDS", ("jobs",))

    def run(*args):
        code = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_media")
    return {"speech": speech_snippet(d / "speech.wav", seconds=1.0), "face": face_clip(d / "face.mp4", 0.6)}


def test_all_six_commands_are_registered(heygem):
    for command in ("submit", "worker", "jobs", "history", "cancel", "export"):
        with pytest.raises(SystemExit) as exc:
            heygem(command, "--help")
        assert exc.value.code == 0


def test_bad_input_is_one_line_and_exit_2(heygem, media, tmp_path):
    root = tmp_path / "ws"
    code, out, err = heygem("submit", "--audio", tmp_path / "nope.wav", "--video", media["face"],
                            "--root-path", root)
    assert code == 2 and out == "" and err == f"heygem: error: {tmp_path / 'nope.wav'}: no such file\n"
    assert not root.exists()                                   # a typo leaves no empty workspace behind

    code, _, err = heygem("submit", "--audio", media["speech"], "--video", media["face"], media["speech"],
                          "--root-path", root, "--no-start")
    assert code == 2 and err.startswith(f"heygem: error: {media['speech']}: unsupported file type .wav") and err.count(chr(10)) == 1

    (tmp_path / "p.yaml").write_text("mouth_gain: 9\n")
    code, _, err = heygem("submit", "--audio", media["speech"], "--video", media["face"], "--root-path", root,
                          "--params", tmp_path / "p.yaml")
    assert code == 2 and err.startswith("heygem: error: option 'mouth_gain'") and err.count("\n") == 1

    code, _, err = heygem("jobs", "--root-path", tmp_path / "elsewhere")
    assert code == 2 and err == f"heygem: error: {tmp_path / 'elsewhere'}: no workspace here " \
                                "(nothing was submitted to it yet)\n"
    assert not (tmp_path / "elsewhere").exists()

    Workspace(root).store  # an empty workspace
    code, _, err = heygem("cancel", "zzz", "--root-path", root)
    assert code == 2 and err == "heygem: error: no job 'zzz'\n"
    code, _, err = heygem("export", "--out", tmp_path / "no" / "x.zip", "--root-path", root)
    assert code == 2 and "its folder does not exist" in err


def test_submit_wait_then_list_history_and_export(heygem, media, tmp_path):
    root = tmp_path / "ws"
    try:
        code, out, err = heygem("submit", "--audio", media["speech"], "--video", media["face"], media["face"],
                                "--root-path", root, "--preset", "ultrafast", "--mouth-gain", "1.3", "--wait")
        assert code == 0, err
        lines = out.splitlines()
        job_id = lines[0]
        outputs = lines[1:]
        assert [Path(p).name for p in outputs] == ["face__speech.mp4", "face__speech-2.mp4"]
        for p in outputs:
            check_playable(p, min_seconds=0.95)
        assert "\r" not in err and "%|" not in err                  # stderr is no terminal here: no bars
        assert worker_pid(root)                                     # submit started a worker; it waits for more

        code, out, _ = heygem("jobs", "--root-path", root, "--json")
        jobs = json.loads(out)
        assert code == 0 and [j["id"] for j in jobs] == [job_id] and jobs[0]["status"] == "done"
        assert jobs[0]["options"]["mouth_gain"] == 1.3 and jobs[0]["n_done"] == 2
        code, out, _ = heygem("jobs", "--root-path", root)
        assert out.splitlines()[0].split() == ["JOB", "STATUS", "ITEMS", "NOW", "CREATED", "AUDIO"]
        assert job_id in out and "2/2" in out

        code, out, _ = heygem("history", "--root-path", root, "--json")
        hist = json.loads(out)
        assert [h["output"] for h in hist] == outputs[::-1] and all(h["score"] for h in hist)
        code, out, _ = heygem("history", "--root-path", root)
        assert code == 0 and "face__speech-2.mp4" in out.splitlines()[1]

        code, out, _ = heygem("export", "--out", tmp_path / "r.zip", "--job", job_id[:4], "--root-path", root)
        assert code == 0 and out.strip() == str(tmp_path / "r.zip")
        assert sorted(zipfile.ZipFile(tmp_path / "r.zip").namelist()) == [
            "face__speech-2.mp4", "face__speech.mp4", "results.json"]

        code, out, _ = heygem("cancel", job_id, "--root-path", root)
        assert code == 0 and out.strip() == f"{job_id}: cancelled"  # nothing left to stop: a no-op
        assert Workspace(root).store.get_job(job_id).status == "done"

        code, out, _ = heygem("submit", "--audio", media["speech"], "--video", media["face"], "--root-path", root,
                              "--copy", "--no-start")
        copied = Workspace(root).store.get_job(out.strip())
        assert code == 0 and Path(copied.audio).parent.parent == root.absolute() / "uploads"
        assert Path(copied.items[0].video).read_bytes() == media["face"].read_bytes()
        Workspace(root).store.cancel(copied.id)

        code, out, _ = heygem("history", "--root-path", root, "--delete", hist[0]["item_id"])
        assert code == 0 and not Path(hist[0]["output"]).exists()
        assert len(Workspace(root).store.history()) == 1
    finally:
        pid = worker_pid(root)
        if pid:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: worker_pid(root) is None, 30, what="the worker to stop")
