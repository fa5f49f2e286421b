"""The worker: the one process per workspace that runs the queue, strictly one item at a time.

It lives in its own process (and session) because the pages that submit work are Voilà kernels that die on
cull or linger after a reload; the queue must outlive all of them. ``fcntl.flock`` on ``worker.lock``
guarantees a single worker per workspace, and the kernel drops the lock when the process dies, ``kill -9``
included. A worker that starts after another died marks the item that was running ``interrupted`` and runs
it again from the start before the rest of the queue.

    python -m heygem_core.jobs.worker --root-path workspace      # or: heygem worker --root-path workspace
"""
from __future__ import annotations

import argparse
import fcntl
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

from ..errors import Cancelled, HeygemError
from .logfile import configure_log, log_context
from .records import CANCELLED, DONE, FAILED, INTERRUPTED
from .runner import ItemProgress, StopCheck, run_item
from .store import WorkItem
from .workspace import Workspace

log = logging.getLogger(__name__)

POLL_S = 0.1            # idle queue check: a read of one indexed row; keeps submit → start short


class WorkerBusy(HeygemError):
    """Another worker already holds this workspace's lock."""

    def __init__(self, root: Path, pid: int | None):
        self.pid = pid
        super().__init__(f"{root}: a worker is already running for this workspace"
                         + (f" (pid {pid})" if pid else ""))


class WorkerLock:
    """An exclusive ``flock`` on ``worker.lock``; the file also records the holder's pid for humans."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)      # closing the descriptor drops the lock
            self._fd = None


def worker_pid(root: str | Path) -> int | None:
    """The pid of the worker running for workspace ``root``, or None when none holds the lock."""
    path = Path(root).expanduser().absolute() / "worker.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="ignore").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def ensure_worker(root: str | Path = "workspace", *, idle_exit: float | None = 300.0) -> int | None:
    """Start a worker for ``root`` unless one runs; returns the new worker's pid, or None if one was running.

    The worker runs in its own session (a page's kernel dying does not take it along), with stdout/stderr
    appended to logs/worker.out; it leaves after ``idle_exit`` seconds with nothing to do (None: never), and
    the next submit starts another. Two callers racing both start one; the second finds the lock taken and
    exits at once.
    """
    ws = Workspace(root)
    if worker_pid(ws.root) is not None:
        return None
    cmd = [sys.executable, "-m", "heygem_core.jobs.worker", "--root-path", str(ws.root), "--if-free"]
    if idle_exit is not None:
        cmd += ["--idle-exit", str(idle_exit)]
    env = dict(os.environ)
    # The worker must import this very package, whatever the caller's working directory.
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    with open(ws.logs / "worker.out", "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True, env=env, cwd=str(ws.root))
    log.info("started worker pid %d for %s", proc.pid, ws.root)
    return proc.pid


class _Inline:
    """The default executor: runs the item in the worker process itself."""

    def submit(self, fn, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


class Worker:
    """Runs the queue of one workspace.

    ``executor`` has ``submit(fn, *args, **kwargs) -> future`` (``future.result()`` waits): the default runs
    inline; a ``concurrent.futures`` or ``dask.distributed`` client fits. ``run`` is the item runner.
    """

    def __init__(self, root: str | Path = "workspace", *, executor=None, run: Callable = run_item,
                 idle_exit: float | None = None, poll_s: float = POLL_S):
        self.ws = Workspace(root)
        self.store = self.ws.store
        self.executor = executor or _Inline()
        self.run_fn = run
        self.idle_exit = idle_exit
        self.poll_s = poll_s
        self._lock = WorkerLock(self.ws.lock_path)
        self._stopping = threading.Event()
        self._speech_cache: tuple[str, object] | None = None
        self.items_run = 0

    def stop(self) -> None:
        """Ask the worker to leave: the running item stops (and runs again next time), nothing new starts."""
        self._stopping.set()

    # -- life cycle ---------------------------------------------------------------------------------------
    def run(self) -> int:
        """Hold the lock and work until stopped (or idle for ``idle_exit`` seconds). Returns items run."""
        if not self._lock.acquire():
            raise WorkerBusy(self.ws.root, worker_pid(self.ws.root))
        previous = self._install_signals()
        try:
            log.info("worker %d started for %s", os.getpid(), self.ws.root)
            self._recover()
            idle_since = time.monotonic()
            while not self._stopping.is_set():
                if self.step():
                    idle_since = time.monotonic()
                    continue
                if self.idle_exit is not None and time.monotonic() - idle_since >= self.idle_exit:
                    log.info("worker idle for %.0f s, leaving", self.idle_exit)
                    break
                self._stopping.wait(self.poll_s)
        finally:
            self._restore_signals(previous)
            self._lock.release()
            log.info("worker %d stopped after %d item(s)", os.getpid(), self.items_run)
        return self.items_run

    def _recover(self) -> None:
        for item_id in self.store.recover():
            log.warning("item %s was interrupted (the previous worker died); it runs again", item_id)
        # Partial files of runs that died: only the worker writes here, and we hold the lock.
        shutil.rmtree(self.ws.cache / "work", ignore_errors=True)
        for folder in (self.ws.outputs, self.ws.thumbnails):
            for path in folder.glob(".*.tmp"):
                path.unlink(missing_ok=True)

    def _install_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        handler = lambda signum, frame: (log.info("signal %d: stopping", signum), self.stop())  # noqa: E731
        return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    @staticmethod
    def _restore_signals(previous) -> None:
        for sig, handler in (previous or {}).items():
            signal.signal(sig, handler)

    # -- one item -----------------------------------------------------------------------------------------
    def step(self) -> bool:
        """Run the next waiting item, if any. Returns whether there was one."""
        if self._stopping.is_set() or not self.store.pending_count():
            return False
        item = self.store.claim_next()
        if item is None:
            return False
        with log_context(item.job_id, item.id):
            self._run(item)
        self.items_run += 1
        return True

    def _run(self, item: WorkItem) -> None:
        log.info("item %d started: %s + %s -> %s (attempt %d)", item.index + 1, item.video_name,
                 item.audio_name, Path(item.output).name, item.attempts)
        t0 = time.monotonic()
        stop_check = StopCheck(self.store, item.id)
        should_stop = lambda: self._stopping.is_set() or stop_check()  # noqa: E731
        status, error, outcome = FAILED, None, None
        try:
            speech = self._speech(item.audio)
            future = self.executor.submit(self.run_fn, item, self.ws, ItemProgress(self.store, item.id),
                                          should_stop, speech=speech)
            outcome = future.result()
            status = DONE
        except Cancelled:
            if self._stopping.is_set():
                status, error = INTERRUPTED, "the worker was stopped while this item ran; it runs again"
            else:
                status = CANCELLED
        except HeygemError as exc:
            error = str(exc)
            log.exception("item failed: %s", error)
        except Exception as exc:
            error = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
            log.exception("item failed: %s", error)
        finally:
            # Always leave a final state, as a papermill record does, whatever happened above.
            if status == DONE:
                self.store.finish_item(item.id, DONE, result=outcome.result, thumbnail=outcome.thumbnail,
                                       score=outcome.score)
            else:
                self.store.finish_item(item.id, status, error=error)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log.info("item %s in %.1f s (worker peak memory %.0f MB)", status, time.monotonic() - t0, peak_mb)

    def _speech(self, audio: str):
        """The decoded speech of the current job, kept while consecutive items share it."""
        try:
            from ..pipeline import prepare_speech
        except ImportError:
            return None
        if self._speech_cache is None or self._speech_cache[0] != audio:
            self._speech_cache = None   # free the previous job's speech before decoding the next
            self._speech_cache = (audio, prepare_speech(audio))
        return self._speech_cache[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heygem_core.jobs.worker", description=__doc__.split("\n")[0])
    add_worker_args(parser)
    parser.add_argument("--if-free", action="store_true",
                        help="exit quietly (status 0) when another worker already runs")
    args = parser.parse_args(argv)
    try:
        return serve_forever(args.root_path, idle_exit=args.idle_exit, if_free=args.if_free)
    except HeygemError as exc:
        print(f"heygem: error: {exc}", file=sys.stderr)
        return 2


def add_worker_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root-path", default="workspace", metavar="DIR", help="workspace folder")
    parser.add_argument("--idle-exit", type=float, default=None, metavar="S",
                        help="leave after S seconds with an empty queue (default: never)")


def serve_forever(root: str | Path, *, idle_exit: float | None = None, if_free: bool = False) -> int:
    ws = Workspace(root)
    configure_log(ws)
    worker = Worker(ws.root, idle_exit=idle_exit)
    try:
        worker.run()
    except WorkerBusy as exc:
        if if_free:
            log.info("%s; this one leaves", exc)
            return 0
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    sys.exit(main())
