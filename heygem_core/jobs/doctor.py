"""`heygem doctor`: check a workspace's job store against the outputs on disk, and repair it.

    report = check_workspace("workspace", repair=True)

* A damaged, empty or foreign ``jobs.sqlite`` is moved aside (``jobs.sqlite.damaged-<time>``, never
  deleted) and a new store is made; the finished videos in outputs/ are then recorded again.
* A finished video in outputs/ that no record knows (the store was lost, or rebuilt) is recorded again as a
  history entry, with its thumbnail and length; which face and speech it came from is read off its name
  (``<video>__<audio>.mp4``), the options it was made with are unknown.
* History entries whose video is gone from disk are listed (`heygem history --delete ITEM` removes them).
* Leftovers of runs that died (hidden partial files, cache/work/) are removed.

Repairs need the workspace to itself: they refuse while a worker runs.
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HeygemError
from .lock import WorkerLock, worker_pid
from .records import DONE
from ..errors import StoreDamaged
from .workspace import Workspace

log = logging.getLogger(__name__)


class WorkspaceBusy(HeygemError):
    """A worker runs: the store cannot be repaired under it."""


@dataclass
class DoctorReport:
    """What `check_workspace` found (and did, when it repaired)."""

    root: Path
    store_problem: str | None = None          # why the store was unusable, if it was
    kept_as: Path | None = None               # where the damaged store was moved
    adopted: list[str] = field(default_factory=list)    # outputs recorded again
    missing: list[str] = field(default_factory=list)    # history items whose file is gone
    leftovers: list[str] = field(default_factory=list)  # partial files removed (or to remove)
    repaired: bool = False

    @property
    def healthy(self) -> bool:
        return not (self.store_problem or self.adopted or self.missing or self.leftovers)

    def lines(self) -> list[str]:
        verb = "" if self.repaired else "would be "
        out = []
        if self.store_problem:
            out.append(f"job store: {self.store_problem}")
            if self.kept_as:
                out.append(f"  kept the damaged store as {self.kept_as.name} and made a new one")
        else:
            out.append("job store: ok")
        out += [f"output {verb}recorded again: {name}" for name in self.adopted]
        out += [f"history entry whose file is gone: {item} (heygem history --delete {item})"
                for item in self.missing]
        out += [f"leftover {verb}removed: {name}" for name in self.leftovers]
        if self.healthy:
            out.append("nothing to repair")
        return out


def check_workspace(root: str | Path, *, repair: bool = True) -> DoctorReport:
    """Check (and with ``repair``, fix) the workspace at ``root``; see the module docstring."""
    ws = Workspace(root)
    report = DoctorReport(root=ws.root, repaired=repair)
    lock = WorkerLock(ws.lock_path)
    if repair and not lock.acquire():
        raise WorkspaceBusy(f"{ws.root}: a worker is running (pid {worker_pid(ws.root)}); stop it, then run "
                            f"heygem doctor again")
    try:
        store = _open_store(ws, report, repair)
        if store is None:       # damaged and only checking: nothing more can be read
            return report
        _check_outputs(ws, store, report, repair)
        _leftovers(ws, report, repair)
    finally:
        if repair:
            lock.release()
    return report


def _open_store(ws: Workspace, report: DoctorReport, repair: bool):
    from .store import JobStore

    problem, store = None, None
    try:
        store = JobStore(ws.db_path, ws.root)
        verdict = store._con().execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            problem = f"damaged ({verdict})"
    except StoreDamaged as exc:
        problem = exc.reason
    except sqlite3.DatabaseError as exc:
        problem = f"damaged ({exc})"
    if problem is None:
        return store
    report.store_problem = problem
    if not repair:
        return None
    if store is not None:
        store.close()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = ws.db_path.with_name(f"{ws.db_path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{ws.db_path}{suffix}")
        if src.exists():
            os.replace(src, Path(f"{kept}{suffix}"))
    report.kept_as = kept
    log.info("%s: %s; kept as %s, new store made", ws.db_path, problem, kept.name)
    return JobStore(ws.db_path, ws.root)


def _check_outputs(ws: Workspace, store, report: DoctorReport, repair: bool) -> None:
    known = set()
    for entry in store.history():
        known.add(Path(entry.output).resolve())
        if not Path(entry.output).is_file():
            report.missing.append(entry.item_id)
    recorded = {Path(store._abs(r["output"])).resolve() for r in store._con().execute(
        "SELECT output FROM items WHERE output IS NOT NULL AND status != ?", (DONE,))}
    for path in sorted(ws.outputs.glob("*.mp4")):
        if path.name.startswith(".") or path.resolve() in known or path.resolve() in recorded:
            continue
        report.adopted.append(path.name)
        if repair:
            thumb = ws.thumbnails / f"{path.stem}.jpg"
            store.adopt_output(path, thumbnail=thumb if thumb.is_file() else None, duration=_duration(path))


def _duration(path: Path) -> float | None:
    try:
        import av

        with av.open(str(path)) as c:
            return float(c.duration / 1_000_000) if c.duration else None
    except Exception:  # noqa: BLE001 - an unreadable file is still recorded; its length stays unknown
        return None


def _leftovers(ws: Workspace, report: DoctorReport, repair: bool) -> None:
    found = [p for folder in (ws.outputs, ws.thumbnails) for p in folder.iterdir()
             if p.name.startswith(".") and (p.name.endswith(".part.mp4") or p.name.endswith(".tmp"))]
    work = ws.cache / "work"
    if work.is_dir() and any(work.iterdir()):
        found.append(work)
    for path in found:
        report.leftovers.append(str(path.relative_to(ws.root)))
        if repair:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                path.mkdir(exist_ok=True)
            else:
                path.unlink(missing_ok=True)
