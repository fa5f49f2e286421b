"""The queue on a Dask cluster, all on 127.0.0.1: a real `dask scheduler` and `dask worker` processes (or a
LocalCluster), the real pipeline on tiny clips, and the faults: a worker killed -9 mid-item, a cancel of a
remote item, a scheduler that is not there."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from heygem_core.jobs import Workspace, worker_pid
from heygem_core.options import LipSyncOptions

from jobs_media import REPO, blank_clip, check_playable, face_clip, leftovers, speech_snippet, wait_for

FAST = LipSyncOptions(preset="ultrafast")
BIN = Path(sys.executable).parent
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])),
           DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="3s")


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("dask_media")
    return {"speech": speech_snippet(d / "speech.wav", seconds=2.0),
            "long_speech": speech_snippet(d / "long speech.wav", start=0.5, seconds=5.0),
            "faces": [face_clip(d / f"face{i}.mp4", seconds=0.6 + 0.1 * i) for i in range(4)],
            "blank": blank_clip(d / "blank.mp4")}


def _spawn(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dask"), *args], cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture
def cluster(tmp_path):
    """`dask scheduler` on a free port of 127.0.0.1 and two single-thread workers, w1 and w2 (no nanny: a
    killed worker stays dead). Yields (address, {"w1" | "w2" | "scheduler": process})."""
    with _cluster(tmp_path) as running:
        yield running


@pytest.fixture
def gpu_cluster(tmp_path):
    """The same, but w1 says it has a GPU (``--resources GPU=1``) and w2 does not."""
    with _cluster(tmp_path, w1=("--resources", "GPU=1")) as running:
        yield running


@contextlib.contextmanager
def _cluster(tmp_path, **extra):
    from distributed import Client

    info = tmp_path / "scheduler.json"
    procs = [_spawn("scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
                    "--scheduler-file", str(info), cwd=tmp_path)]
    try:
        wait_for(info.is_file, 60, what="the scheduler to start")
        address = wait_for(lambda: json.loads(info.read_text() or "{}").get("address"), 10, what="its address")
        workers = {}
        for name in ("w1", "w2"):
            workers[name] = _spawn("worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                                   "--host", "127.0.0.1", "--no-dashboard", *extra.get(name, ()), cwd=tmp_path)
            procs.append(workers[name])
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, {**workers, "scheduler": procs[0]}
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _heygem_worker(root: Path, address: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "heygem_core.cli", "worker", "--root-path", str(root),
                             "--dask", address, "--quiet", *extra], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _worker_of(host: str | None) -> str | None:
    """'w1' for a host recorded as 'machine (w1)'."""
    return host.rsplit("(", 1)[-1].rstrip(")") if host else None


def test_a_worker_killed_mid_item_loses_nothing(tmp_path, media, cluster):
    address, workers = cluster
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["speech"], media["faces"], FAST)
    proc = _heygem_worker(ws.root, address, "--idle-exit", "1")
    try:
        first = wait_for(lambda: next((i for i in ws.store.get_job(job_id).items if i.status == "done"), None),
                         240, step=0.05, what="the first output")
        assert Path(first.output).is_file()
        victim = _worker_of(first.host)
        assert victim in workers, first.host
        # The worker that made the first output takes the next item: kill it while that item runs.
        running = wait_for(lambda: next((i for i in ws.store.get_job(job_id).items if i.status == "running"
                                         and _worker_of(i.host) == victim and i.stage), None),
                           60, step=0.02, what=f"{victim} to start another item")
        os.kill(workers[victim].pid, signal.SIGKILL)
        workers[victim].wait(timeout=10)
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    finally:
        _stop(proc)
    job = ws.store.get_job(job_id)
    assert job.status == "done", job.errors
    survivor = ({"w1", "w2"} - {victim}).pop()
    rerun = next(i for i in job.items if i.id == running.id)
    assert _worker_of(rerun.host) == survivor            # ran again on the other worker
    assert {_worker_of(i.host) for i in job.items} == {"w1", "w2"}     # both workers ran items
    assert len(ws.store.history()) == 4
    assert sorted(p.name for p in ws.outputs.iterdir()) == sorted(Path(i.output).name for i in job.items)
    for item in job.items:
        check_playable(item.output, min_seconds=1.9)
        assert Path(item.thumbnail).is_file() and item.result["host"] == item.host
    assert leftovers(ws.root) == []                      # nothing partial in outputs/, no work folders
    assert list(ws.thumbnails.glob(".*")) == []
    assert not (ws.root / "cluster.json").exists()


def test_local_cluster_runs_a_batch_in_parallel(tmp_path, media):
    """Two videos run at once on `--dask local:2`; a third with no face fails on the cluster with the same
    one-line error as at home, its stack in the workspace's log."""
    from urllib.request import urlopen

    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["speech"], [*media["faces"][:2], media["blank"]], FAST)
    proc = _heygem_worker(ws.root, "local:2", "--idle-exit", "1")
    try:
        info = wait_for(lambda: (ws.root / "cluster.json").is_file() and
                        json.loads((ws.root / "cluster.json").read_text()), 120, what="the cluster file")
        assert info["scheduler"].startswith("tcp://127.0.0.1:") and info["pid"] == proc.pid
        assert info["dashboard"].startswith("http://127.0.0.1:")
        with urlopen(info["dashboard"], timeout=30) as page:      # the Dask dashboard is really there
            assert page.status == 200
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    finally:
        _stop(proc)
    job = ws.store.get_job(job_id)
    a, b, blank = job.items
    assert (a.status, b.status, blank.status) == ("done", "done", "failed"), job.errors
    assert blank.error.startswith(str(media["blank"])) and "\n" not in blank.error and blank.output is None
    log = ws.log_file.read_text()
    assert "Traceback (most recent call last)" in log[log.index("item failed"):] and "NoFaceError" in log
    assert max(a.started, b.started) < min(a.finished, b.finished)      # both ran at once
    assert len({a.host, b.host}) == 2
    for item in (a, b):
        check_playable(item.output, min_seconds=1.9)
        timing = item.result["cluster"]
        assert timing["run_s"] > 0 and timing["submit_to_start_s"] >= 0 and timing["result_to_record_s"] >= 0
        assert item.stage == "score" and item.percent == 100 and item.score is not None
    assert leftovers(ws.root) == [] and not (ws.root / "cluster.json").exists()
    assert worker_pid(ws.root) is None


def test_cancel_stops_a_remote_item_within_a_second(tmp_path, media, cluster):
    from distributed import Client

    address, _ = cluster
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["long_speech"], media["faces"][:1], FAST)
    proc = _heygem_worker(ws.root, address)
    try:
        # Progress from the Dask worker reaches the store: the stage and frame count move.
        item = wait_for(lambda: (lambda i: i if i.stage == "synthesis" and i.done >= 5 else None)(
            ws.store.get_job(job_id).items[0]), 240, step=0.02, what="synthesis on the cluster")
        assert _worker_of(item.host) in ("w1", "w2") and 0 < item.percent < 100
        t0 = time.monotonic()
        ws.store.cancel(job_id)
        wait_for(lambda: ws.store.get_job(job_id).status == "cancelled", 10, step=0.02, what="cancel")
        latency = time.monotonic() - t0
        assert latency < 1.5, latency
        with Client(address, timeout=10) as client:      # the task itself stopped, not just the record
            wait_for(lambda: not any(client.processing().values()), 2, what="the task to end")
        assert list(ws.outputs.iterdir()) == [] and leftovers(ws.root) == []
        assert ws.store.history() == []
    finally:
        _stop(proc)
    assert proc.returncode == 0


def test_scheduler_out_of_reach_is_one_line_and_the_queue_stays(tmp_path, media, monkeypatch):
    with socket.socket() as s:      # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["speech"], media["faces"][:2], FAST)
    proc = _heygem_worker(ws.root, f"tcp://127.0.0.1:{port}")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"heygem: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    job = ws.store.get_job(job_id)
    assert [(i.status, i.attempts) for i in job.items] == [("queued", 0), ("queued", 0)]
    assert worker_pid(ws.root) is None
    # The background worker `heygem serve --dask` starts says the same in logs/worker.out.
    from heygem_core.jobs import ensure_worker

    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "3s")
    pid = ensure_worker(ws.root, dask=f"tcp://127.0.0.1:{port}", idle_exit=None)
    wait_for(lambda: "cannot reach the Dask scheduler" in (ws.logs / "worker.out").read_text(), 60,
             what="the background worker's error")
    os.waitpid(pid, 0)
    assert [i.status for i in ws.store.get_job(job_id).items] == ["queued", "queued"]


def test_scheduler_lost_mid_run_ends_the_worker_and_requeues_its_items(tmp_path, media, cluster):
    address, procs = cluster
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["speech"], media["faces"], FAST)
    proc = _heygem_worker(ws.root, address)
    try:
        wait_for(lambda: any(i.stage == "synthesis" for i in ws.store.get_job(job_id).items), 240, step=0.02,
                 what="an item on the cluster")
        os.kill(procs["scheduler"].pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == (f"heygem: error: lost the Dask scheduler at {address}; unfinished "
                                            f"items run again when a worker next starts"), err
    states = [i.status for i in ws.store.get_job(job_id).items]
    assert "interrupted" in states and set(states) <= {"interrupted", "queued", "done"}, states
    assert worker_pid(ws.root) is None and not (ws.root / "cluster.json").exists()


def test_bad_cluster_address_is_one_line(tmp_path):
    proc = _heygem_worker(tmp_path / "ws", "local:zero")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and err.strip() == (
        "heygem: error: --dask local:zero: expected local:N with N, the number of workers, at least 1")


def test_dashboard_shows_the_machines_and_links_the_dask_dashboard(tmp_path, media):
    from heygem_core.jobs.lock import WorkerLock
    from heygem_core.ui.app import Dashboard

    d = Dashboard(tmp_path / "ws", lang="en", poll=False)
    store = d.ws.store
    job_id = store.submit(media["speech"], media["faces"][:2], FAST)
    d.refresh()
    assert d.cluster_info.value == ""                   # a local worker: nothing to say
    lock = WorkerLock(d.ws.lock_path)
    assert lock.acquire()                               # this process plays the workspace's cluster worker
    try:
        (d.ws.root / "cluster.json").write_text(json.dumps(
            {"scheduler": "tcp://127.0.0.1:8786", "dashboard": "http://127.0.0.1:8787/status", "pid": os.getpid()}))
        item = store.claim_next()
        store.set_host(item.id, "gpu-node-3 (w1)")
        d.refresh()
        html = d.cluster_info.value
        assert "Cluster tcp://127.0.0.1:8786" in html and 'href="http://127.0.0.1:8787/status"' in html
        assert "1. face0.mp4: gpu-node-3 (w1)" in html and "face1.mp4" not in html    # only items with a host
        assert store.get_job(job_id).items[0].host == "gpu-node-3 (w1)"
    finally:
        lock.release()
    d.refresh()                                         # the worker is gone: its cluster file no longer counts
    assert "Cluster" not in d.cluster_info.value and "gpu-node-3 (w1)" in d.cluster_info.value


def test_submit_no_worker_only_queues(tmp_path, media, capsys):
    from heygem_core.cli import main

    root = tmp_path / "ws"
    assert main(["submit", "--audio", str(media["speech"]), "--video", str(media["faces"][0]),
                 "--root-path", str(root), "--no-worker"]) == 0
    job_id = capsys.readouterr().out.strip()
    time.sleep(0.5)
    assert worker_pid(root) is None
    assert Workspace(root).store.get_job(job_id).status == "queued"


def test_gpu_items_go_only_to_workers_with_a_gpu(tmp_path, media, gpu_cluster, monkeypatch):
    """An item whose engine wants a GPU asks Dask for ``GPU: 1``: every one runs on w1, the only worker that
    has one, one at a time, while w2 stays free. (The procedural engine stands in for Wav2Lip here, so the
    test runs in seconds; the routing is Dask's own, on real worker processes.)"""
    from heygem_core.jobs import dask_exec

    address, _ = gpu_cluster
    monkeypatch.setattr(dask_exec, "wants_gpu", lambda options: True)
    ws = Workspace(tmp_path / "ws")
    job_id = ws.store.submit(media["speech"], media["faces"][:2], FAST)
    assert dask_exec.DaskWorker(ws.root, address=address, idle_exit=0.5).run() == 2
    job = ws.store.get_job(job_id)
    assert job.status == "done", job.errors
    assert [_worker_of(i.host) for i in job.items] == ["w1", "w1"]
    spans = sorted((i.started + t["submit_to_start_s"], i.started + t["submit_to_start_s"] + t["run_s"])
                   for i in job.items for t in [i.result["cluster"]])
    assert spans[1][0] >= spans[0][1] - 0.05     # one GPU: the second began when the first had ended


def test_only_wav2lip_off_the_cpu_wants_a_gpu():
    from heygem_core.jobs.dask_exec import wants_gpu

    assert wants_gpu({"engine": "wav2lip", "device": "auto"}) and wants_gpu({"engine": "wav2lip", "device": "cuda"})
    assert not wants_gpu({"engine": "wav2lip", "device": "cpu"}) and not wants_gpu({"engine": "procedural"})
