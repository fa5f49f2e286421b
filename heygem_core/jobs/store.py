"""The job store: jobs, items, progress and history in one SQLite file shared by every process.

Pages, notebooks and the CLI enqueue and read; only the worker moves items through their states. SQLite in
WAL mode lets readers go on while the worker writes, every write is one short transaction, and a
``busy_timeout`` makes concurrent submitters wait their turn instead of failing. Each thread gets its own
connection (sqlite3 connections must not be shared between threads), opened on first use.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterable

from ..errors import JobError, StoreDamaged, StoreReadOnly
from ..options import LipSyncOptions
from .records import (DONE, FINISHED, PENDING, QUEUED, RUNNING, HistoryEntry, ItemRecord, JobRecord, job_status)
from .store_edits import StoreEdits
from .store_worker import WorkerSide
from .storefile import _json, connect, connect_read_only, create_store

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2     # 2: jobs.text (the script of the speech), items.host (the machine that runs or ran it)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT UNIQUE NOT NULL,
    created    REAL NOT NULL,
    audio      TEXT NOT NULL,
    audio_name TEXT NOT NULL,
    options    TEXT NOT NULL,
    text       TEXT
);
CREATE TABLE IF NOT EXISTS items (
    id         TEXT PRIMARY KEY,
    job_id     TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    video      TEXT NOT NULL,
    video_name TEXT NOT NULL,
    status     TEXT NOT NULL,
    stage      TEXT,
    done       INTEGER NOT NULL DEFAULT 0,
    total      INTEGER NOT NULL DEFAULT 0,
    percent    REAL NOT NULL DEFAULT 0,
    eta_s      REAL,
    error      TEXT,
    output     TEXT,
    thumbnail  TEXT,
    duration   REAL,
    engine     TEXT,
    score      TEXT,
    result     TEXT,
    started    REAL,
    finished   REAL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    stop       INTEGER NOT NULL DEFAULT 0,
    host       TEXT
);
CREATE INDEX IF NOT EXISTS items_job ON items(job_id, idx);
CREATE INDEX IF NOT EXISTS items_status ON items(status);
CREATE INDEX IF NOT EXISTS items_finished ON items(finished);
"""
# Columns added after a store was first made: added in place when an older store is opened.
_ADDED_COLUMNS = {"jobs": {"text": "TEXT"}, "items": {"host": "TEXT"}}


def _use_wal(con: sqlite3.Connection, patience_s: float = 30.0) -> None:
    """Switch the database to WAL. Two processes opening a new workspace at once can both try; SQLite may
    answer the loser "database is locked" straight away, without waiting on the busy timeout, so retry."""
    deadline = time.monotonic() + patience_s
    delay = 0.01
    while True:
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                con.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(0.2, delay * 2)


class JobStore(StoreEdits, WorkerSide):
    """Jobs and their items in ``path`` (an SQLite database), with paths stored relative to ``root``."""

    def __init__(self, path: str | Path, root: str | Path | None = None):
        self.path = Path(path).absolute()
        self.root = Path(root).absolute() if root is not None else self.path.parent
        self._local = threading.local()
        self.read_only = False      # set when the folder takes no writes: a snapshot is read instead
        self._init_schema()

    # -- connection ---------------------------------------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None or self._local.pid != os.getpid():   # a forked child must not reuse its parent's
            con = self._connect()
            self._local.con, self._local.pid = con, os.getpid()
        return con

    def _connect(self) -> sqlite3.Connection:
        con = None if self.read_only else connect(self.path)
        if con is None:         # the folder takes no writes: read the file as it stands
            self.read_only = True
            con = connect_read_only(self.path)
        con.row_factory = sqlite3.Row
        return con

    def _write(self):
        """A write transaction that takes the lock up front (no deadlock between two upgrading readers)."""
        if self.read_only:
            raise StoreReadOnly(self.path)
        return _Transaction(self._con())

    def _init_schema(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            create_store(self.path, _SCHEMA, SCHEMA_VERSION)
        else:
            if size == 0:   # never a store being made (see _create): what is left of a lost one
                raise StoreDamaged(self.path, "the job store is empty (0 bytes)")
        con = self._con()
        if self.read_only:
            if not 1 <= con.execute("PRAGMA user_version").fetchone()[0] <= SCHEMA_VERSION:
                raise StoreDamaged(self.path, "holds no job store")
            return
        _use_wal(con)
        if con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with self._write() as tx:
            tx.executescript_in_tx(_SCHEMA)
            for table, columns in _ADDED_COLUMNS.items():
                have = {r["name"] for r in tx.execute(f"PRAGMA table_info({table})").fetchall()}
                for name, kind in columns.items():
                    if name not in have:
                        tx.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def __getstate__(self):
        return {"path": self.path, "root": self.root}

    def __setstate__(self, state):
        self.path, self.root = state["path"], state["root"]
        self._local = threading.local()
        self.read_only = False

    # -- paths --------------------------------------------------------------------------------------------
    def _rel(self, path: str | Path | None) -> str | None:
        """Paths inside the workspace are stored relative to it, so a workspace can be moved."""
        if path is None:
            return None
        path = Path(path).absolute()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def _abs(self, text: str | None) -> str | None:
        if text is None:
            return None
        return str(self.root / text) if not os.path.isabs(text) else text

    # -- submitting ---------------------------------------------------------------------------------------
    def submit(self, audio: str | Path, videos: Iterable[str | Path],
               options: LipSyncOptions | dict | None = None, *, text: str | None = None) -> str:
        """Queue one audio + N videos with ``options`` (and the speech's script ``text``); returns the job's id.

        Raises ``InputError`` naming the first file that does not exist or holds no audio / video stream.
        """
        from .media import check_audio, check_video

        videos = [Path(v) for v in videos]
        if not videos:
            raise JobError("a job needs at least one video")
        audio = check_audio(audio)
        videos = [check_video(v) for v in videos]
        if options is None:
            options = LipSyncOptions()
        elif isinstance(options, dict):
            options = LipSyncOptions.from_dict(options)
        now = time.time()
        with self._write() as tx:
            job_id = self._new_id(tx)
            tx.execute("INSERT INTO jobs (id, created, audio, audio_name, options, text) VALUES (?, ?, ?, ?, ?, ?)",
                       (job_id, now, self._rel(audio), audio.name, json.dumps(options.to_dict()),
                        (text or "").strip() or None))
            tx.executemany(
                "INSERT INTO items (id, job_id, idx, video, video_name, status) VALUES (?, ?, ?, ?, ?, ?)",
                [(f"{job_id}-{i + 1}", job_id, i, self._rel(v), v.name, QUEUED) for i, v in enumerate(videos)])
        log.info("job %s queued: %s + %d video(s)", job_id, audio.name, len(videos))
        return job_id

    @staticmethod
    def _new_id(tx) -> str:
        while True:
            job_id = secrets.token_hex(4)
            if not tx.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone():
                return job_id

    # -- reading ------------------------------------------------------------------------------------------
    def get_job(self, job_id: str) -> JobRecord | None:
        row = self._con().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._jobs([row])[0] if row else None

    def list_jobs(self, limit: int | None = 50, *, status: str | None = None) -> list[JobRecord]:
        """Jobs newest first (optionally only those whose derived status is ``status``)."""
        rows = self._con().execute("SELECT * FROM jobs ORDER BY seq DESC" +
                                   (" LIMIT ?" if limit and not status else ""),
                                   (limit,) if limit and not status else ()).fetchall()
        jobs = self._jobs(rows)
        if status:
            jobs = [job for job in jobs if job.status == status][:limit]
        return jobs

    def active_job(self) -> JobRecord | None:
        """The job whose item is running, else the oldest job with an item waiting."""
        con = self._con()
        row = con.execute("SELECT job_id FROM items WHERE status = ? LIMIT 1", (RUNNING,)).fetchone()
        if row is None:
            row = con.execute(
                "SELECT i.job_id FROM items i JOIN jobs j ON j.id = i.job_id WHERE i.status IN (?, ?) "
                "ORDER BY j.seq, i.idx LIMIT 1", PENDING).fetchone()
        return self.get_job(row["job_id"]) if row else None

    def find_waiting(self, audio: str | Path, videos: Iterable[str | Path],
                     options: LipSyncOptions | dict | None = None) -> JobRecord | None:
        """A job not yet finished with exactly this audio, these videos (in order) and these options."""
        if isinstance(options, LipSyncOptions):
            options = options.to_dict()
        options = json.loads(json.dumps(options if options is not None else LipSyncOptions().to_dict()))
        videos = [self._rel(v) for v in videos]
        rows = self._con().execute(
            "SELECT DISTINCT j.* FROM jobs j JOIN items i ON i.job_id = j.id WHERE j.audio = ? AND i.status IN "
            "(?, ?, ?) ORDER BY j.seq", (self._rel(audio), RUNNING, *PENDING)).fetchall()
        for job in self._jobs(rows):
            if job.options == options and [self._rel(i.video) for i in job.items] == videos:
                return job
        return None

    def pending_count(self) -> int:
        """Items waiting for the worker."""
        return self._con().execute("SELECT COUNT(*) FROM items WHERE status IN (?, ?)", PENDING).fetchone()[0]

    def get_item(self, item_id: str) -> ItemRecord | None:
        row = self._con().execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return self._item(row) if row else None

    def resolve_job(self, text: str) -> str:
        """The id of the job ``text`` names: its full id or a unique prefix of it."""
        rows = self._con().execute("SELECT id FROM jobs WHERE id LIKE ? ESCAPE '\\'",
                                   (_like_prefix(text),)).fetchall()
        ids = [r["id"] for r in rows]
        if text in ids:
            return text
        if len(ids) == 1:
            return ids[0]
        raise JobError(f"no job {text!r}" if not ids else f"job id {text!r} is ambiguous: {', '.join(ids)}")

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        """Finished outputs, newest first."""
        sql = ("SELECT i.*, j.audio_name, j.options AS job_options FROM items i JOIN jobs j ON j.id = i.job_id "
               "WHERE i.status = ? ORDER BY i.finished DESC, i.rowid DESC")
        rows = self._con().execute(sql + (" LIMIT ?" if limit else ""),
                                   (DONE, limit) if limit else (DONE,)).fetchall()
        return [HistoryEntry(item_id=r["id"], job_id=r["job_id"], output=self._abs(r["output"]),
                             thumbnail=self._abs(r["thumbnail"]), duration=r["duration"],
                             audio_name=r["audio_name"], video_name=r["video_name"], engine=r["engine"],
                             options=json.loads(r["job_options"]), score=_json(r["score"]),
                             created=r["finished"], host=r["host"], video=self._abs(r["video"])) for r in rows]

    def _jobs(self, rows) -> list[JobRecord]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        items: dict[str, list[ItemRecord]] = {i: [] for i in ids}
        marks = ",".join("?" * len(ids))
        for row in self._con().execute(f"SELECT * FROM items WHERE job_id IN ({marks}) ORDER BY job_id, idx",
                                       ids):
            items[row["job_id"]].append(self._item(row))
        jobs = []
        for r in rows:
            its = items[r["id"]]
            status = job_status(its)
            started = [i.started for i in its if i.started]
            finished = [i.finished for i in its if i.finished]
            jobs.append(JobRecord(
                id=r["id"], status=status, created=r["created"], started=min(started) if started else None,
                finished=max(finished) if status in FINISHED and finished else None,
                audio=self._abs(r["audio"]), audio_name=r["audio_name"], options=json.loads(r["options"]),
                items=its))
        return jobs

    def _item(self, r: sqlite3.Row) -> ItemRecord:
        return ItemRecord(
            id=r["id"], job_id=r["job_id"], index=r["idx"], video=self._abs(r["video"]),
            video_name=r["video_name"], status=r["status"], stage=r["stage"], done=r["done"], total=r["total"],
            percent=r["percent"], eta_s=r["eta_s"], error=r["error"],
            output=self._abs(r["output"]) if r["status"] == DONE else None,
            thumbnail=self._abs(r["thumbnail"]), duration=r["duration"], engine=r["engine"],
            score=_json(r["score"]), result=_json(r["result"]), started=r["started"], finished=r["finished"],
            attempts=r["attempts"], host=r["host"])


class _Transaction:
    """``with`` block around BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self):
        self.con.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type, exc, tb):
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")
        return False

    def execute(self, sql, params=()):
        return self.con.execute(sql, params)

    def executemany(self, sql, rows):
        return self.con.executemany(sql, rows)

    def executescript_in_tx(self, script: str) -> None:
        # executescript() would COMMIT first; run the statements one by one inside this transaction.
        for statement in script.split(";"):
            if statement.strip():
                self.con.execute(statement)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
