"""The worker: the one process per workspace that runs the queue, strictly one item at a time.

It lives in its own process (and session) because the pages that submit work are Voilà kernels that die on
cull or linger after a reload; the queue must outlive all of them. ``fcntl.flock`` on ``worker.lock``
guarantees a single worker per workspace, and the kernel drops the lock when the process dies, ``kill -9``
included. A worker that starts after another died marks the item that was running ``interrupted`` and runs
it again from the start before the rest of the queue. Each item runs in a child process the worker
supervises (see `executors`): an item that crashes its process is that item's failure, never the queue's.

    python -m heygem_core.jobs.worker --root-path workspace      # or: heygem worker --root-path workspace
"""
from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import TimeoutError as StillRunning
from pathlib import Path
from typing import Callable

from ..errors import Cancelled, HeygemError, WorkerBusy
from ..errors import ItemCrashed
from .executors import ChildProcess, Inline, Interruptible
from .lock import WorkerLock, worker_pid
from .logfile import configure_log, log_context
from .memory import MemoryKeeper
from .records import CANCELLED, DONE, FAILED, INTERRUPTED
from .runner import ItemProgress, StopCheck, run_item
from .shared import job_shared, run_logged
from .records import WorkItem
from .workspace import Workspace

log = logging.getLogger("heygem_core.jobs.worker")  # also when run as __main__

POLL_S = 0.01           # idle check for new work (see Worker._wait_for_change)
MAX_ATTEMPTS = 3        # runs of an item whose process crashed before it is failed for good
CANCEL_GRACE_S = 3.0    # a cancelled item still running after this long has its process ended
WATCH_S = 0.1           # how often the worker looks at a running item (cancel, stop)


class Worker:
    """Runs the queue of one workspace.

    ``executor`` (see `executors`) has ``submit(fn, *args, **kwargs) -> future``: the default runs each
    item in a child process the worker supervises (`ChildProcess`), so a crash of one item is that item's
    failure, not the queue's; `Inline` runs it in this process; a ``concurrent.futures`` or
    ``dask.distributed`` client fits too. ``run`` is the item runner. ``share``: keep the job's `LipSyncSession`
    (decoded speech, loaded engine) for each of its items (turn off for an executor on other machines, where each
    item loads its own). ``max_attempts``: runs of an item whose process crashed before it is failed.
    """

    def __init__(self, root: str | Path = "workspace", *, executor=None, run: Callable = run_item,
                 idle_exit: float | None = None, poll_s: float = POLL_S, share: bool = True,
                 max_attempts: int = MAX_ATTEMPTS):
        self.ws = Workspace(root)
        self.store = self.ws.store
        self._own_executor = executor is None
        self.executor = executor if executor is not None else ChildProcess(log_root=self.ws.root)
        self.max_attempts = max(1, int(max_attempts))
        self.run_fn = run
        self.idle_exit = idle_exit
        self.poll_s = poll_s
        self._lock = WorkerLock(self.ws.lock_path)
        self._stopping = threading.Event()
        self.share = share
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
            if self._own_executor and hasattr(self.executor, "close"):
                self.executor.close()
            self._lock.release()
            self.store.close()      # the last connection checkpoints: a read-only copy then sees it all
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
        for item_id in self.store.recover(give_up_after=self.max_attempts):
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
        progress = ItemProgress(self.store, item.id)
        status, error, outcome = FAILED, None, None
        try:
            if isinstance(self.executor, Inline):
                should_stop = lambda: self._stopping.is_set() or stop_check()  # noqa: E731
                shared = job_shared(item, self.ws) if self.share else {}
                future = self.executor.submit(self.run_fn, item, self.ws, progress, should_stop, **shared)
            else:   # the hooks travel to the other process and read the store (and an interrupt) there
                future = self.executor.submit(run_logged, self.run_fn, item, self.ws, progress,
                                              Interruptible(stop_check), share=self.share)
            outcome = self._wait(future, item)
            status = DONE
        except Cancelled:
            if self._stopping.is_set() and not self.store.stop_requested(item.id):
                status, error = INTERRUPTED, "the worker was stopped while this item ran; it runs again"
            else:
                status = CANCELLED
        except ItemCrashed as exc:
            status, error = self._crashed(item, exc)
        except HeygemError as exc:
            error = str(exc).splitlines()[0]
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

    def _wait(self, future, item: WorkItem):
        """The item's outcome. Meanwhile: a stopping worker asks the item to stop, and an item cancelled
        but still running after `CANCEL_GRACE_S` has its process ended (a cancel always takes)."""
        if future.done():
            return future.result()
        interrupted = False
        cancel_seen: float | None = None
        while True:
            try:
                return future.result(timeout=WATCH_S)
            except StillRunning:
                pass
            if self._stopping.is_set() and not interrupted and hasattr(future, "interrupt"):
                future.interrupt()
                interrupted = True
                cancel_seen = time.monotonic()
            if cancel_seen is None and self.store.stop_requested(item.id):
                cancel_seen = time.monotonic()
            if cancel_seen is not None and time.monotonic() - cancel_seen > CANCEL_GRACE_S \
                    and hasattr(future, "kill"):
                log.warning("item %s did not stop within %.0f s of being asked; ending its process",
                            item.id, CANCEL_GRACE_S)
                future.kill()
                try:
                    future.result()
                except ItemCrashed:
                    raise Cancelled("cancelled (its process was ended)") from None

    def _crashed(self, item: WorkItem, exc: ItemCrashed) -> tuple[str, str | None]:
        """A crashed run: tried again (interrupted items run first) until ``max_attempts``, then failed."""
        if self._stopping.is_set():
            return INTERRUPTED, "the worker was stopped while this item ran; it runs again"
        if self.store.stop_requested(item.id):
            return CANCELLED, None
        if item.attempts < self.max_attempts:
            log.error("item %s: %s; it runs again (attempt %d of %d)", item.id, exc.reason, item.attempts,
                      self.max_attempts)
            return INTERRUPTED, f"{exc.reason}; it runs again"
        log.error("item %s: %s; failed after %d attempts", item.id, exc.reason, item.attempts)
        return FAILED, f"{exc.reason} (on each of {item.attempts} attempts); the queue went on without it"


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
        return getattr(exc, "exit_code", 2)


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
