"""``cluster.json`` in the workspace: what a ``--dask`` worker tells the pages about its cluster.

The worker writes it once it holds the workspace's lock (scheduler address, Dask dashboard link, its pid) and
removes it when it leaves; a reader trusts it only while that pid still holds the lock, so a file left by a
worker that was killed says nothing.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..atomic_file import write_atomic
from .lock import worker_pid

CLUSTER_FILE = "cluster.json"


def write_cluster_file(root: str | Path, info: dict) -> Path:
    return write_atomic(Path(root) / CLUSTER_FILE, json.dumps(info).encode())


def read_cluster_file(root: str | Path) -> dict | None:
    """The workspace's cluster as its running worker described it, or None (no cluster worker runs)."""
    try:
        info = json.loads((Path(root) / CLUSTER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return info if worker_pid(root) == info.get("pid") else None
