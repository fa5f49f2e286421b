"""How the worker runs one item: in its own process (``Inline``) or in a child it supervises (``ChildProcess``).

An executor has ``submit(fn, *args, **kwargs) -> future``; the future has ``result(timeout=None)`` (raises
what ``fn`` raised, ``concurrent.futures.TimeoutError`` while it still runs) and ``done()``; optionally
``interrupt()`` (ask the running call to stop: its ``should_stop`` hook, wrapped in `Interruptible`, says so)
and ``kill()``. ``concurrent.futures`` pools and ``dask.distributed`` clients fit the same shape.

`ChildProcess` keeps one long-lived child (started on first use, so the heavy imports are paid once, not per
item) and replaces it when it dies. A crash of the code running an item — a segfault in a native library,
the kernel's OOM killer — then ends only the child: the future raises `ItemCrashed` naming the signal, and
the worker records it against that item instead of dying with it.
"""
from __future__ import annotations

import concurrent.futures
import ctypes
import logging
import multiprocessing as mp
import os
import pickle
import signal
import threading
import traceback
from concurrent.futures import Future
from multiprocessing.connection import wait as wait_ready
from pathlib import Path

from ..errors import HeygemError, ItemCrashed, ItemError

log = logging.getLogger(__name__)

_interrupt = threading.Event()     # set in a child when its parent asks the running call to stop
_PR_SET_PDEATHSIG = 1


class Inline:
    """Runs the call in the worker process itself: nothing to start, nothing to isolate."""

    def submit(self, fn, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


class Interruptible:
    """``should_stop`` for a call in another process: its own check, or a stop asked through `interrupt()`."""

    def __init__(self, check):
        self.check = check

    def __call__(self) -> bool:
        return _interrupt.is_set() or bool(self.check())


def crash_reason(exitcode: int | None) -> str:
    """Why a child ended, in words: ``killed by signal SIGSEGV (segmentation fault)``."""
    if exitcode is None:
        return "the process running it did not answer"
    if exitcode < 0:
        sig = -exitcode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        hint = {signal.SIGSEGV: "a crash in native code", signal.SIGKILL: "killed from outside, often for "
                "lack of memory", signal.SIGABRT: "aborted by a native library", signal.SIGBUS: "a bus error",
                signal.SIGFPE: "an arithmetic fault in native code"}.get(sig)
        return f"the process running it was killed by {name}" + (f" ({hint})" if hint else "")
    return f"the process running it exited with status {exitcode}"


class ChildFuture:
    """The pending result of one call in a `ChildProcess`."""

    def __init__(self, owner: "ChildProcess"):
        self._owner = owner
        self._done = False
        self._value = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        if not self._done:
            self._owner._poll(self, 0)
        return self._done

    def result(self, timeout: float | None = None):
        if not self._done:
            self._owner._poll(self, timeout)
            if not self._done:
                raise concurrent.futures.TimeoutError()
        if self._error is not None:
            raise self._error
        return self._value

    def interrupt(self) -> None:
        """Ask the call to stop (its `Interruptible` hook turns true); it still answers."""
        if not self._done:
            self._owner._signal(signal.SIGUSR1)

    def kill(self) -> None:
        """End the child now; the future then raises `ItemCrashed`."""
        if not self._done:
            self._owner._signal(signal.SIGKILL)

    def _set(self, value=None, error: BaseException | None = None) -> None:
        self._value, self._error, self._done = value, error, True


class ChildProcess:
    """Runs each call in a long-lived child process, started with ``spawn`` (a clean interpreter: no
    threads or open databases inherited) and started again after it dies. One call at a time.

    ``log_root``: a workspace whose log the child writes to (the same ``logs/heygem.log`` as the worker).
    """

    def __init__(self, log_root: str | Path | None = None):
        self.log_root = str(log_root) if log_root is not None else None
        self._ctx = mp.get_context("spawn")
        self._proc = None
        self._conn = None
        self._pending: ChildFuture | None = None
        self.started = 0            # children started so far (1 unless some died)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def submit(self, fn, *args, **kwargs) -> ChildFuture:
        if self._pending is not None and not self._pending.done():
            raise RuntimeError("ChildProcess runs one call at a time")
        future = ChildFuture(self)
        try:
            payload = pickle.dumps((fn, args, kwargs))
        except Exception as exc:  # noqa: BLE001 - an unpicklable call fails like any other error
            future._set(error=ItemError(f"cannot hand the item to the child process: {exc}"))
            return future
        self._ensure_child()
        try:
            self._conn.send_bytes(payload)
        except OSError:            # the child died between two items: start another and send again
            self._reap()
            self._ensure_child()
            self._conn.send_bytes(payload)
        self._pending = future
        return future

    def close(self, timeout: float = 5.0) -> None:
        """Let the child leave (it finishes nothing new); kill it if it does not within ``timeout``."""
        if self._proc is None:
            return
        try:
            self._conn.send_bytes(pickle.dumps(None))
        except OSError:
            pass
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._reap()

    # -- the parent's side --------------------------------------------------------------------------------
    def _ensure_child(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        self._reap()
        parent_conn, child_conn = self._ctx.Pipe()
        proc = self._ctx.Process(target=_child_main, args=(child_conn, self.log_root, os.getpid()), daemon=True,
                                 name="heygem-item")
        proc.start()
        child_conn.close()
        self._proc, self._conn = proc, parent_conn
        self.started += 1
        log.debug("item process %d started", proc.pid)

    def _reap(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            self._proc.join(1)
        self._proc = self._conn = None

    def _signal(self, sig: int) -> None:
        if self._proc is not None and self._proc.pid and self._proc.is_alive():
            try:
                os.kill(self._proc.pid, sig)
            except ProcessLookupError:
                pass

    def _poll(self, future: ChildFuture, timeout: float | None) -> None:
        if future is not self._pending or self._proc is None:
            return
        ready = wait_ready([self._conn, self._proc.sentinel], timeout)
        if not ready:
            return
        if self._conn in ready:
            try:
                kind, value, remote_tb = pickle.loads(self._conn.recv_bytes())
            except (EOFError, OSError):
                kind = None
            else:
                self._pending = None
                if kind == "ok":
                    future._set(value)
                else:
                    if remote_tb:
                        value.add_note(remote_tb.rstrip())
                    future._set(error=value)
                return
        # The child is gone without an answer.
        self._proc.join(5)
        reason = crash_reason(self._proc.exitcode)
        log.warning("item process %d died: %s", self._proc.pid, reason)
        self._reap()
        self._pending = None
        future._set(error=ItemCrashed(reason))


# -- the child's side ---------------------------------------------------------------------------------------
def _child_main(conn, log_root: str | None, parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C reaches the worker, which asks us to stop
    for sig in (signal.SIGUSR1, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: _interrupt.set())
    if log_root:
        from .logfile import configure_log

        configure_log(log_root)
    from .memory import MemoryKeeper

    memory = MemoryKeeper()
    while True:
        try:
            message = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args, kwargs = message
        _interrupt.clear()
        try:
            reply = ("ok", fn(*args, **kwargs), None)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the worker
            reply = ("error", _portable(exc), traceback.format_exc())
        try:
            data = pickle.dumps(reply)
        except Exception as exc:  # noqa: BLE001 - a result that cannot travel is an error of its own
            data = pickle.dumps(("error", ItemError(f"the result could not be sent back: {exc}"), None))
        conn.send_bytes(data)
        memory.after_item()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` itself when it survives pickling, else an `ItemError` with the same one-line text."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
        if type(copy) is type(exc) and str(copy) == str(exc):
            return exc
    except Exception:  # noqa: BLE001 - any failure to round-trip means: send the text
        pass
    text = str(exc) if isinstance(exc, HeygemError) else f"{exc.__class__.__name__}: {exc}"
    return ItemError(text.splitlines()[0] if text else exc.__class__.__name__)


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this child when the worker dies (``kill -9`` included), so an orphan never
    keeps running an item the next worker runs again."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:   # the parent died before prctl took effect
        os._exit(1)
