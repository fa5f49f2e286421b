"""What a process that runs items keeps between the items of one job, and the call another process makes.

The items of a job share one speech track and one engine: decoding the speech and loading the engine once
per job, not per item, is what makes the second video of a batch start at once. The cache lives in whichever
process runs the items (the worker's child, or the worker itself when it runs them inline).
"""
from __future__ import annotations

import json
import os
import threading
from typing import Callable

from .logfile import log_context
from .records import WorkItem
from .workspace import Workspace

_held = threading.local()      # per thread: a Dask worker may run items of other jobs on its other threads


def job_shared(item: WorkItem, ws: Workspace) -> dict:
    """``{"session": ...}``: the current job's `LipSyncSession` (speech decoded, engine loaded), kept in this
    process (and thread) while its items run. Only one job's worth is kept: memory stays flat over a long
    queue. The speech file's size and time are part of the key, so a file replaced in place is read again."""
    from .runner import item_session

    stat = os.stat(item.audio)
    key = (item.audio, stat.st_size, stat.st_mtime_ns, item.text, json.dumps(item.options, sort_keys=True))
    held = getattr(_held, "job", None)
    if held is None or held[0] != key:
        _held.job = None       # let go of the previous job's before loading the next
        _held.job = (key, {"session": item_session(item, ws)})
    return _held.job[1]


def run_logged(run_fn: Callable, item: WorkItem, ws: Workspace, on_progress, should_stop, *,
               share: bool = True):
    """``run_fn`` for one item in another process, its log lines tagged with the item (as in the worker)."""
    with log_context(item.job_id, item.id):
        shared = job_shared(item, ws) if share else {}
        return run_fn(item, ws, on_progress, should_stop, **shared)
