"""Opening ``jobs.sqlite``: made complete or not at all, damage reported (never papered over), and a
read-only workspace still readable.

A new store is written under a private name and linked into place, so a 0-byte or half-made
``jobs.sqlite`` can only be damage; SQLite's own words for damage and for a read-only file become errors
that name the file and say what to do.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

from ..errors import StoreDamaged, StoreReadOnly

log = logging.getLogger(__name__)


_DAMAGE = ("malformed", "not a database", "encrypted", "corrupt", "disk i/o error")


class _Connection(sqlite3.Connection):
    """Turns SQLite's words for a damaged or read-only store into errors that name the file."""

    store_path: Path | None = None

    def execute(self, sql, params=()):
        try:
            return super().execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise _translate(exc, self.store_path) from None

    def executemany(self, sql, rows):
        try:
            return super().executemany(sql, rows)
        except sqlite3.DatabaseError as exc:
            raise _translate(exc, self.store_path) from None


def _translate(exc: sqlite3.DatabaseError, path: Path | None) -> Exception:
    text = str(exc).lower()
    if path is not None and any(word in text for word in _DAMAGE):
        return StoreDamaged(path, f"the job store is damaged ({exc})")
    if path is not None and ("readonly" in text or "read-only" in text):
        return StoreReadOnly(path)
    return exc


def connect(path: Path) -> sqlite3.Connection | None:
    """A read-write connection to the store at ``path``; None when its folder takes no writes (then use
    `connect_read_only`)."""
    con = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False, factory=_Connection)
    con.store_path = path
    try:
        con.execute("PRAGMA busy_timeout = 30000")
        con.execute("PRAGMA synchronous = NORMAL")   # WAL + NORMAL: durable across process crashes
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA user_version").fetchone()   # opens the file (and the WAL index)
        return con
    except (sqlite3.OperationalError, StoreReadOnly):
        con.close()
        if os.access(path.parent, os.W_OK):
            raise
        return None


def connect_read_only(path: Path) -> sqlite3.Connection:
    """The store as it stands in its file. SQLite cannot make the WAL index in a read-only folder, so it
    reads the main file only: what the last worker checkpointed (it does so when it closes)."""
    log.info("%s: read-only workspace, reading the job store as it stands", path)
    uri = "file:" + quote(str(path)) + "?mode=ro&immutable=1"
    con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, factory=_Connection)
    con.store_path = path
    return con


def create_store(path: Path, schema: str, version: int) -> None:
    """Make a new store at ``path`` with ``schema`` under a private name, then link it into place complete.
    Two processes creating the same workspace at once: the first link wins, the other uses it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("BEGIN IMMEDIATE")
            for statement in schema.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(f"PRAGMA user_version = {version}")
            con.execute("COMMIT")
        finally:
            con.close()         # the last connection checkpoints: everything is in the main file
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:         # a file system without hard links
            if not path.exists():
                os.rename(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


# -- values in and out of rows -------------------------------------------------------------------------

def _json(text: str | None):
    return json.loads(text) if text else None


def _dump(value) -> str | None:
    return json.dumps(value, default=str) if value is not None else None


def _unlink(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove %s: %s", path, exc)
