"""The job store as the worker uses it: recover after a crash, claim the next item, progress, finish."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from ..names import free_path, output_stem
from .records import CANCELLED, DONE, FAILED, INTERRUPTED, PENDING, RUNNING, WorkItem
from .storefile import _dump

log = logging.getLogger(__name__)


class WorkerSide:
    """`JobStore` methods the worker calls as it moves items through their states (mixed into `JobStore`)."""

    # -- the worker's side --------------------------------------------------------------------------------
    def recover(self, give_up_after: int | None = None) -> list[str]:
        """After a worker died: its running items become ``interrupted`` (or ``cancelled`` if asked to stop;
        ``failed`` once they have been started ``give_up_after`` times: an item that takes the worker down
        with it must not block the queue forever). Returns the items that run again."""
        now = time.time()
        with self._write() as tx:
            rows = tx.execute("SELECT id, stop, attempts FROM items WHERE status = ?", (RUNNING,)).fetchall()
            again = []
            for r in rows:
                if r["stop"]:
                    tx.execute("UPDATE items SET status = ?, finished = ?, eta_s = NULL WHERE id = ?",
                               (CANCELLED, now, r["id"]))
                elif give_up_after is not None and r["attempts"] >= give_up_after:
                    tx.execute("UPDATE items SET status = ?, finished = ?, eta_s = NULL, error = ? WHERE id = ?",
                               (FAILED, now, f"the worker stopped while this item ran, {r['attempts']} times; "
                                             "the queue went on without it", r["id"]))
                else:
                    again.append(r["id"])
                    tx.execute("UPDATE items SET status = ?, eta_s = NULL, "
                               "error = 'the worker stopped while this item ran; it runs again' WHERE id = ?",
                               (INTERRUPTED, r["id"]))
        return again

    def claim_next(self) -> WorkItem | None:
        """Mark the next waiting item running and return it (interrupted items first, then job order)."""
        with self._write() as tx:
            r = tx.execute(
                "SELECT i.*, j.audio, j.audio_name, j.options, j.text FROM items i JOIN jobs j ON j.id = i.job_id "
                "WHERE i.status IN (?, ?) ORDER BY i.status = ? DESC, j.seq, i.idx LIMIT 1",
                (*PENDING, INTERRUPTED)).fetchone()
            if r is None:
                return None
            output = r["output"] or self._rel(self._claim_output(tx, r["video_name"], r["audio_name"]))
            tx.execute("UPDATE items SET status = ?, started = ?, finished = NULL, stage = NULL, done = 0, "
                       "total = 0, percent = 0, eta_s = NULL, error = NULL, output = ?, "
                       "attempts = attempts + 1, stop = 0, host = NULL WHERE id = ?", (RUNNING, time.time(), output, r["id"]))
        return WorkItem(id=r["id"], job_id=r["job_id"], index=r["idx"], audio=self._abs(r["audio"]),
                        video=self._abs(r["video"]), audio_name=r["audio_name"], video_name=r["video_name"],
                        options=json.loads(r["options"]), output=self._abs(output), attempts=r["attempts"] + 1,
                        text=r["text"])

    def _claim_output(self, tx, video_name: str, audio_name: str) -> Path:
        """``outputs/<video>__<audio>.mp4``, with ``-2``, ``-3``… when that name is taken on disk or by a record."""
        return free_path(self.root / "outputs", output_stem(video_name, audio_name), taken=lambda path: bool(
            tx.execute("SELECT 1 FROM items WHERE output = ?", (self._rel(path),)).fetchone()))

    def set_progress(self, item_id: str, stage: str, done: int, total: int, percent: float,
                     eta_s: float | None) -> None:
        with self._write() as tx:
            tx.execute("UPDATE items SET stage = ?, done = ?, total = ?, percent = ?, eta_s = ? "
                       "WHERE id = ? AND status = ?", (stage, done, total, percent, eta_s, item_id, RUNNING))

    def set_host(self, item_id: str, host: str) -> None:
        """Record the machine (and cluster worker) that runs the item."""
        with self._write() as tx:
            tx.execute("UPDATE items SET host = ? WHERE id = ? AND status = ?", (host, item_id, RUNNING))

    def data_version(self) -> int:
        """Changes whenever another connection commits: a cheap "is there news?" check for polling."""
        return self._con().execute("PRAGMA data_version").fetchone()[0]

    def stop_requested(self, item_id: str) -> bool:
        row = self._con().execute("SELECT stop, status FROM items WHERE id = ?", (item_id,)).fetchone()
        return row is None or bool(row["stop"]) or row["status"] != RUNNING

    def finish_item(self, item_id: str, status: str, *, error: str | None = None,
                    result: dict[str, Any] | None = None, thumbnail: str | Path | None = None,
                    score: dict | None = None) -> None:
        """Record the end of a run: ``done`` with its result, or ``failed`` / ``cancelled`` / ``interrupted``."""
        result = result or {}
        now = time.time()
        with self._write() as tx:
            if status == DONE:
                tx.execute("UPDATE items SET status = ?, finished = ?, percent = 100, eta_s = 0, error = NULL, "
                           "duration = ?, engine = ?, score = ?, result = ?, thumbnail = ? WHERE id = ?",
                           (DONE, now, result.get("duration"), result.get("engine"), _dump(score),
                            _dump(result), self._rel(thumbnail), item_id))
            elif status == INTERRUPTED:
                tx.execute("UPDATE items SET status = ?, eta_s = NULL, error = ? WHERE id = ?",
                           (INTERRUPTED, error, item_id))
            elif status in (FAILED, CANCELLED):
                tx.execute("UPDATE items SET status = ?, finished = ?, eta_s = NULL, error = ? WHERE id = ?",
                           (status, now, error, item_id))
            else:
                raise ValueError(f"cannot finish an item as {status!r}")
