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
import json
import logging
import os
import resource
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

from ..errors import Cancelled, HeygemError
from .lock import WorkerBusy, WorkerLock, worker_pid
from .logfile import configure_log, log_context
from .memory import MemoryKeeper
from .records import CANCELLED, DONE, FAILED, INTERRUPTED
from .runner import ItemProgress, StopCheck, run_item
from .store import WorkItem
from .workspace import Workspace

log = logging.getLogger("heygem_core.jobs.worker")  # also when run as __main__

POLL_S = 0.01           # idle check for new work (see Worker._wait_for_change)


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
    ``share``: hand the job's decoded speech and loaded engine to each of its items (turn off for an
    executor on other machines, where each item loads its own).
    """

    def __init__(self, root: str | Path = "workspace", *, executor=None, run: Callable = run_item,
                 idle_exit: float | None = None, poll_s: float = POLL_S, share: bool = True):
        self.ws = Workspace(root)
        self.store = self.ws.store
        self.executor = executor or _Inline()
        self.run_fn = run
        self.idle_exit = idle_exit
        self.poll_s = poll_s
        self._lock = WorkerLock(self.ws.lock_path)
        self._stopping = threading.Event()
        self.share = share
        self._job_cache: tuple[tuple, dict] | None = None
        self.items_run = 0
        self.memory = None

    def stop(self) -> None:
        """Ask the worker to leave: the running item stops (and runs again next time), nothing new starts."""
        self._stopping.set()

    # -- life cycle ---------------------------------------------------------------------------------------
    def run(self) -> int:
        """Hold the lock and work until stopped (or idle for ``idle_exit`` seconds). Returns items run."""
        if not self._lock.acquire():
            raise WorkerBusy(self.ws.root, worker_pid(self.ws.root))
        previous = self._install_signals()
        self.memory = MemoryKeeper()
        try:
            log.info("worker %d started for %s", os.getpid(), self.ws.root)
            self._recover()
            while True:
                self._loop()
                self._lock.release()
                # A job submitted while this worker was deciding to leave saw the lock held and started no
                # worker: look once more after letting go, and stay if there is work and no one took over.
                if self._stopping.is_set() or not self.store.pending_count() or not self._lock.acquire():
                    break
                log.info("work arrived while leaving; staying")
        finally:
            self._restore_signals(previous)
            self._lock.release()
            log.info("worker %d stopped after %d item(s)", os.getpid(), self.items_run)
        return self.items_run

    def _loop(self) -> None:
        idle_since = time.monotonic()
        while not self._stopping.is_set():
            if self.step():
                idle_since = time.monotonic()
                continue
            if self.idle_exit is not None and time.monotonic() - idle_since >= self.idle_exit:
                log.info("worker idle for %.0f s, leaving", self.idle_exit)
                return
            self.memory.when_idle()
            self._wait_for_change()

    def _wait_for_change(self, longest: float = 1.0) -> None:
        """Sleep until another process commits to the store (a submit, a cancel), at most ``longest`` s.

        SQLite's data_version costs a few microseconds, so checking it every ``poll_s`` (10 ms) keeps
        submit → start short at no measurable cost. (No ``Event.wait`` here: the signal handlers set the
        stop event, and an event waited on in the main thread can deadlock its own signal handler.)
        """
        version = self.store.data_version()
        deadline = time.monotonic() + longest
        while not self._stopping.is_set() and time.monotonic() < deadline:
            time.sleep(self.poll_s)
            if self.store.data_version() != version:
                return

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
        handler = lambda signum, frame: self.stop()  # noqa: E731 - no logging here: not signal-safe
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
        if isinstance(self.executor, _Inline):
            should_stop = lambda: self._stopping.is_set() or stop_check()  # noqa: E731
        else:
            should_stop = stop_check    # travels to the executor (picklable); reads the cancel flag itself
        status, error, outcome = FAILED, None, None
        try:
            shared = self._shared(item) if self.share else {}
            future = self.executor.submit(self.run_fn, item, self.ws, ItemProgress(self.store, item.id),
                                          should_stop, **shared)
            outcome = future.result()
            status = DONE
        except Cancelled:
            if self._stopping.is_set() and not self.store.stop_requested(item.id):
                status, error = INTERRUPTED, "the worker was stopped while this item ran; it runs again"
            else:
                status = CANCELLED
        except HeygemError as exc:
            error = str(exc)
            log.exception("item failed: %s", error)
        except Exception as exc:
            error = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
            log.exception("item failed: %s", error)
        except BaseException:   # the process is going down (SystemExit and the like): run it again later
            status, error = INTERRUPTED, "the worker stopped while this item ran; it runs again"
            raise
        finally:
            # Always leave a final state, as a papermill record does, whatever happened above.
            if status == DONE:
                self.store.finish_item(item.id, DONE, result=outcome.result, thumbnail=outcome.thumbnail,
                                       score=outcome.score)
            else:
                self.store.finish_item(item.id, status, error=error)
        if self.memory is not None:
            self.memory.after_item()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log.info("item %s in %.1f s (worker peak memory %.0f MB)", status, time.monotonic() - t0, peak_mb)

    def _shared(self, item: WorkItem) -> dict:
        """The decoded speech and the loaded engine of the current job, kept while its items run.

        Only one job's worth is kept: memory stays flat over a long queue.
        """
        from ..engines import get_engine
        from ..options import LipSyncOptions
        from ..pipeline import prepare_speech

        key = (item.audio, json.dumps(item.options, sort_keys=True))
        if self._job_cache is None or self._job_cache[0] != key:
            self._job_cache = None      # drop the previous job's before loading the next
            options = LipSyncOptions.from_dict(item.options)
            self._job_cache = (key, {"speech": prepare_speech(item.audio), "engine": get_engine(options)})
        return self._job_cache[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heygem_core.jobs.worker", description=__doc__.split("\n")[0])
    add_worker_args(parser)
    parser.add_argument("--if-free", action="store_true",
                        help="exit quietly (status 0) when another worker already runs")
    args = parser.parse_args(argv)
    try:
        return serve_forever(args.root_path, idle_exit=args.idle_exit, if_free=args.if_free, dask=args.dask)
    except HeygemError as exc:
        print(f"heygem: error: {exc}", file=sys.stderr)
        return 2


def add_worker_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root-path", default="workspace", metavar="DIR", help="workspace folder")
    parser.add_argument("--idle-exit", type=float, default=None, metavar="S",
                        help="leave after S seconds with an empty queue (default: never)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="run the items on the Dask cluster at ADDRESS (tcp://host:8786), or on a local "
                             "one of N worker processes (local:N)")


def serve_forever(root: str | Path, *, idle_exit: float | None = None, if_free: bool = False,
                  dask: str | None = None) -> int:
    ws = Workspace(root)
    configure_log(ws)
    worker = make_worker(ws.root, idle_exit=idle_exit, dask=dask)
    try:
        worker.run()
    except WorkerBusy as exc:
        if if_free:
            log.info("%s; this one leaves", exc)
            return 0
        raise
    return 0


def make_worker(root: str | Path, *, idle_exit: float | None = None, dask: str | None = None) -> Worker:
    """The workspace's worker: items run here, or on the Dask cluster at ``dask`` (see ``dask_exec``)."""
    if dask:
        from .dask_exec import DaskWorker

        return DaskWorker(root, address=dask, idle_exit=idle_exit)
    return Worker(root, idle_exit=idle_exit)


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    sys.exit(main())
