"""Keeping a long-lived worker's memory flat, item after item.

Each item builds and tears down MediaPipe graphs (with their own threads) and decodes, warps and encodes
frames. Left to the defaults, a worker grows by tens of MB per item: glibc spreads freed memory over up to
eight malloc arenas per core and keeps it, and the graphs sit in reference cycles until a full collection.
Two arenas, a garbage collection and ``malloc_trim`` after each item keep the process flat.

A full collection costs a few hundred milliseconds once the first item has imported the heavy libraries
(every module object is rescanned). So after the first item the survivors are frozen instead (later
collections skip them and take milliseconds), and the one full collection that releases the first item's
cycles waits until the queue is empty, when nobody waits for it.
"""
from __future__ import annotations

import ctypes
import functools
import gc

_M_ARENA_MAX = -8           # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3


@functools.lru_cache(maxsize=1)
def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:         # not glibc: nothing to tune
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def trim() -> None:
    """Hand free heap memory back to the system."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


class MemoryKeeper:
    """Call ``after_item()`` after each item and ``when_idle()`` when the queue is empty."""

    def __init__(self, arenas: int = 2, mmap_threshold: int | None = 256 * 1024):
        libc = _libc()
        if libc is not None:
            libc.mallopt(_M_ARENA_MAX, arenas)
            if mmap_threshold:
                # A fixed threshold stops glibc from raising it after the first large free: frame-sized
                # buffers then come from mmap and go back to the system the moment they are freed.
                libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
        self._frozen = False
        self._deferred = False

    def after_item(self) -> None:
        if not self._frozen:
            gc.freeze()
            self._frozen = self._deferred = True
        else:
            gc.collect()
        trim()

    def when_idle(self) -> None:
        if self._deferred:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            trim()
            self._deferred = False
