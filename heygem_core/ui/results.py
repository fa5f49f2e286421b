"""A finished batch on the tab that queued it: a player per video (with its before/after view), "ZIP this
batch", and "again with a new speech track" (the same presenters and options, ready for another audio)."""
from __future__ import annotations

import html
import logging
import threading
from pathlib import Path
from typing import Callable

import ipywidgets as w

from ..jobs.records import DONE, FINISHED
from .compare import compare_button, template_poster
from .i18n import format_size, tr

log = logging.getLogger(__name__)


class JobResults:
    """``show(job, lang)`` renders the job's finished videos (hidden while none is done)."""

    def __init__(self, workspace, url_for: Callable[[str | None, str], str | None],
                 on_again: Callable[[object], None] | None = None):
        self.ws, self.url_for, self.on_again = workspace, url_for, on_again
        self.title = w.HTML()
        self.title.add_class("hg-section-title")
        self.grid = w.HTML()
        self.grid.add_class("hg-results-grid")
        self.zip_button = w.Button(icon="file-archive-o", layout=w.Layout(width="auto"))
        self.zip_button.add_class("hg-quiet")
        self.zip_button.add_class("hg-zip-batch")
        self.zip_button.on_click(lambda _: self.export())
        self.again_button = w.Button(icon="refresh", layout=w.Layout(width="auto"))
        self.again_button.add_class("hg-quiet")
        self.again_button.add_class("hg-again")
        self.again_button.on_click(lambda _: self._again())
        self.zip_link = w.HTML()
        self.zip_link.add_class("hg-zip-batch-link")
        actions = w.HBox([self.zip_button, self.again_button, self.zip_link],
                         layout=w.Layout(align_items="center", flex_flow="row wrap"))
        actions.add_class("hg-result-actions")
        self.widget = w.VBox([self.title, self.grid, actions], layout=w.Layout(display="none"))
        self.widget.add_class("hg-card")
        self.widget.add_class("hg-batch-results")
        self.job = None
        self._key: tuple | None = None
        self._zip_thread: threading.Thread | None = None

    def show(self, job, lang: str) -> None:
        done = [i for i in job.items if i.status == DONE and i.output] if job is not None else []
        finished = job is not None and all(i.status in FINISHED for i in job.items)
        key = (job.id if job else None, tuple(i.id for i in done), finished, lang)
        if key == self._key:
            return
        if job is None or self._key is None or self._key[0] != key[0]:
            self.zip_link.value = ""
        self._key, self.job = key, job
        if not done:
            self.widget.layout.display = "none"
            return
        self.title.value = html.escape(tr("batch_results", lang, ok=len(done), n=len(job.items)))
        loop_mode = (job.options or {}).get("loop_mode")
        self.grid.value = "".join(self._card(i, lang, loop_mode) for i in done)
        self.zip_button.description = tr("zip_batch", lang)
        self.again_button.description = tr("again_new_speech", lang)
        self.again_button.layout.display = "" if finished else "none"
        self.zip_button.layout.display = "" if finished else "none"
        self.widget.layout.display = ""

    def _card(self, item, lang: str, loop_mode: str | None) -> str:
        src = self.url_for(item.output, item.id) or ""
        poster = self.url_for(item.thumbnail, item.id)
        name = Path(item.output).name
        poster_attr = f' poster="{html.escape(poster)}"' if poster else ""
        compare = compare_button(self.url_for, item.video, item.output, item.id, lang=lang, loop_mode=loop_mode,
                                 poster=template_poster(self.ws, self.url_for, item.video))
        return (f'<figure class="hg-result-card"><video class="hg-video" controls preload="none" playsinline'
                f'{poster_attr} src="{html.escape(src)}"></video><figcaption><span class="hg-ellipsis" '
                f'title="{html.escape(name)}">{html.escape(name)}</span>{compare}<a class="hg-link" '
                f'href="{html.escape(src)}" download="{html.escape(name)}">⬇</a></figcaption></figure>')

    def export(self) -> threading.Thread | None:
        """Pack this batch's videos into a ZIP on a thread; the link appears when it is ready."""
        job = self.job
        if job is None:
            return None
        ids = [i.id for i in job.items if i.status == DONE and i.output]
        lang = self._key[3] if self._key else "en"
        self.zip_link.value = f'<span class="hg-muted">{html.escape(tr("zip_making", lang, n=len(ids)))}</span>'
        self._zip_thread = threading.Thread(target=self._export, args=(job.id, ids, lang), daemon=True,
                                            name="heygem-zip-batch")
        self._zip_thread.start()
        return self._zip_thread

    def _export(self, job_id: str, ids: list[str], lang: str) -> None:
        from .history import write_export

        try:
            path = write_export(self.ws, ids, f"_{job_id}")
            url = self.url_for(str(path), path.stem) or ""
            label = tr("zip_ready", lang, n=len(ids), size=format_size(path.stat().st_size))
            self.zip_link.value = (f'<a class="hg-link hg-primary" href="{html.escape(url)}" '
                                   f'download="{html.escape(path.name)}">{html.escape(label)}</a>')
        except Exception as exc:  # shown in the page, logged in full
            log.exception("ZIP export of job %s failed", job_id)
            self.zip_link.value = (f'<span class="hg-error">'
                                   f'{html.escape(tr("zip_failed", lang, msg=str(exc) or type(exc).__name__))}</span>')

    def _again(self) -> None:
        if self.job is not None and self.on_again is not None:
            self.on_again(self.job)
