"""The live log, logs/heygem.log: what the worker and the app are doing, for ``tail -f`` and for bug reports.

Every line carries the time, level, process id and the job / item being worked on (set by the worker around
each item, so messages from deep inside the pipeline, such as frames without a face, say which item they
belong to). Full stack traces go here; users see one-line messages.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import logging.handlers
import os
from pathlib import Path

FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s [%(process)d] %(context)s %(name)s: %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3

_context: contextvars.ContextVar[str] = contextvars.ContextVar("heygem_log_context", default="-")


@contextlib.contextmanager
def log_context(job_id: str | None = None, item_id: str | None = None):
    """Tag every log line emitted inside the block with the job and item ids."""
    parts = [p for p in (f"job={job_id}" if job_id else "", f"item={item_id}" if item_id else "") if p]
    token = _context.set(" ".join(parts) or "-")
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.context = _context.get()
        return True


def configure_log(workspace, level: int = logging.INFO, *, max_bytes: int = MAX_BYTES,
                  backups: int = BACKUPS) -> logging.Handler:
    """Send the package's log records to ``<workspace>/logs/heygem.log`` (rotated by size); idempotent.

    ``workspace`` is a ``Workspace`` or its root folder. Returns the handler.
    """
    root = Path(workspace if isinstance(workspace, (str, os.PathLike)) else workspace.root)
    path = (root / "logs" / "heygem.log").absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("heygem_core")
    for handler in logger.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == path:
            return handler
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT, DATEFMT))
    handler.addFilter(_ContextFilter())
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler
