"""The queue on a Dask cluster: `heygem worker --root-path WS --dask ADDRESS` (or ``--dask local:N``).

The workspace keeps its one worker process, its lock, its store and its history; only the items run
elsewhere, as Dask tasks (``dask_task.run_remote``), as many at once as the cluster has threads. Each claim,
progress record and result is still written by this process alone, so nothing about the store changes for
the pages and the CLI that read it.

Faults. A Dask worker that dies mid-item (kill -9, a lost machine) is Dask's to handle: the scheduler runs
the task again on another worker (up to ``distributed.scheduler.allowed-failures`` times). Each attempt
writes into its own work folder and renames into outputs/ only when complete, so a retried item leaves one
whole file. Task keys are unique per claim and submitted with ``pure=False``: two claims of the same item
are never merged. A scheduler that cannot be reached is a one-line ``ClusterError`` before anything is
claimed, so the queue stays as it was.
"""
from __future__ import annotations

import collections
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import Cancelled, HeygemError, WorkerBusy
from .cluster_file import CLUSTER_FILE, write_cluster_file
from .lock import worker_pid
from .logfile import log_context
from .records import CANCELLED, DONE, FAILED, INTERRUPTED
from .records import WorkItem
from .worker import Worker

log = logging.getLogger(__name__)

LOCAL = "local:"
WAIT_S = 0.05           # longest pause between looks at results, progress events and cancel flags
CAPACITY_S = 1.0        # how often the cluster's size is asked again (workers come and go)


class ClusterError(HeygemError):
    """The Dask cluster cannot be used (bad address, scheduler out of reach, package missing)."""


@dataclass
class _Flight:
    """An item handed to the cluster."""

    item: WorkItem
    key: str
    future: object
    claimed: float
    started: float | None = None
    host: str | None = None
    stop_sent: bool = False


def connect(address: str, *, timeout: float | None = None):
    """A ``distributed.Client`` for ``address`` (``tcp://host:port``), or for a new LocalCluster on
    127.0.0.1 with N single-threaded worker processes (``local:N``). Returns (client, cluster or None).

    ``timeout``: how long to keep trying to reach the scheduler; default Dask's own
    ``distributed.comm.timeouts.connect`` (30 s; ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s`` to change).
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a pinned dependency
        raise ClusterError("--dask needs the 'distributed' package (pip install distributed)") from None
    if address.startswith(LOCAL):
        count = address[len(LOCAL):]
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f"--dask {address}: expected local:N with N, the number of workers, at least 1")
        cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, host="127.0.0.1",
                               scheduler_port=0, dashboard_address="127.0.0.1:0",
                               silence_logs=logging.WARNING)
        return Client(cluster), cluster
    try:
        return Client(address, **({} if timeout is None else {"timeout": timeout})), None
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({reason}); queued items stay "
                           f"queued") from None


def wants_gpu(options: dict) -> bool:
    """Whether an item's engine runs on a GPU when the cluster has one (it then asks for ``GPU: 1``)."""
    return options.get("engine") == "wav2lip" and options.get("device", "auto") != "cpu"


class DaskWorker(Worker):
    """The workspace's worker, running its items on the Dask cluster at ``address``."""

    def __init__(self, root: str | Path = "workspace", *, address: str, idle_exit: float | None = None,
                 score: bool = True, connect_timeout: float | None = None):
        super().__init__(root, idle_exit=idle_exit, share=False)
        self.address, self.score, self.connect_timeout = address, score, connect_timeout
        self.client = self.cluster = None
        self.topic = f"heygem-{secrets.token_hex(6)}"
        self._flights: dict[str, _Flight] = {}
        self._events: collections.deque = collections.deque()
        self._capacity = (0.0, 0, 0)        # (asked at, threads, GPUs)
        self._version = None
        self._said_empty = False
        self._wrote_cluster_file = False

    # -- life cycle ---------------------------------------------------------------------------------------
    def run(self) -> int:
        if worker_pid(self.ws.root) is not None:     # before starting or joining a cluster for nothing
            raise WorkerBusy(self.ws.root, worker_pid(self.ws.root))
        self.client, self.cluster = connect(self.address, timeout=self.connect_timeout)
        try:
            self.client.subscribe_topic(self.topic, self._events.append)
            log.info("running items on the Dask cluster at %s (%d workers)", self.client.scheduler.address,
                     len(self.client.nthreads()))
            return super().run()
        finally:
            if self._wrote_cluster_file:
                (self.ws.root / CLUSTER_FILE).unlink(missing_ok=True)
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()

    def _recover(self) -> None:
        super()._recover()
        self._write_cluster_file()      # holding the lock now: the workspace's cluster is ours to describe

    def _write_cluster_file(self) -> None:
        services = self.client.scheduler_info().get("services", {})
        info = {"scheduler": self.client.scheduler.address, "pid": os.getpid(),
                "dashboard": self.client.dashboard_link if "dashboard" in services else None}
        write_cluster_file(self.ws.root, info)
        self._wrote_cluster_file = True

    def _loop(self) -> None:
        idle_since = time.monotonic()
        try:
            while not self._stopping.is_set():
                if self.client.status in ("closing", "closed"):
                    raise ClusterError(f"lost the Dask scheduler at {self.address}; unfinished items run "
                                       f"again when a worker next starts")
                busy = self._land() + self._relay() + self._launch()
                if self._flights or busy:
                    idle_since = time.monotonic()
                elif self.idle_exit is not None and time.monotonic() - idle_since >= self.idle_exit:
                    log.info("worker idle for %.0f s, leaving", self.idle_exit)
                    return
                if not busy:
                    self._pause()
        finally:
            self._abandon()

    def _pause(self) -> None:
        if not self._flights:
            self._wait_for_change(longest=WAIT_S * 4)
            return
        from distributed import wait

        try:
            wait([f.future for f in self._flights.values()], timeout=WAIT_S, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        except Exception:  # noqa: BLE001 - futures cancelled because the scheduler went away: _land sees them
            log.debug("waiting on the cluster failed", exc_info=True)
            time.sleep(WAIT_S)

    # -- handing items out --------------------------------------------------------------------------------
    def _slots(self) -> tuple[int, int]:
        """(threads, GPUs) of the cluster now, asked at most every ``CAPACITY_S``."""
        asked, threads, gpus = self._capacity
        if time.monotonic() - asked >= CAPACITY_S:
            workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
            threads = sum(w.get("nthreads", 0) for w in workers.values())
            gpus = int(sum(w.get("resources", {}).get("GPU", 0) for w in workers.values()))
            self._capacity = (time.monotonic(), threads, gpus)
        return threads, gpus

    def _launch(self) -> int:
        """Claim queued items while the cluster has a free thread; returns how many were handed out."""
        launched = 0
        while self.client.status == "running" and not self._stopping.is_set() and self.store.pending_count():
            threads, gpus = self._slots()
            if not threads and not self._said_empty:
                log.warning("the Dask cluster has no workers yet; items wait in the queue")
            self._said_empty = not threads
            if len(self._flights) >= threads:
                break
            item = self.store.claim_next()
            if item is None:
                break
            key = f"heygem-{item.id}-a{item.attempts}-{secrets.token_hex(3)}"
            resources = {"GPU": 1} if gpus and wants_gpu(item.options) else None
            future = self.client.submit(_run_remote(), item, str(self.ws.root), self.topic, key, self.score,
                                        key=key, pure=False, resources=resources)
            self._flights[item.id] = _Flight(item, key, future, claimed=time.time())
            with log_context(item.job_id, item.id):
                log.info("item %d sent to the cluster: %s + %s -> %s (attempt %d)", item.index + 1,
                         item.video_name, item.audio_name, Path(item.output).name, item.attempts)
            launched += 1
        return launched

    # -- news from the cluster ----------------------------------------------------------------------------
    def _relay(self) -> int:
        """Progress events into the store, cancel flags from the store out to the tasks."""
        from distributed import Event

        news = 0
        while self._events:
            _, msg = self._events.popleft()
            flight = self._flights.get(msg.get("item"))
            if flight is None or flight.key != msg.get("key"):
                continue        # an attempt that is already over
            news += 1
            if msg["kind"] == "start":
                again = flight.started is not None
                flight.started, flight.host = msg["t"], msg["host"]
                self.store.set_host(flight.item.id, msg["host"])
                with log_context(flight.item.job_id, flight.item.id):
                    if again:       # the scheduler gave it to another worker: the first one was lost
                        log.warning("item %d runs again on %s (the Dask worker running it was lost)",
                                    flight.item.index + 1, msg["host"])
                    else:
                        log.info("item %d started on %s", flight.item.index + 1, msg["host"])
            elif msg["kind"] == "progress":
                self.store.set_progress(flight.item.id, msg["stage"], msg["done"], msg["total"], msg["percent"],
                                        msg["eta_s"])
        version = self.store.data_version()
        if version != self._version:        # someone wrote to the store: a cancel, maybe
            self._version = version
            for flight in self._flights.values():
                if not flight.stop_sent and self.store.stop_requested(flight.item.id):
                    Event(f"{flight.key}-stop", client=self.client).set()
                    flight.stop_sent = True
                    news += 1
        return news

    def _land(self) -> int:
        """Record every item whose task has ended."""
        ended = [f for f in self._flights.values() if f.future.done()]
        for flight in ended:
            del self._flights[flight.item.id]
            with log_context(flight.item.job_id, flight.item.id):
                self._record(flight)
        return len(ended)

    def _record(self, flight: _Flight) -> None:
        item, future = flight.item, flight.future
        status, error, done = FAILED, None, None
        try:
            if future.status == "finished":
                done = future.result()
                status = DONE
            elif future.status in ("cancelled", "lost"):
                status, error = INTERRUPTED, "the Dask scheduler lost this item; it runs again"
            else:
                exc = future.exception()
                if isinstance(exc, Cancelled):
                    status = CANCELLED
                elif isinstance(exc, HeygemError):
                    error = str(exc)
                    log.error("item failed: %s\n%s", error, getattr(exc, "trace", "").rstrip())
                elif exc.__class__.__name__ == "KilledWorker":
                    error = ("the cluster's workers died while running it, too often to try again "
                             "(out of memory? see the Dask worker logs)")
                    log.error("item failed: %s (%s)", error, exc)
                else:
                    error = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
                    log.error("item failed: %s", error)
        except Exception as exc:  # noqa: BLE001 - a result that cannot be read back still ends the item
            status, error = FAILED, f"{exc.__class__.__name__}: {exc}".splitlines()[0]
            log.exception("item failed: %s", error)
        finally:
            if status == DONE:
                outcome = done.outcome
                result = dict(outcome.result, host=done.host, cluster=self._timing(flight, done))
                self.store.finish_item(item.id, DONE, result=result, thumbnail=outcome.thumbnail,
                                       score=outcome.score)
            else:
                self.store.finish_item(item.id, status, error=error)
            self._tidy(flight)
        self.items_run += 1
        where = f" on {done.host}" if done else (f" on {flight.host}" if flight.host else "")
        log.info("item %s%s in %.1f s", status, where, time.time() - flight.claimed)

    @staticmethod
    def _timing(flight: _Flight, done) -> dict:
        """Where the time of a cluster run went: queue → start on a worker, the run, result → record."""
        return {"submit_to_start_s": round(done.started - flight.claimed, 4),
                "run_s": round(done.finished - done.started, 4),
                "result_to_record_s": round(time.time() - done.finished, 4)}

    def _tidy(self, flight: _Flight) -> None:
        """Drop what earlier attempts of the item (on workers that died) left in cache/work and thumbnails/."""
        from distributed import Event

        from .dask_task import work_dirs

        for path in work_dirs(self.ws, flight.item.id):
            shutil.rmtree(path, ignore_errors=True)
        for path in self.ws.thumbnails.glob(f".{Path(flight.item.output).stem}.jpg.*.tmp"):
            path.unlink(missing_ok=True)
        if self.client.status != "running":
            return          # the scheduler is gone (or going): nothing to clear, and no call to wait on
        try:
            Event(f"{flight.key}-stop", client=self.client).clear()
        except Exception:  # noqa: BLE001 - the scheduler went away just now
            pass

    def _abandon(self) -> None:
        """Leaving with items on the cluster: stop them and put them back in the queue."""
        from distributed import Event

        for flight in list(self._flights.values()):
            if self.client.status == "running":
                try:
                    Event(f"{flight.key}-stop", client=self.client).set()
                    flight.future.cancel()
                except Exception:  # noqa: BLE001 - the scheduler went away just now
                    pass
            self.store.finish_item(flight.item.id, INTERRUPTED,
                                   error="the worker was stopped while this item ran; it runs again")
            with log_context(flight.item.job_id, flight.item.id):
                log.info("item interrupted; it runs again")
        self._flights.clear()


def _run_remote():
    from .dask_task import run_remote

    return run_remote

