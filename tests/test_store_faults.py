"""A damaged, empty or foreign job store is reported (one line, exit 1) and never silently replaced;
`heygem doctor` keeps it aside and rebuilds the store from the outputs on disk; a read-only workspace can
still be read. Real workspaces: one output made by the real worker, then damaged as disks and people do."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from heygem_core.jobs import Workspace
from heygem_core.jobs.doctor import check_workspace
from heygem_core.errors import StoreDamaged
from heygem_core.jobs.worker import Worker
from heygem_core.options import LipSyncOptions

from jobs_media import REPO, face_clip, speech_snippet


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A workspace with one finished output (and its media)."""
    d = tmp_path_factory.mktemp("store_faults")
    speech, face = speech_snippet(d / "speech.wav", seconds=0.6), face_clip(d / "face.mp4", seconds=0.6)
    ws = Workspace(d / "ws")
    ws.store.submit(speech, [face], LipSyncOptions(preset="ultrafast"))
    assert Worker(ws.root, idle_exit=0).run() == 1
    import sqlite3
    con = sqlite3.connect(ws.db_path)        # everything into the main file, as a worker leaving does
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return {"root": ws.root, "speech": speech, "face": face}


@pytest.fixture
def ws_copy(made, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(made["root"], root)
    for extra in root.glob("jobs.sqlite-*"):   # checkpointed above: the main file holds everything
        extra.unlink()
    return root


def heygem(*args, cwd, setup: str | None = None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "heygem_core.cli", *args]
    if setup:
        cmd = ["unshare", "-m", "sh", "-c", f'{setup} && exec "$@"', "sh", *cmd]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def damage(db: Path, how: str) -> None:
    if how == "empty":
        db.write_bytes(b"")
    elif how == "garbage":
        db.write_bytes(os.urandom(8192))
    else:           # the header survives, the pages after it do not
        with open(db, "r+b") as fh:
            fh.seek(4096)
            fh.write(b"\xff" * (db.stat().st_size - 4096))


REASONS = {"empty": "the job store is empty (0 bytes)", "garbage": "file is not a database",
           "pages": "database disk image is malformed"}


@pytest.mark.parametrize("how", ["empty", "garbage", "pages"])
def test_damaged_store_is_reported_kept_and_rebuilt_by_doctor(ws_copy, how):
    db = ws_copy / "jobs.sqlite"
    damage(db, how)
    before = db.read_bytes()
    for command in (["jobs"], ["history"], ["export", "--out", str(ws_copy / "x.zip")]):
        proc = heygem(*command, "--root-path", str(ws_copy), cwd=ws_copy)
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"heygem: error: {db}: ") and REASONS[how] in lines[0]
        assert "heygem doctor --root-path" in lines[0]
    with pytest.raises(StoreDamaged):
        Workspace(ws_copy).store.list_jobs()
    assert db.read_bytes() == before                          # reported, never replaced
    assert not (ws_copy / "x.zip").exists()

    check = heygem("doctor", "--root-path", str(ws_copy), "--check", cwd=ws_copy)
    assert check.returncode == 1 and REASONS[how] in check.stdout and db.read_bytes() == before
    fix = heygem("doctor", "--root-path", str(ws_copy), cwd=ws_copy)
    assert fix.returncode == 0, fix.stderr
    assert "output recorded again: face__speech.mp4" in fix.stdout
    kept = [p for p in ws_copy.iterdir() if p.name.startswith("jobs.sqlite.damaged-") and "-" not in p.name[-4:]]
    assert len(kept) == 1 and kept[0].read_bytes() == before  # the damaged store is kept as it was
    history = Workspace(ws_copy).store.history()
    assert [(h.video_name, h.audio_name) for h in history] == [("face", "speech")]
    assert Path(history[0].output).is_file() and Path(history[0].thumbnail).is_file()
    assert history[0].duration == pytest.approx(0.6, abs=0.1)
    again = heygem("doctor", "--root-path", str(ws_copy), "--check", cwd=ws_copy)
    assert again.returncode == 0 and "nothing to repair" in again.stdout


def test_doctor_lists_missing_files_and_clears_leftovers(ws_copy):
    ws = Workspace(ws_copy)
    entry = ws.store.history()[0]
    Path(entry.output).unlink()
    (ws.outputs / ".other__speech.part.mp4").write_bytes(b"partial")
    (ws.cache / "work" / "dead-1").mkdir(parents=True)
    report = check_workspace(ws_copy)
    assert report.missing == [entry.item_id] and report.adopted == [] and report.store_problem is None
    assert sorted(report.leftovers) == ["cache/work", "outputs/.other__speech.part.mp4"]
    assert not (ws.outputs / ".other__speech.part.mp4").exists() and not any((ws.cache / "work").iterdir())


def test_doctor_refuses_while_a_worker_runs(ws_copy):
    from heygem_core.jobs.doctor import WorkspaceBusy
    from heygem_core.jobs.lock import WorkerLock

    lock = WorkerLock(Workspace(ws_copy).lock_path)
    assert lock.acquire()
    try:
        with pytest.raises(WorkspaceBusy, match="a worker is running"):
            check_workspace(ws_copy)
    finally:
        lock.release()


def test_read_only_workspace_can_still_be_read(ws_copy, made):
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("no private mount namespace here (needs root)")
    ro = f"mount --bind {ws_copy} {ws_copy} && mount -o remount,bind,ro {ws_copy}"
    jobs = heygem("jobs", "--root-path", str(ws_copy), cwd=made["root"].parent, setup=ro)
    assert jobs.returncode == 0 and " done " in jobs.stdout, jobs.stderr
    history = heygem("history", "--root-path", str(ws_copy), cwd=made["root"].parent, setup=ro)
    assert history.returncode == 0 and "face__speech.mp4" in history.stdout, history.stderr
    item = Workspace(ws_copy).store.history()[0].item_id
    delete = heygem("history", "--delete", item, "--root-path", str(ws_copy), cwd=made["root"].parent, setup=ro)
    assert delete.returncode == 2
    assert delete.stderr.splitlines() == [f"heygem: error: {ws_copy / 'jobs.sqlite'}: the workspace is read-only; "
                                          f"jobs and history can be read, nothing can be queued, changed or "
                                          f"deleted"]
    submit = heygem("submit", "--audio", str(made["speech"]), "--video", str(made["face"]), "--root-path",
                    str(ws_copy), "--no-start", cwd=made["root"].parent, setup=ro)
    assert submit.returncode == 2 and len(submit.stderr.splitlines()) == 1 and "read-only" in submit.stderr
    assert Path(Workspace(ws_copy).store.history()[0].output).is_file()


def test_history_marks_outputs_whose_file_is_gone_and_export_of_nothing_fails(ws_copy):
    import json

    entry = Workspace(ws_copy).store.history()[0]
    listed = heygem("history", "--root-path", str(ws_copy), cwd=ws_copy)
    assert listed.returncode == 0 and "(file missing)" not in listed.stdout
    Path(entry.output).unlink()
    listed = heygem("history", "--root-path", str(ws_copy), cwd=ws_copy)
    assert f"{entry.output}  (file missing)" in listed.stdout
    as_json = heygem("history", "--root-path", str(ws_copy), "--json", cwd=ws_copy)
    assert json.loads(as_json.stdout)[0]["missing"] is True
    out = ws_copy / "results.zip"
    for extra in ([], ["--item", entry.item_id]):
        export = heygem("export", "--out", str(out), "--root-path", str(ws_copy), *extra, cwd=ws_copy)
        assert export.returncode == 2
        lines = export.stderr.splitlines()
        assert lines[-1] == f"heygem: error: {out}: nothing to export: none of the chosen outputs is on disk"
        assert lines[:-1] == [f"WARNING heygem_core.jobs.export: export: {entry.output} is missing on disk, "
                              f"skipped"]
        assert not out.exists() and not list(ws_copy.glob(".results.zip*"))


def test_worker_quiet_prints_nothing_and_logs_to_its_file(ws_copy, made):
    ws = Workspace(ws_copy)
    ws.store.submit(made["speech"], [made["face"]], LipSyncOptions(preset="ultrafast"))
    proc = heygem("worker", "--root-path", str(ws_copy), "--idle-exit", "0", "--quiet", cwd=ws_copy)
    assert proc.returncode == 0 and proc.stderr == "" and proc.stdout == ""
    assert len(ws.store.history()) == 2
    assert " INFO " in (ws_copy / "logs" / "heygem.log").read_text()
    loud = heygem("worker", "--root-path", str(ws_copy), "--idle-exit", "0", cwd=ws_copy)
    assert loud.returncode == 0 and loud.stderr.count("worker") >= 2 and " INFO " in loud.stderr
    assert len([line for line in loud.stderr.splitlines() if "started for" in line]) == 1   # not twice
