"""A batch's report: the table (HTML, JSON) and the verdict (`raise_if_failed`)."""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ..errors import BatchFailed
from .plan import BatchPlan
from .run import BatchItem

#: Stem of the run's report files in the output folder: ``batch_report.ipynb`` and ``batch_report.json``.
REPORT_NAME = "batch_report"

COLUMNS = (("video", "video"), ("output", "output"), ("status", "status"), ("frames", "frames"),
           ("duration_s", "duration (s)"), ("time_s", "time taken (s)"), ("sync_r", "sync r"),
           ("lag_ms", "lag (ms)"), ("face_ratio", "frames with a face"), ("error", "error"))


def report_rows(items: list[BatchItem]) -> list[dict[str, Any]]:
    return [item.row() for item in items]


def report_html(items: list[BatchItem]) -> str:
    """The report table as HTML: one row per video, failed rows marked, a totals line under it."""
    def cell(key, value):
        if value is None:
            return "" if key == "error" else "–"
        if key == "face_ratio":
            return f"{100 * value:.0f}%"
        if key in ("video", "output"):
            return html.escape(Path(value).name)
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in COLUMNS)
    body = []
    for row in report_rows(items):
        style = "" if row["status"] == "done" else ' style="background:#fde8e8"'
        cells = "".join(f"<td>{cell(key, row[key])}</td>" for key, _ in COLUMNS)
        body.append(f'<tr class="item" data-status="{row["status"]}"{style}>{cells}</tr>')
    done = sum(item.ok for item in items)
    taken = sum(item.seconds or 0.0 for item in items)
    summary = f"{done} of {len(items)} videos done in {taken:.1f} s of generation"
    return (f'<table class="heygem-batch-report"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            f"</tbody></table><p>{html.escape(summary)}</p>")


def write_report(plan: BatchPlan, items: list[BatchItem], path: str | Path | None = None) -> Path:
    """The report as JSON (``<out_dir>/batch_report.json`` by default): the speech, options and rows."""
    path = Path(path) if path is not None else plan.out_dir / f"{REPORT_NAME}.json"
    data = {"audio": str(plan.audio), "options": plan.options.to_dict(), "out_dir": str(plan.out_dir),
            "done": sum(i.ok for i in items), "failed": sum(not i.ok for i in items),
            "items": report_rows(items)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def raise_if_failed(items: list[BatchItem]) -> None:
    """Raise `BatchFailed` when any item failed (the last cell of the batch notebook)."""
    failed = [item for item in items if not item.ok]
    if failed:
        raise BatchFailed(failed, len(items))
