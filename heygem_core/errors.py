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
        super().__init__(f"option {name!r}: {message}")


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
