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

from .logfile import configure_log, log_context
from .records import HistoryEntry, ItemRecord, JobRecord
from .store import JobError, JobStore, WorkItem
from .worker import Worker, WorkerBusy, ensure_worker, worker_pid
from .workspace import Workspace

__all__ = ["Workspace", "JobStore", "JobRecord", "ItemRecord", "HistoryEntry", "WorkItem", "JobError",
           "ensure_worker", "worker_pid", "Worker", "WorkerBusy", "configure_log", "log_context"]
