"""The queue: every job running or waiting, in the order the worker takes them, with "move up" and "remove";
and the recent items that failed, each with "try again"."""
from __future__ import annotations

import html
import logging
import threading
import time

import ipywidgets as w

from ..jobs.records import FAILED, FINISHED, QUEUED, RUNNING
from .i18n import tr
from .progress import STATUS_ICON

log = logging.getLogger(__name__)

RECENT_JOBS = 20        # failed items are looked for in this many recent jobs


class QueuePanel:
    """``refresh()`` re-reads the store (cheap when nothing changed)."""

    def __init__(self, workspace, lang: str = "zh", on_change=None):
        self.ws, self.lang, self.on_change = workspace, lang, on_change
        self.title = w.HTML()
        self.title.add_class("hg-section-title")
        self.rows = w.VBox()
        self.rows.add_class("hg-queue")
        self.empty = w.HTML()
        self.empty.add_class("hg-hint")
        self.failed_title = w.HTML()
        self.failed_title.add_class("hg-section-title")
        self.failed = w.VBox()
        self.failed.add_class("hg-failed-list")
        self.message = w.HTML()
        self.message.add_class("hg-message")
        queue_card = w.VBox([self.title, self.message, self.empty, self.rows])
        queue_card.add_class("hg-card")
        self.failed_card = w.VBox([self.failed_title, self.failed], layout=w.Layout(display="none"))
        self.failed_card.add_class("hg-card")
        self.widget = w.VBox([queue_card, self.failed_card])
        self.widget.add_class("hg-queue-tab")
        self._key: tuple | None = None
        self._armed: dict[str, float] = {}      # job id → until when a second click removes it
        self._lock = threading.RLock()
        self.set_lang(lang)

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self.title.value = tr("queue_title", lang)
        self.failed_title.value = tr("failed_title", lang)
        self.empty.value = tr("queue_empty", lang)
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> bool:
        store = self.ws.store
        with self._lock:
            queue = store.queue()
            failed = [(job, item) for job in store.list_jobs(limit=RECENT_JOBS) for item in job.items
                      if item.status == FAILED]
            key = (tuple((j.id, tuple((i.id, i.status) for i in j.items)) for j in queue),
                   tuple(i.id for _, i in failed), self.lang)
            if key == self._key and not force:
                return False
            self._key = key
            old = list(self.rows.children) + list(self.failed.children)
            self.rows.children = [self._job_row(job, k, queue) for k, job in enumerate(queue)]
            self.failed.children = [self._failed_row(job, item) for job, item in failed]
            self.empty.layout.display = "none" if queue else ""
            self.failed_card.layout.display = "" if failed else "none"
            for row in old:
                _close(row)
            return True

    def _job_row(self, job, k: int, queue) -> w.Widget:
        running = any(i.status == RUNNING for i in job.items)
        items = " ".join(f'<span class="hg-queue-item hg-{i.status}" title="{html.escape(i.video_name)}">'
                         f'{STATUS_ICON.get(i.status, "")} {html.escape(i.video_name)}</span>' for i in job.items)
        state = tr(f"status_{RUNNING if running else QUEUED}", self.lang)
        text = w.HTML(f'<div class="hg-queue-head" data-job="{html.escape(job.id)}">'
                      f'<span class="hg-index">{k + 1}</span>'
                      f'<span class="hg-ellipsis hg-strong">♪ {html.escape(job.audio_name)}</span>'
                      f'<span class="hg-muted">{html.escape(tr("n_videos", self.lang, n=len(job.items)))} · '
                      f'{html.escape(state)}</span></div><div class="hg-queue-items">{items}</div>',
                      layout=w.Layout(flex="1 1 auto", min_width="0"))
        buttons = []
        waiting_before = [j for j in queue[:k] if not any(i.status == RUNNING for i in j.items)]
        if not running and waiting_before:
            up = w.Button(icon="arrow-up", tooltip=tr("move_up", self.lang), layout=w.Layout(width="auto"))
            up.description = tr("move_up", self.lang)
            up.add_class("hg-quiet")
            up.add_class("hg-move-up")
            up.on_click(lambda _, j=job.id: self._act(self.ws.store.move_up, j))
            buttons.append(up)
        remove = w.Button(icon="times", layout=w.Layout(width="auto"))
        remove.description = tr("stop_job" if running else "remove", self.lang)
        remove.add_class("hg-quiet")
        remove.add_class("hg-remove-job")
        left = sum(i.status not in FINISHED for i in job.items)
        remove.on_click(lambda _, j=job.id, b=remove, n=left: self._remove(j, b, n))
        buttons.append(remove)
        row = w.HBox([text, w.HBox(buttons, layout=w.Layout(flex="0 0 auto", align_items="center"))],
                     layout=w.Layout(align_items="center", width="100%"))
        row.add_class("hg-queue-row")
        return row

    def _failed_row(self, job, item) -> w.Widget:
        text = w.HTML(f'<div class="hg-queue-head"><span class="hg-ellipsis hg-strong">'
                      f'{html.escape(item.video_name)}</span><span class="hg-muted">♪ {html.escape(job.audio_name)}'
                      f'</span></div><details class="hg-why"><summary>{html.escape(tr("why", self.lang))}'
                      f'</summary>{html.escape(item.error or "")}</details>',
                      layout=w.Layout(flex="1 1 auto", min_width="0"))
        retry = w.Button(icon="repeat", layout=w.Layout(width="auto", flex="0 0 auto"))
        retry.description = tr("retry", self.lang)
        retry.add_class("hg-quiet")
        retry.add_class("hg-retry")
        retry.on_click(lambda _, i=item.id: self._act(self.ws.store.retry_item, i))
        row = w.HBox([text, retry], layout=w.Layout(align_items="center", width="100%"))
        row.add_class("hg-queue-row")
        return row

    def _remove(self, job_id: str, button: w.Button, left: int) -> None:
        """Take a job off the queue; one with more than one video left asks first (a second click)."""
        if left > 1 and self._armed.get(job_id, 0) < time.monotonic():
            self._armed[job_id] = time.monotonic() + 6
            button.description = tr("confirm_cancel", self.lang, n=left)
            button.button_style = "danger"
            return
        self._armed.pop(job_id, None)
        self._act(self.ws.store.cancel, job_id)

    def _act(self, action, key: str) -> None:
        try:
            action(key)
            self.message.value = ""
        except Exception as exc:    # the job may have moved on meanwhile: say so, keep going
            log.info("queue action on %s: %s", key, exc)
            self.message.value = f'<div class="hg-error">{html.escape(tr("error_generic", self.lang, msg=exc))}</div>'
        self.refresh(force=True)
        if self.on_change is not None:
            self.on_change()


def _close(widget: w.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close(child)
    widget.close()
