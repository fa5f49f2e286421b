"""A small exception tree. Every error a user can cause names the file (or option) and the reason."""
from __future__ import annotations

from pathlib import Path


class HeygemError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(HeygemError):
    """A file given by the user cannot be used. ``str(err)`` is ``"<file>: <reason>"``."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # travels between processes (the worker runs items in a child)
        return type(self), (self.path, self.reason)


class NoFaceError(InputError):
    """No frame of a video holds a face the tracker can follow."""


class CheckpointError(InputError):
    """A model checkpoint is missing, corrupt or of the wrong architecture."""


class ParamsExist(InputError):
    """Saving would replace an existing parameter set; the caller asks the user, then passes ``replace``."""


class OptionsError(HeygemError, ValueError):
    """An option has a bad value. ``str(err)`` names the option and what is allowed."""

    def __init__(self, name: str, message: str):
        self.name = name
        self.message = message
        super().__init__(f"option {name!r}: {message}")

    def __reduce__(self):
        return type(self), (self.name, self.message)


class Cancelled(HeygemError):
    """The caller's ``should_stop`` hook asked the work to stop."""


class BatchFailed(HeygemError):
    """Some items of a batch failed; the others finished. ``failed`` lists the failed items."""

    def __init__(self, failed: list, total: int):
        self.failed = failed
        lines = "; ".join(i.describe_error() for i in failed)
        super().__init__(f"{len(failed)} of {total} items failed: {lines}")


class JobError(HeygemError):
    """A job or item named by the caller does not exist or cannot be changed now."""


class WorkerBusy(HeygemError):
    """Another worker already holds this workspace's lock."""

    def __init__(self, root: Path, pid: int | None):
        self.pid = pid
        super().__init__(f"{root}: a worker is already running for this workspace"
                         + (f" (pid {pid})" if pid else ""))


class StoreDamaged(HeygemError):
    """``jobs.sqlite`` is not a readable job store (empty, damaged, or some other file). It is never replaced
    silently: ``heygem doctor`` keeps it aside and rebuilds the store from the outputs on disk."""

    exit_code = 1       # a fault, not a mistake in the command

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        root = Path(path).parent
        super().__init__(f"{path}: {reason}; `heygem doctor --root-path {root}` checks it and rebuilds it from "
                         f"outputs/ (the damaged file is kept)")

    def __reduce__(self):
        return type(self), (self.path, self.reason)


class StoreReadOnly(HeygemError):
    """The workspace cannot be written: reading works (a snapshot), recording anything does not."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        super().__init__(f"{path}: the workspace is read-only; jobs and history can be read, nothing can be "
                         f"queued, changed or deleted")

    def __reduce__(self):
        return type(self), (self.path,)


class ItemCrashed(HeygemError):
    """The process running an item died (a signal or an exit) before it answered."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)

    def __reduce__(self):
        return type(self), (self.reason,)


class ItemError(HeygemError):
    """An item failed in another process or on another machine, and its own exception could not travel back
    as itself. ``str()`` is its one-line error; ``trace`` the traceback where it happened, when known."""

    def __init__(self, message: str, trace: str = ""):
        super().__init__(message)
        self.trace = trace

    def __reduce__(self):
        return type(self), (str(self), self.trace)
