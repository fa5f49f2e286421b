"""Running one item: a plain function of its inputs, options and output path.

``run_item`` knows nothing about the worker loop, so any executor can call it: the worker process runs it
inline, and a Dask (or other) cluster can run it on a machine that sees the same workspace folder. Its hooks
(``ItemProgress``, ``StopCheck``) talk to the job store directly and can be pickled along with it.

Partial files never touch outputs/: the pipeline writes into cache/work/<item>/, the thumbnail and score are
made from that file, and only then is it renamed into outputs/ (same file system, so the rename is atomic).
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import Cancelled
from ..options import LipSyncOptions
from .media import write_thumbnail
from .records import item_percent
from .records import WorkItem
from .store import JobStore
from .workspace import Workspace

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.2   # ≤ 5 store writes per second per item: smooth bars, negligible cost
STOP_POLL_S = 0.2           # how stale a "cancel" may be when the pipeline asks


@dataclass(frozen=True)
class ItemOutcome:
    """What a successful run produced."""

    output: str
    thumbnail: str | None
    result: dict[str, Any]
    score: dict[str, Any] | None


def run_item(item: WorkItem, workspace: Workspace, on_progress: Callable | None = None,
             should_stop: Callable[[], bool] | None = None, *, session=None, score: bool = True) -> ItemOutcome:
    """Make ``item.output`` from ``item.audio`` + ``item.video`` with ``item.options``, then its thumbnail
    and (``score``) its sync score.

    ``session`` (a `LipSyncSession` for the item's speech and options) may be shared by the items of one job;
    without it one is made. Raises whatever ``generate`` raises (``Cancelled`` when ``should_stop`` says so);
    on any exception nothing is left behind.
    """
    report = on_progress or (lambda p: None)
    stop = should_stop or (lambda: False)
    session = session or item_session(item, workspace)
    final = Path(item.output)
    work = workspace.work_dir(item.id)
    partial = work / final.name
    try:
        result = session.generate(item.video, partial, on_progress=report, should_stop=stop)
        result_dict = _plain(result.to_dict())
        ratio = result_dict.get("face_ratio")
        if ratio is not None and ratio < 1.0:
            log.warning("no face found in %.0f%% of the frames of %s; those frames are left as they were",
                        100 * (1 - ratio), item.video_name)
        sync = None
        if score:
            measured, _ = session.try_score(partial, on_progress=report, should_stop=stop)
            sync = None if measured is None else _plain(measured.to_dict())
        if stop():
            raise Cancelled("stopped before the output was kept")
        thumb = workspace.thumbnails / f"{final.stem}.jpg"
        try:
            write_thumbnail(partial, thumb)
        except Exception:  # a missing thumbnail must not cost the result
            log.warning("no thumbnail for %s", final.name, exc_info=True)
            thumb = None
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, final)
        result_dict["output"] = str(final)
        return ItemOutcome(output=str(final), thumbnail=str(thumb) if thumb else None, result=result_dict,
                           score=sync)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def item_session(item: WorkItem, workspace: Workspace):
    """The `LipSyncSession` an item runs in: its speech and options, the workspace's track cache."""
    from ..session import LipSyncSession

    return LipSyncSession(item.audio, LipSyncOptions.from_dict(item.options), text=item.text,
                          track_cache=workspace.cache / "tracks")


def _plain(value):
    """JSON-friendly copy (paths and numpy scalars as plain values)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):          # numpy scalar
        return value.item()
    return str(value)


class ItemProgress:
    """``on_progress`` hook: turns ``Progress(stage, done, total)`` into throttled store writes with an ETA.

    Percent combines the stages (see ``records.STAGE_WEIGHTS``) and never goes backwards; stage changes are
    written at once and logged; other updates at most every ``interval`` seconds.
    """

    def __init__(self, store: JobStore, item_id: str, *, interval: float = PROGRESS_INTERVAL_S):
        self.store, self.item_id, self.interval = store, item_id, interval
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._stage: str | None = None
        self._percent = 0.0
        self._last = float("-inf")
        self.writes = 0

    def __getstate__(self):
        return {"store": self.store, "item_id": self.item_id, "interval": self.interval}

    def __setstate__(self, state):
        self.__init__(state["store"], state["item_id"], interval=state["interval"])

    def __call__(self, progress) -> None:
        stage, done, total = progress.stage, int(progress.done), int(progress.total)
        now = time.monotonic()
        with self._lock:
            self._percent = max(self._percent, item_percent(stage, done, total))
            new_stage = stage != self._stage
            if new_stage:
                log.info("stage %s started%s", stage, f" ({total} frames)" if total > 1 else "")
                self._stage = stage
            elif now - self._last < self.interval and not (total and done >= total):
                return      # a stage's last step is always written: a bar must not stop at 96 %
            self._last = now
            elapsed = now - self._t0
            frac = self._percent / 100.0
            eta = elapsed * (1.0 - frac) / frac if frac >= 0.02 else None
            self.store.set_progress(self.item_id, stage, done, total, round(self._percent, 2),
                                    round(eta, 1) if eta is not None else None)
            self.writes += 1


class StopCheck:
    """``should_stop`` hook: true once the item's cancel flag is set in the store (checked every ``interval``)."""

    def __init__(self, store: JobStore, item_id: str, *, interval: float = STOP_POLL_S):
        self.store, self.item_id, self.interval = store, item_id, interval
        self._last = float("-inf")
        self._stop = False

    def __getstate__(self):
        return {"store": self.store, "item_id": self.item_id, "interval": self.interval}

    def __setstate__(self, state):
        self.__init__(state["store"], state["item_id"], interval=state["interval"])

    def __call__(self) -> bool:
        if not self._stop:
            now = time.monotonic()
            if now - self._last >= self.interval:
                self._last = now
                self._stop = self.store.stop_requested(self.item_id)
        return self._stop
