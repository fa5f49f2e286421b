"""The job store's edits from the pages and the CLI: cancel, delete, reorder and retry, export, adopt."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Iterable

from ..errors import JobError
from .records import CANCELLED, DONE, FAILED, FINISHED, PENDING, QUEUED, RUNNING, JobRecord
from .storefile import _unlink

log = logging.getLogger(__name__)


class StoreEdits:
    """`JobStore` methods that change jobs on a person's request (mixed into `JobStore`)."""

    # -- cancelling and deleting --------------------------------------------------------------------------
    def cancel(self, job_id: str) -> None:
        """Cancel a job: waiting items at once, the running one within about a second (the worker stops it)."""
        with self._write() as tx:
            if not tx.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone():
                raise JobError(f"no job {job_id!r}")
            self._cancel(tx, "job_id = ?", job_id)
        log.info("job %s: cancel requested", job_id)

    def cancel_item(self, item_id: str) -> None:
        with self._write() as tx:
            if not tx.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone():
                raise JobError(f"no item {item_id!r}")
            self._cancel(tx, "id = ?", item_id)

    @staticmethod
    def _cancel(tx, where: str, key: str) -> None:
        tx.execute(f"UPDATE items SET status = ?, finished = ?, eta_s = NULL, error = NULL "
                   f"WHERE {where} AND status IN (?, ?)", (CANCELLED, time.time(), key, *PENDING))
        tx.execute(f"UPDATE items SET stop = 1 WHERE {where} AND status = ?", (key, RUNNING))

    # -- the queue ----------------------------------------------------------------------------------------
    def queue(self) -> list[JobRecord]:
        """Jobs with an item running or waiting, in the order the worker takes them."""
        rows = self._con().execute(
            "SELECT * FROM jobs WHERE id IN (SELECT job_id FROM items WHERE status IN (?, ?, ?)) ORDER BY seq",
            (RUNNING, *PENDING)).fetchall()
        return self._jobs(rows)

    def move_up(self, job_id: str) -> bool:
        """Let a waiting job go before the waiting job ahead of it; False when it is already first."""
        with self._write() as tx:
            rows = tx.execute(
                "SELECT seq, id FROM jobs WHERE id IN (SELECT job_id FROM items WHERE status IN (?, ?)) "
                "AND id NOT IN (SELECT job_id FROM items WHERE status = ?) ORDER BY seq",
                (*PENDING, RUNNING)).fetchall()
            ids = [r["id"] for r in rows]
            if job_id not in ids:
                raise JobError(f"job {job_id!r} is not waiting")
            k = ids.index(job_id)
            if k == 0:
                return False
            mine, theirs = rows[k]["seq"], rows[k - 1]["seq"]
            tx.execute("UPDATE jobs SET seq = -1 WHERE seq = ?", (mine,))
            tx.execute("UPDATE jobs SET seq = ? WHERE seq = ?", (mine, theirs))
            tx.execute("UPDATE jobs SET seq = ? WHERE seq = -1", (theirs,))
        log.info("job %s moved up", job_id)
        return True

    def retry_item(self, item_id: str) -> None:
        """Queue a failed or cancelled item again (it keeps its place in its job)."""
        with self._write() as tx:
            row = tx.execute("SELECT status FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise JobError(f"no item {item_id!r}")
            if row["status"] not in (FAILED, CANCELLED):
                raise JobError(f"item {item_id} is {row['status']}; only a failed or cancelled one runs again")
            tx.execute("UPDATE items SET status = ?, stage = NULL, done = 0, total = 0, percent = 0, eta_s = NULL, "
                       "error = NULL, started = NULL, finished = NULL, stop = 0 WHERE id = ?", (QUEUED, item_id))
        log.info("item %s queued again", item_id)

    def delete_entry(self, item_id: str) -> None:
        """Remove a finished item: its output, its thumbnail and its record (and the job once it is empty)."""
        with self._write() as tx:
            row = tx.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise JobError(f"no item {item_id!r}")
            if row["status"] not in FINISHED:
                raise JobError(f"item {item_id} is {row['status']}; cancel it first")
            tx.execute("DELETE FROM items WHERE id = ?", (item_id,))
            if not tx.execute("SELECT 1 FROM items WHERE job_id = ?", (row["job_id"],)).fetchone():
                tx.execute("DELETE FROM jobs WHERE id = ?", (row["job_id"],))
        # Files go after the record: a crash in between leaves a stray file, never an entry without its file.
        _unlink(self._abs(row["output"]))
        _unlink(self._abs(row["thumbnail"]))
        log.info("item %s deleted", item_id)

    def delete_job(self, job_id: str) -> None:
        """Remove every finished item of a job (see ``delete_entry``)."""
        job = self.get_job(job_id)
        if job is None:
            raise JobError(f"no job {job_id!r}")
        for item in job.items:
            self.delete_entry(item.id)

    def export_zip(self, out_path: str | Path, item_ids: Iterable[str] | None = None) -> Path:
        """Write the outputs of ``item_ids`` (default: the whole history) into a ZIP file, streamed to disk."""
        from .export import export_zip

        entries = self.history()
        if item_ids is not None:
            wanted = list(dict.fromkeys(item_ids))
            by_id = {e.item_id: e for e in entries}
            missing = [i for i in wanted if i not in by_id]
            if missing:
                raise JobError(f"no finished output {missing[0]!r}")
            entries = [by_id[i] for i in wanted]
        return export_zip(out_path, entries)

    def adopt_output(self, output: str | Path, *, thumbnail: str | Path | None = None,
                     duration: float | None = None) -> str:
        """Record a finished video found on disk with no record (`heygem doctor`): a job of one done item.
        Face and speech are read off its name (``<video>__<audio>.mp4``); its options are unknown (``{}``)."""
        output = Path(output)
        video, sep, audio = output.stem.partition("__")
        now = time.time()
        with self._write() as tx:
            job_id = self._new_id(tx)
            tx.execute("INSERT INTO jobs (id, created, audio, audio_name, options) VALUES (?, ?, ?, ?, ?)",
                       (job_id, now, "", audio if sep else "(unknown)", "{}"))
            tx.execute("INSERT INTO items (id, job_id, idx, video, video_name, status, output, thumbnail, "
                       "duration, percent, started, finished, attempts) "
                       "VALUES (?, ?, 0, '', ?, ?, ?, ?, ?, 100, ?, ?, 1)",
                       (f"{job_id}-1", job_id, video, DONE, self._rel(output), self._rel(thumbnail), duration,
                        output.stat().st_mtime, output.stat().st_mtime))
        log.info("recorded %s again as item %s-1", output.name, job_id)
        return job_id
