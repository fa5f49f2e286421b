"""Live progress of a job, as the page shows it: a bar, the current item, i / N, its stage and the time left.

`job_view` turns a job record (read from the workspace) into what is shown; `ProgressPanel` shows it. The
panel is refreshed by the dashboard's poller, never by the worker, so any page, opened at any time, shows
the same progress.
"""
from __future__ import annotations

import html
import time
from dataclasses import dataclass, field

import ipywidgets as w

from ..jobs.records import CANCELLED, DONE, FAILED, INTERRUPTED, PENDING, QUEUED, RUNNING
from .i18n import format_duration, stage_label, tr

STATUS_ICON = {QUEUED: "○", INTERRUPTED: "○", RUNNING: "◐", DONE: "✓", FAILED: "✗", CANCELLED: "–"}


@dataclass(frozen=True)
class ItemLine:
    name: str
    status: str
    percent: float
    error: str | None = None


@dataclass(frozen=True)
class JobView:
    """What the progress panel shows for one job (or for none)."""

    state: str                      # idle | waiting | running | finished
    percent: float = 0.0            # the whole job, 0..100
    name: str = ""                  # current item's video name
    index: int = 0                  # 1-based position of the current item
    total: int = 0
    stage: str | None = None
    eta_s: float | None = None      # the whole job
    ok: int = 0
    cancelled: bool = False
    items: tuple[ItemLine, ...] = field(default_factory=tuple)


def job_view(job, now: float | None = None) -> JobView:
    """The view of ``job`` (a `JobRecord`, or None for nothing to show)."""
    if job is None:
        return JobView("idle")
    now = time.time() if now is None else now
    items = list(job.items)
    lines = tuple(ItemLine(i.video_name, i.status, _item_percent(i), i.error) for i in items)
    n = len(items)
    current = job.current_item
    percent = job.percent
    ok = sum(i.status == DONE for i in items)
    if current is None and not any(i.status in PENDING for i in items):
        return JobView("finished", 100.0, total=n, ok=ok, items=lines,
                       cancelled=any(i.status == CANCELLED for i in items))
    if current is None:
        nxt = next(i for i in items if i.status in PENDING)
        return JobView("waiting", percent, name=nxt.video_name, index=nxt.index + 1, total=n, ok=ok,
                       items=lines)
    waiting = sum(i.status in PENDING for i in items)
    return JobView("running", percent, name=current.video_name, index=current.index + 1, total=n,
                   stage=current.stage, eta_s=_eta(current, items, waiting, now), ok=ok, items=lines)


def _item_percent(item) -> float:
    if item is None:
        return 0.0
    if item.status == DONE:
        return 100.0
    return float(min(100.0, max(0.0, item.percent or 0.0)))


def _eta(current, items, waiting: int, now: float) -> float | None:
    """Time left for the job. Once an item has finished, the pace is the running mean of the finished items'
    seconds of work per second of output: the running item is expected to take that pace × its length (the
    worker's own estimate takes over when it runs past that), and each waiting item the same. Before that,
    the worker's estimate for the running item, and the running item's pace for the waiting ones."""
    done = [i for i in items if i.status == DONE and i.started and i.finished and (i.duration or 0) > 0]
    elapsed = max(0.0, now - current.started) if current.started else 0.0
    if done:
        pace = sum(i.finished - i.started for i in done) / sum(i.duration for i in done)
        length = sum(i.duration for i in done) / len(done)     # every output is as long as the speech
        expected = pace * length
        left = expected - elapsed
        if left <= 0 and current.eta_s is not None:
            left = current.eta_s
        return max(0.0, left) + waiting * expected
    if current.eta_s is None:
        return None
    per_item = elapsed + current.eta_s if current.started else current.eta_s
    return max(0.0, current.eta_s) + waiting * per_item


def status_text(view: JobView, lang: str, more_jobs: int = 0) -> str:
    """The one line under the bar (HTML)."""
    if view.state == "idle":
        return f'<span class="hg-muted">{tr("idle", lang)}</span>'
    if view.state == "finished":
        key = "job_cancelled" if view.cancelled and view.ok == 0 else "job_done"
        text = tr(key, lang, ok=view.ok, n=view.total)
        return f'<span class="hg-strong">{html.escape(text)}</span>'
    counter = tr("item_of", lang, i=view.index, n=view.total)
    parts = [f'<span class="hg-name">{html.escape(view.name)}</span>', html.escape(counter),
             f"{view.percent:.0f}%"]
    if view.state == "waiting":
        parts.append(tr("waiting", lang))
    else:
        if view.stage:
            parts.append(html.escape(stage_label(view.stage, lang)))
        parts.append(tr("eta", lang, t=format_duration(view.eta_s)) if view.eta_s is not None
                     else tr("eta_unknown", lang))
    if more_jobs:
        parts.append(tr("more_queued", lang, n=more_jobs))
    return " · ".join(parts)


def items_table(view: JobView, lang: str) -> str:
    """Each item of a job with its state (HTML); empty for a single-item job."""
    if len(view.items) < 2:
        errors = [line for line in view.items if line.error]
        return "".join(f'<div class="hg-error">✗ {html.escape(line.name)}: {html.escape(line.error)}</div>'
                       for line in errors)
    rows = []
    for line in view.items:
        state = tr(f"status_{line.status}", lang)
        pct = f"{line.percent:.0f}%" if line.status == RUNNING else ""
        err = f'<div class="hg-error">{html.escape(line.error)}</div>' if line.error else ""
        rows.append(f'<tr class="hg-item hg-{line.status}"><td>{STATUS_ICON.get(line.status, "")}</td>'
                    f'<td>{html.escape(line.name)}{err}</td><td>{html.escape(state)}</td><td>{pct}</td></tr>')
    return f'<table class="hg-items">{"".join(rows)}</table>'


class ProgressPanel:
    """Bar + status line + per-item table + cancel button. ``show(view, lang)`` changes only what changed."""

    def __init__(self, on_cancel=None):
        self.title = w.HTML()
        self.title.add_class("hg-section-title")
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=100.0, layout=w.Layout(width="100%"))
        self.bar.add_class("hg-bar")
        self.line = w.HTML()
        self.line.add_class("hg-progress-line")
        self.table = w.HTML()
        self.cancel_button = w.Button(icon="stop", layout=w.Layout(width="auto", display="none"))
        self.cancel_button.add_class("hg-quiet")
        if on_cancel is not None:
            self.cancel_button.on_click(lambda _: on_cancel())
        header = w.HBox([self.title, self.cancel_button], layout=w.Layout(justify_content="space-between",
                                                                          align_items="center"))
        self.widget = w.VBox([header, self.bar, self.line, self.table])
        self.widget.add_class("hg-card")
        self.widget.add_class("hg-progress")
        self._shown: tuple | None = None
        self.updates = 0  # how many times the shown state changed (for tests and the bench)

    def show(self, view: JobView, lang: str, more_jobs: int = 0) -> bool:
        """Bring the widgets up to ``view``; returns whether anything changed."""
        key = (view, lang, more_jobs)
        if key == self._shown:
            return False
        self._shown = key
        self.title.value = tr("progress", lang)
        self.cancel_button.description = tr("cancel", lang)
        self.cancel_button.layout.display = "" if view.state in ("running", "waiting") else "none"
        running = view.state in ("running", "waiting")
        if running != ("hg-running" in self.bar._dom_classes):   # stripes move while work is under way
            (self.bar.add_class if running else self.bar.remove_class)("hg-running")
        bar_style = {"finished": "success" if view.ok == view.total else "warning"}.get(view.state, "info")
        if self.bar.bar_style != bar_style:
            self.bar.bar_style = bar_style
        value = round(view.percent, 1)
        if self.bar.value != value:
            self.bar.value = value
        self._set(self.line, status_text(view, lang, more_jobs))
        self._set(self.table, items_table(view, lang))
        self.updates += 1
        return True

    @staticmethod
    def _set(widget, value: str) -> None:
        if widget.value != value:
            widget.value = value
