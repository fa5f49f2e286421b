"""The worker running the real pipeline on tiny media: results, failures, cancel, kill -9 and restart."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import cv2
import pytest

from heygem_core.jobs import Workspace, ensure_worker, worker_pid
from heygem_core.errors import WorkerBusy
from heygem_core.jobs.runner import ItemProgress
from heygem_core.jobs.worker import Worker
from heygem_core.options import LipSyncOptions
from heygem_core.progress import Progress

from jobs_media import (blank_clip, check_playable, face_clip, leftovers, partly_faceless_clip, speech_snippet,
                        start_worker, wait_for)

FAST = LipSyncOptions(preset="ultrafast")


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("worker_media")
    return {"speech": speech_snippet(d / "speech.wav"),
            "long_speech": speech_snippet(d / "long speech.wav", start=0.5, seconds=5.0),
            "face": face_clip(d / "face.mp4"),
            "face2": face_clip(d / "讲话人.mp4", seconds=0.6),
            "blank": blank_clip(d / "blank.mp4"),
            "partial": partly_faceless_clip(d / "partial.mp4")}


def test_worker_runs_a_job_to_history(tmp_path, media):
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["speech"], [media["face"], media["face2"]], FAST)
    assert Worker(ws.root, idle_exit=0).run() == 2
    job = ws.store.get_job(job_id)
    assert job.status == "done" and job.n_done == 2 and job.finished >= job.started >= job.created
    hist = ws.store.history()
    assert [h.video_name for h in hist] == ["讲话人.mp4", "face.mp4"]          # newest first
    for h, item in zip(hist[::-1], job.items):
        assert Path(h.output).name == f"{Path(item.video_name).stem}__speech.mp4"
        check_playable(h.output, min_seconds=1.1)          # output length = audio length
        assert h.duration == pytest.approx(1.2, abs=0.05) and h.engine == "procedural"
        assert h.options["preset"] == "ultrafast"
        assert h.score is not None and h.score["face_ratio"] > 0.9 and "r" in h.score
        thumb = cv2.imread(h.thumbnail)
        assert thumb.shape[1] == 192 and Path(h.thumbnail).stem == Path(h.output).stem
        assert item.result["frames"] == 30 and item.attempts == 1
        assert item.percent == 100 and item.stage == "score"
    assert leftovers(ws.root) == []
    assert worker_pid(ws.root) is None                       # the lock went with the worker


def test_failing_item_is_logged_with_its_stack_and_the_queue_goes_on(tmp_path, media):
    """A video with no face fails with a one-line error and its stack in the log; the next item (a face
    for only part of the clip) still runs, with a warning about the frames without a face."""
    from heygem_core.jobs import configure_log

    ws = Workspace(tmp_path / "ws")
    handler = configure_log(ws)
    try:
        job_id = ws.store.submit(media["speech"], [media["blank"], media["partial"]], FAST)
        Worker(ws.root, idle_exit=0).run()
    finally:
        import logging
        logging.getLogger("heygem_core").removeHandler(handler)
        handler.close()
    job = ws.store.get_job(job_id)
    bad, good = job.items
    assert job.status == "failed" and bad.status == "failed" and good.status == "done"
    assert bad.error.startswith(str(media["blank"])) and "\n" not in bad.error
    assert bad.output is None and not list(ws.outputs.glob("blank*"))
    text = ws.log_file.read_text()
    trace = text[text.index("item failed"):]
    assert f"job={job_id} item={bad.id}" in text
    assert "Traceback (most recent call last)" in trace and "NoFaceError" in trace
    assert "pipeline.py" in trace                            # the full stack, not just the message
    assert f"item={good.id}" in text and "stage synthesis" in text
    warning = next(line for line in text.splitlines() if "no face found in 33%" in line)
    assert " WARNING " in warning and f"item={good.id}" in warning and "partial.mp4" in warning


def test_progress_writes_are_throttled_but_frequent(tmp_path, media):
    ws = Workspace(tmp_path / "ws")
    ws.store.submit(media["speech"], [media["face"]])
    item = ws.store.claim_next()
    hook = ItemProgress(ws.store, item.id, interval=0.2)
    t0 = time.monotonic()
    seen = []
    while time.monotonic() - t0 < 1.0:                     # a stage reporting far more often than needed
        i = len(seen)
        hook(Progress("synthesis", i, 10**6))
        seen.append(ws.store.get_item(item.id).done)
    assert 4 <= hook.writes <= 7                            # ≥ 2 visible updates a second, ≤ 5 writes
    writes = hook.writes
    for i in range(100):                                    # a stage whose length is not known
        hook(Progress("synthesis", i, 0))
    assert hook.writes - writes <= 1
    hook(Progress("encode", 0, 1))                          # a stage change is written at once
    rec = ws.store.get_item(item.id)
    assert rec.stage == "encode" and rec.eta_s is not None and rec.percent > 60
    hook(Progress("synthesis", 5, 10))                       # never backwards
    assert ws.store.get_item(item.id).percent >= rec.percent


def test_one_worker_per_workspace(tmp_path, media):
    ws = Workspace(tmp_path / "ws")
    proc = start_worker(ws.root)
    try:
        wait_for(lambda: worker_pid(ws.root), 30, what="the worker lock")
        assert worker_pid(ws.root) == proc.pid
        assert ensure_worker(ws.root) is None
        with pytest.raises(WorkerBusy, match=f"pid {proc.pid}"):
            Worker(ws.root).run()
        second = start_worker(ws.root)
        assert second.wait(timeout=30) == 2
        assert b"a worker is already running" in second.stderr.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert worker_pid(ws.root) is None


def test_cancel_stops_the_running_item_within_a_second(tmp_path, media):
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["long_speech"], [media["face"], media["face2"]], FAST)
    pid = ensure_worker(ws.root, idle_exit=2)
    assert pid
    proc_gone = lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid)  # noqa: E731
    try:
        wait_for(lambda: (ws.store.get_job(job_id).current_item or None) and
                 ws.store.get_job(job_id).current_item.stage == "synthesis", 120, what="synthesis")
        t0 = time.monotonic()
        ws.store.cancel(job_id)
        wait_for(lambda: ws.store.get_job(job_id).status == "cancelled", 5, step=0.02, what="cancel")
        latency = time.monotonic() - t0
        assert latency < 1.5, latency
        job = ws.store.get_job(job_id)
        assert [i.status for i in job.items] == ["cancelled", "cancelled"]
        assert list(ws.outputs.iterdir()) == [] and leftovers(ws.root) == []
        assert ws.store.history() == []
        wait_for(proc_gone, 30, what="the idle worker to leave")
    finally:
        if not proc_gone():
            os.kill(pid, signal.SIGKILL)


def test_kill_9_mid_job_then_restart_finishes_everything(tmp_path, media):
    ws = Workspace(tmp_path / "ws")
    videos = [media["face"], media["face2"], media["face"]]
    job_id = ws.store.submit(media["long_speech"], videos, FAST)
    proc = start_worker(ws.root)
    try:
        # Kill in the middle of the second item, while its video is being written.
        wait_for(lambda: (lambda c: c is not None and c.index == 1 and c.stage == "synthesis"
                          and c.done >= 10)(ws.store.get_job(job_id).current_item), 180, what="item 2 mid-run")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    job = ws.store.get_job(job_id)
    assert [i.status for i in job.items] == ["done", "running", "queued"]   # as the dead worker left it
    first_output = Path(job.items[0].output)
    before = first_output.read_bytes()
    assert [p.name for p in ws.outputs.iterdir()] == [first_output.name]    # nothing partial in outputs/

    restarted = start_worker(ws.root, "--idle-exit", "0.5")
    assert restarted.wait(timeout=300) == 0
    job = ws.store.get_job(job_id)
    assert job.status == "done", job.errors
    assert [i.attempts for i in job.items] == [1, 2, 1]
    assert first_output.read_bytes() == before                               # finished outputs intact
    names = sorted(p.name for p in ws.outputs.iterdir())
    assert names == sorted(Path(i.output).name for i in job.items) and len(names) == 3
    for item in job.items:
        check_playable(item.output, min_seconds=4.9)
        assert Path(item.thumbnail).is_file()
    assert leftovers(ws.root) == []
    log = ws.log_file.read_text()
    assert f"item {job.items[1].id} was interrupted" in log


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_racing_starters_leave_exactly_one_worker(tmp_path):
    ws = Workspace(tmp_path / "ws")
    pids = [p for p in (ensure_worker(ws.root, idle_exit=30), ensure_worker(ws.root, idle_exit=30)) if p]
    try:
        holder = wait_for(lambda: worker_pid(ws.root), 30, what="a worker to take the lock")
        assert holder in pids
        others = [p for p in pids if p != holder]
        for p in others:     # the loser finds the lock taken and leaves quietly
            wait_for(lambda: _zombie(p), 30, what="the second worker to leave")
        assert worker_pid(ws.root) == holder and not _zombie(holder)
    finally:
        for p in pids:
            if not _zombie(p):
                os.kill(p, signal.SIGTERM)
    wait_for(lambda: worker_pid(ws.root) is None, 30, what="the worker to stop")


def test_sigterm_mid_item_requeues_it_and_the_next_worker_finishes(tmp_path, media):
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["long_speech"], [media["face2"]], FAST)
    proc = start_worker(ws.root)
    try:
        wait_for(lambda: (lambda c: c is not None and c.stage == "synthesis")(ws.store.get_job(job_id).current_item),
                 120, what="synthesis")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - t0 < 2.0
    finally:
        if proc.poll() is None:
            proc.kill()
    item = ws.store.get_job(job_id).items[0]
    assert item.status == "interrupted" and "runs again" in item.error
    assert list(ws.outputs.iterdir()) == [] and leftovers(ws.root) == []
    assert Worker(ws.root, idle_exit=0).run() == 1
    item = ws.store.get_job(job_id).items[0]
    assert item.status == "done" and item.attempts == 2 and item.error is None
    check_playable(item.output, min_seconds=4.9)


def test_items_can_run_in_another_process_through_an_executor(tmp_path, media):
    """The item runner and its hooks are plain, picklable values: a process pool (as a Dask cluster would)
    runs the item, and its progress still reaches the store."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["speech"], [media["face2"]], FAST)
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        assert Worker(ws.root, executor=pool, share=False, idle_exit=0).run() == 1
    item = ws.store.get_job(job_id).items[0]
    assert item.status == "done", item.error
    assert item.stage == "score" and item.percent == 100 and item.score is not None
    check_playable(item.output, min_seconds=1.1)
    assert leftovers(ws.root) == []
