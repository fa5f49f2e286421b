"""Jobs: the workspace, the persistent queue and history, and the one worker that runs it.

    from heygem_core.jobs import Workspace, ensure_worker
    ws = Workspace("workspace")
    job_id = ws.store.submit("speech.wav", ["a.mp4", "b.mp4"], LipSyncOptions())
    ensure_worker(ws.root)                    # starts `heygem worker` in the background unless one runs
    ws.store.get_job(job_id).items[0].percent

Every surface (dashboard pages, notebooks, papermill, the CLI) only enqueues and reads; the worker process
does the work, one item at a time, and survives the pages.
"""
from __future__ import annotations

from ..errors import JobError, WorkerBusy
from .lock import ensure_worker, worker_pid
from .logfile import configure_log, log_context
from .records import HistoryEntry, ItemRecord, JobRecord
from .records import WorkItem
from .store import JobStore
from .workspace import Workspace


def __getattr__(name: str):
    # The worker module is also run as `python -m heygem_core.jobs.worker`; importing it here eagerly would
    # load it twice in that process.
    if name == "Worker":
        from .worker import Worker

        return Worker
    raise AttributeError(name)

__all__ = ["Workspace", "JobStore", "JobRecord", "ItemRecord", "HistoryEntry", "WorkItem", "JobError",
           "ensure_worker", "worker_pid", "Worker", "WorkerBusy", "configure_log", "log_context"]
