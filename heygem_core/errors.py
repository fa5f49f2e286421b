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
