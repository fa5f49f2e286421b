"""One worker per workspace: the lock that guarantees it, and starting a worker when none runs.

``fcntl.flock`` on ``<workspace>/worker.lock``: the kernel drops it when the holder dies, ``kill -9``
included, so a stale lock never blocks the next worker.
"""
from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
from pathlib import Path

from .workspace import Workspace

log = logging.getLogger(__name__)


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


def recover_dead_worker(ws: Workspace) -> list[str]:
    """When no worker runs, what the last one left ``running`` becomes ``interrupted`` (as the next worker
    would record first), so that no list shows a dead item as running. Holds the lock meanwhile, so a worker
    starting at that moment waits its turn; does nothing while a worker runs or where nothing can be written.
    Returns the items that were marked."""
    from .worker import MAX_ATTEMPTS

    lock = WorkerLock(ws.lock_path)
    try:
        if not lock.acquire():
            return []
    except OSError:             # a read-only workspace: show it as it is
        return []
    try:
        return ws.store.recover(give_up_after=MAX_ATTEMPTS)
    except Exception as exc:  # noqa: BLE001 - a reader must still show what it can
        log.warning("could not mark the items of a dead worker in %s: %s", ws.root, exc)
        return []
    finally:
        lock.release()


def ensure_worker(root: str | Path = "workspace", *, idle_exit: float | None = 300.0,
                  dask: str | None = None) -> int | None:
    """Start a worker for ``root`` unless one runs; returns the new worker's pid, or None if one was running.

    The worker runs in its own session (a page's kernel dying does not take it along), with stdout/stderr
    appended to logs/worker.out; it leaves after ``idle_exit`` seconds with nothing to do (None: never), and
    the next submit starts another. Two callers racing both start one; the second finds the lock taken and
    exits at once. ``dask``: the worker runs the items on that Dask cluster (``heygem worker --dask``).
    """
    ws = Workspace(root)
    if worker_pid(ws.root) is not None:
        return None
    cmd = [sys.executable, "-m", "heygem_core.jobs.worker", "--root-path", str(ws.root), "--if-free"]
    if idle_exit is not None:
        cmd += ["--idle-exit", str(idle_exit)]
    if dask:
        cmd += ["--dask", dask]
    with open(ws.logs / "worker.out", "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True, cwd=str(ws.root))
    log.info("started worker pid %d for %s", proc.pid, ws.root)
    return proc.pid
