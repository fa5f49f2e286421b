"""What runs on a Dask worker: one queue item, through the same ``run_item`` the local worker calls.

Dask workers never open the job store. SQLite in WAL mode is only safe between processes of one machine
(its index lives in shared memory), and the cluster's workers are other machines that see the workspace over
a network file system. So the item's progress goes home as Dask events (``Worker.log_event``) to the queue's
worker, which writes them into the store, and a cancel comes back as a Dask ``Event`` the task polls. The
runner's own hooks (``ItemProgress``, ``StopCheck``) do the throttling and polling; ``ClusterLink`` is the
store they talk to here.

Files travel as paths: the workspace must be at the same path on every machine (a shared folder).
"""
from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..errors import Cancelled, HeygemError, ItemError
from .runner import ItemOutcome, ItemProgress, StopCheck, run_item
from .shared import job_shared
from .records import WorkItem
from .workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskOutcome:
    """A finished item as the Dask task hands it back: what ``run_item`` made, where and when it ran."""

    outcome: ItemOutcome
    host: str
    started: float      # time.time() on the Dask worker when the task began
    finished: float     # … and when the output was in place


def stop_event_name(key: str) -> str:
    return f"{key}-stop"


class ClusterLink:
    """The job store as a task sees it: the two calls ``ItemProgress`` and ``StopCheck`` make.

    ``set_progress`` becomes a Dask event on ``topic``, tagged with the task ``key`` (so a late message from
    an earlier attempt is told apart); ``stop_requested`` reads the task's stop ``Event``.
    """

    def __init__(self, topic: str, key: str):
        self.topic, self.key = topic, key
        self._event = None

    def send(self, item_id: str, kind: str, **fields) -> None:
        from distributed import get_worker

        get_worker().log_event(self.topic, {"key": self.key, "item": item_id, "kind": kind, **fields})

    def set_progress(self, item_id: str, stage: str, done: int, total: int, percent: float,
                     eta_s: float | None) -> None:
        self.send(item_id, "progress", stage=stage, done=done, total=total, percent=percent, eta_s=eta_s)

    def stop_requested(self, item_id: str) -> bool:
        from distributed import Event

        try:
            if self._event is None:
                self._event = Event(stop_event_name(self.key))
            return self._event.is_set()
        except Exception:  # noqa: BLE001 - the scheduler is briefly out of reach: keep working
            log.debug("stop flag of %s unreadable", item_id, exc_info=True)
            return False


class _AttemptWorkspace(Workspace):
    """The workspace with a work folder per attempt: a retried task never shares partial files with the
    attempt before it (which may still be writing, on a machine that only lost its network)."""

    def __init__(self, root: str | Path, key: str):
        super().__init__(root)
        self.key = key

    def work_dir(self, item_id: str) -> Path:
        return super().work_dir(f"{item_id}.{self.key.rsplit('-', 1)[-1]}")


def work_dirs(workspace: Workspace, item_id: str) -> list[Path]:
    """Every attempt's work folder of ``item_id`` (what a worker that died mid-item left behind)."""
    return list((workspace.cache / "work").glob(f"{item_id}.*"))


def run_remote(item: WorkItem, root: str, topic: str, key: str, score: bool = True) -> TaskOutcome:
    """The Dask task: run ``item`` of the workspace at ``root`` here, reporting to ``topic``."""
    from distributed import get_worker

    host = f"{socket.gethostname()} ({get_worker().name})"    # the name is the address unless given one
    started = time.time()
    link = ClusterLink(topic, key)
    link.send(item.id, "start", host=host, t=started, pid=os.getpid())
    try:
        workspace = _AttemptWorkspace(root, key)
        outcome = run_item(item, workspace, ItemProgress(link, item.id), StopCheck(link, item.id), score=score,
                           **job_shared(item, workspace))
    except Cancelled:
        raise
    except HeygemError as exc:
        raise ItemError(str(exc), traceback.format_exc()) from None
    except Exception as exc:
        raise ItemError(f"{exc.__class__.__name__}: {exc}".splitlines()[0], traceback.format_exc()) from None
    return TaskOutcome(outcome, host, started, time.time())
