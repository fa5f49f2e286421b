"""A poison item cannot stop the queue: each item runs in a child process the worker supervises, a child killed
by a signal is that item's failure (after a bounded number of attempts), and the next item still runs."""
from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from heygem_core.jobs import Workspace, worker_pid
from heygem_core.errors import ItemCrashed
from heygem_core.jobs.executors import ChildProcess
from heygem_core.jobs.runner import run_item
from heygem_core.jobs.worker import Worker
from heygem_core.options import LipSyncOptions
from heygem_core.progress import Progress

from jobs_media import check_playable, face_clip, leftovers, speech_snippet, start_worker, wait_for

FAST = LipSyncOptions(preset="ultrafast")


def poison_run(item, ws, on_progress, should_stop, **shared):
    """The real item runner, except that a video named ``poison-<SIGNAL>.mp4`` makes its process die by that
    signal, as a segfault in a native library or the OOM killer would."""
    stem = Path(item.video_name).stem
    if stem.startswith("poison-"):
        on_progress(Progress("decode", 0, 1))
        os.kill(os.getpid(), getattr(signal, stem.split("-", 1)[1]))
        time.sleep(10)
    return run_item(item, ws, on_progress, should_stop, **shared)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("isolation_media")
    face = face_clip(d / "face.mp4", seconds=0.6)
    media = {"speech": speech_snippet(d / "speech.wav", seconds=0.6), "face": face}
    for sig in ("SIGSEGV", "SIGKILL"):
        media[sig] = Path(shutil.copy(face, d / f"poison-{sig}.mp4"))
    return media


@pytest.mark.parametrize("sig", ["SIGSEGV", "SIGKILL"])
def test_a_crashing_item_fails_after_its_attempts_and_the_next_one_completes(tmp_path, media, sig, caplog):
    ws = Workspace(tmp_path / "ws")
    poison = ws.store.submit(media["speech"], [media[sig]], FAST)
    normal = ws.store.submit(media["speech"], [media["face"]], FAST)
    worker = Worker(ws.root, run=poison_run, max_attempts=2, idle_exit=0)
    assert worker.run() == 3                                 # poison twice, then the normal item
    bad = ws.store.get_job(poison).items[0]
    assert bad.status == "failed" and bad.attempts == 2
    assert sig in bad.error and "\n" not in bad.error and "2 attempts" in bad.error
    good = ws.store.get_job(normal).items[0]
    assert good.status == "done", good.error
    check_playable(good.output, min_seconds=0.5)
    assert worker.executor.started == 3                      # a fresh child after each crash
    assert leftovers(ws.root) == []
    assert f"killed by {sig}" in caplog.text and "failed after 2 attempts" in caplog.text


def test_the_child_stays_up_between_items_and_runs_them_in_turn(tmp_path):
    child = ChildProcess()
    try:
        first = child.submit(os.getpid).result(timeout=120)
        assert child.submit(os.getpid).result(timeout=30) == first != os.getpid()
        assert child.started == 1
        with pytest.raises(ZeroDivisionError):
            child.submit(divmod, 1, 0).result(timeout=30)
        future = child.submit(time.sleep, 30)
        future.kill()
        with pytest.raises(ItemCrashed, match="SIGKILL"):
            future.result(timeout=30)
        assert child.submit(os.getpid).result(timeout=120) != first and child.started == 2
    finally:
        child.close()
    assert child.pid is None


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_worker_killed_mid_item_takes_its_child_along_and_jobs_never_shows_it_running(tmp_path, media, capsys):
    from heygem_core.cli import main

    ws = Workspace(tmp_path / "ws")
    long_speech = speech_snippet(tmp_path / "long.wav", seconds=5.0)
    job_id = ws.store.submit(long_speech, [media["face"]], FAST)
    proc = start_worker(ws.root)
    try:
        wait_for(lambda: (lambda c: c is not None and c.stage == "synthesis")(ws.store.get_job(job_id).current_item),
                 180, what="synthesis")
        kids = _children(proc.pid)
        assert kids, "the item runs in a child of the worker"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_for(lambda: not any(_alive(k) for k in kids), 10, what="the child to die with its worker")
    assert ws.store.get_job(job_id).items[0].status == "running"      # as the dead worker left it
    assert worker_pid(ws.root) is None
    assert main(["jobs", "--root-path", str(ws.root)]) == 0
    out = capsys.readouterr().out
    assert "running" not in out and f"{job_id}  queued  0/1" in out        # waits for the next worker
    item = ws.store.get_job(job_id).items[0]
    assert item.status == "interrupted" and "runs again" in item.error


def test_an_item_that_keeps_taking_the_worker_down_is_failed_on_the_next_start(tmp_path, media):
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["speech"], [media["face"]], FAST)
    for attempt in (1, 2):
        assert ws.store.claim_next().attempts == attempt       # a worker starts it and dies
        assert ws.store.recover(give_up_after=3) == [f"{job_id}-1"]
    assert ws.store.claim_next().attempts == 3
    assert ws.store.recover(give_up_after=3) == []
    item = ws.store.get_item(f"{job_id}-1")
    assert item.status == "failed" and "3 times" in item.error and item.finished is not None
    assert ws.store.claim_next() is None and ws.store.get_job(job_id).status == "failed"
