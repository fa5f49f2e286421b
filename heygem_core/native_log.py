"""Keeping native libraries' start-up chatter off the user's terminal.

MediaPipe's C++ core writes notices ("Created TensorFlow Lite XNNPACK delegate", "Feedback manager
requires …") straight to file descriptor 2 before its logging can be configured, on the first run of each
graph. They mean nothing to a user, so graphs are warmed up while fd 2 points at /dev/null.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager


@contextmanager
def quiet_native_stderr():
    """Send fd 2 to /dev/null for the duration (Python's own stderr is flushed first and restored after)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):      # no usable fd 2 (e.g. a detached process): nothing to hide
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
