"""The dashboard: Single, Batch and History tabs over one workspace.

The page only enqueues jobs and reads the workspace; the worker process does the work. A poller thread in
the kernel reads the job store a few times a second and updates the widgets, so a reloaded page, a second
tab or a restarted server shows the same running job and the same history.
"""
from __future__ import annotations

import html
import logging
import os
import threading
import time
from pathlib import Path
from urllib.parse import quote

import ipywidgets as w

from ..errors import HeygemError, InputError, OptionsError
from ..jobs.cluster_file import read_cluster_file
from .cluster import cluster_html
from .compare import compare_button, template_poster
from .history import HistoryGallery
from .i18n import LANGS, normalise_lang, tr
from .inputs import MultiPicker, SinglePicker
from .memory import PageMemory, page_state, restore_page
from .options_panel import OptionsPanel
from .script_box import ScriptBox
from ..jobs.records import DONE, FINISHED, QUEUED, RUNNING
from .progress import ProgressPanel, job_view
from .queue_panel import QueuePanel
from .results import JobResults
from .server import DEFAULT_MAX_UPLOAD_MB, ENV_LANG, ENV_MAX_UPLOAD, ENV_ROOT, file_url
from .style import CSS

log = logging.getLogger(__name__)

POLL_S = 0.25          # progress refresh period: four times a second
HISTORY_EVERY = 4      # history re-read every 4th poll (once a second), and at once when a job finishes
UPLOADS_EVERY = 12     # upload lists re-read every 3 s (another page may have added files)


class Dashboard:
    """The whole page. ``widget`` is what the notebook displays."""

    def __init__(self, root: str | Path, *, lang: str = "zh", max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
                 base_url: str = "/", poll: bool = True):
        from ..jobs import Workspace

        self.ws = Workspace(root)
        self.lang = normalise_lang(lang)
        self.base_url = base_url or "/"
        self.limit_bytes = int(max_upload_mb * 1024 * 1024)
        self.followed_job: str | None = None     # the last job this page queued or saw running
        self.single_job: str | None = None
        self.batch_job: str | None = None
        self._confirm: tuple | None = None        # (what, until): an identical job is queued; asked once
        self._cancel_armed_until = 0.0
        self._shown_job: str | None = None
        self._finished_seen: tuple | None = None   # (job id, items finished) last shown
        self._stop = threading.Event()
        self._refresh_lock = threading.RLock()
        self._tick = 0
        self.poll_errors = 0

        limit = self.limit_bytes
        self.options = OptionsPanel(self.lang)
        self.script = ScriptBox(self.lang)
        self.progress = ProgressPanel(on_cancel=self.cancel)
        self.cluster_info = w.HTML()       # machines running the items, when the queue runs on a cluster
        # Single
        self.single_audio = SinglePicker(self.ws, "audio", limit_bytes=limit, lang=self.lang, title_key="audio",
                                         upload_key="upload_audio")
        self.single_video = SinglePicker(self.ws, "video", limit_bytes=limit, lang=self.lang, title_key="video",
                                         upload_key="upload_video")
        self.generate_button = w.Button(button_style="primary", icon="play")
        self.generate_button.add_class("hg-go")
        self.generate_button.add_class("hg-generate")
        self.generate_button.on_click(lambda _: self.submit_single())
        self.single_message = w.HTML()
        self.single_message.add_class("hg-action-message")
        self.result_title = w.HTML()
        self.result_title.add_class("hg-section-title")
        self.result = w.HTML()
        self.result_box = w.VBox([self.result_title, self.result], layout=w.Layout(display="none"))
        self.result_box.add_class("hg-card")
        self.result_box.add_class("hg-result")
        # Batch
        self.batch_audio = SinglePicker(self.ws, "audio", limit_bytes=limit, lang=self.lang, title_key="audio",
                                        upload_key="upload_audio")
        self.batch_videos = MultiPicker(self.ws, "video", limit_bytes=limit, lang=self.lang,
                                        title_key="videos", upload_key="upload_videos", url_for=self.url_for)
        self.batch_button = w.Button(button_style="primary", icon="play")
        self.batch_button.add_class("hg-go")
        self.batch_button.add_class("hg-start-batch")
        self.batch_button.on_click(lambda _: self.submit_batch())
        self.batch_message = w.HTML()
        self.batch_message.add_class("hg-action-message")
        self.batch_results = JobResults(self.ws, self.url_for, on_again=self.again_with_new_speech)
        # History
        self.history = HistoryGallery(self.ws, self.url_for, self.lang)
        self.queue = QueuePanel(self.ws, self.lang, on_change=self.refresh)

        self.options_title = w.HTML()
        self.options_title.add_class("hg-section-title")
        options_header = w.HBox([self.options_title, self.options.reset_button],
                                layout=w.Layout(justify_content="space-between", align_items="center"))
        options_card = w.VBox([options_header, self.options.widget, self.options.sets.save_row])
        options_card.add_class("hg-card")

        # Left: what goes in (files, options, the button); right: what comes out (progress, result).
        single = self._columns(
            [_card(self.single_audio.widget), _card(self.single_video.widget), self.script.widget, options_card,
             _actions(self.generate_button, self.single_message)],
            [self.progress.widget, self.cluster_info, self.result_box])
        batch = self._columns(
            [_card(self.batch_audio.widget), _card(self.batch_videos.widget), self.script.widget, options_card,
             _actions(self.batch_button, self.batch_message)],
            [self.progress.widget, self.cluster_info, self.batch_results.widget])
        self.batch_tab = batch
        self.tabs = w.Tab(children=[single, batch, self.history.widget, self.queue.widget])
        self.tabs.add_class("hg-tabs")
        self.tabs.observe(self._tab_changed, "selected_index")

        self.brand = w.HTML()
        self.brand.add_class("hg-brand")
        self.lang_switch = w.ToggleButtons(options=[("中文", "zh"), ("English", "en")], value=self.lang,
                                           style={"button_width": "78px"})
        self.lang_switch.add_class("hg-lang")
        self.lang_switch.observe(lambda ch: self.set_lang(ch["new"]), "value")
        header = w.HBox([self.brand, self.lang_switch])
        header.add_class("hg-header")
        self.memory = PageMemory(self.restore)
        self.widget = w.VBox([w.HTML(CSS), header, self.tabs, self.memory.widget])
        self.widget.add_class("hg-app")

        self.set_lang(self.lang)       # also shows the current job and the history
        self._poller = None
        if poll:
            self.start()

    # -- layout helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _columns(left: list, right: list) -> w.Box:
        a, b = w.VBox(left), w.VBox(right)
        a.add_class("hg-col")
        b.add_class("hg-col")
        box = w.HBox([a, b], layout=w.Layout(flex_flow="row wrap"))
        box.add_class("hg-columns")
        return box

    # -- language -----------------------------------------------------------------------------------------
    def set_lang(self, lang: str) -> None:
        lang = lang if lang in LANGS else normalise_lang(lang)
        self.lang = lang
        for other in LANGS:        # the page's own scripts read the language from this class
            (self.widget.add_class if other == lang else self.widget.remove_class)(f"hg-lang-{other}")
        if self.lang_switch.value != lang:
            self.lang_switch.value = lang
        self.brand.value = f"<h1>{html.escape(tr('title', lang))}</h1><p>{html.escape(tr('subtitle', lang))}</p>"
        self.tabs.titles = (tr("tab_single", lang), tr("tab_batch", lang), tr("tab_history", lang),
                            tr("tab_queue", lang))
        self.options_title.value = tr("options", lang)
        self.options.set_lang(lang)
        self.script.set_lang(lang)
        for picker in (self.single_audio, self.single_video, self.batch_audio, self.batch_videos):
            picker.set_lang(lang)
        self.generate_button.description = tr("generate", lang)
        self.batch_button.description = tr("start_batch", lang)
        self.result_title.value = tr("result", lang)
        self.history.set_lang(lang)
        self.queue.set_lang(lang)
        self._render_result()
        self.refresh()

    # -- files --------------------------------------------------------------------------------------------
    def url_for(self, path: str | None, version: str = "") -> str | None:
        """Browser address of a workspace file the server shows (outputs, thumbnails, exports)."""
        if not path:
            return None
        url = file_url(Path(path), self.ws.root, self.base_url)
        return f"{url}?v={quote(version)}" if url and version else url

    # -- actions ------------------------------------------------------------------------------------------
    def submit_single(self) -> str | None:
        audio, video = self.single_audio.path, self.single_video.path
        if self.single_audio.box.busy or self.single_video.box.busy:
            return self._say(self.single_message, tr("busy_checking", self.lang), error=True)
        if audio is None:
            return self._say(self.single_message, tr("need_audio", self.lang), error=True)
        if video is None:
            return self._say(self.single_message, tr("need_video", self.lang), error=True)
        job_id = self._submit(audio, [video], self.single_message, self.generate_button)
        if job_id:
            self.single_job = job_id
            self._render_result()
        return job_id

    def submit_batch(self) -> str | None:
        audio, videos = self.batch_audio.path, self.batch_videos.paths
        if self.batch_audio.box.busy or self.batch_videos.box.busy:
            return self._say(self.batch_message, tr("busy_checking", self.lang), error=True)
        if audio is None:
            return self._say(self.batch_message, tr("need_audio", self.lang), error=True)
        if not videos:
            return self._say(self.batch_message, tr("need_videos", self.lang), error=True)
        job_id = self._submit(audio, videos, self.batch_message, self.batch_button)
        if job_id:
            self.batch_job = job_id
            self.batch_results.show(None, self.lang)
        return job_id

    def _submit(self, audio: Path, videos: list[Path], message: w.HTML, button: w.Button) -> str | None:
        """Queue a job; the button stays disabled meanwhile (a second click cannot queue it twice)."""
        if button.disabled:
            return None
        button.disabled = True
        try:
            return self._queue(audio, videos, message)
        finally:
            button.disabled = False

    def _queue(self, audio: Path, videos: list[Path], message: w.HTML) -> str | None:
        try:
            options = self.options.options()
        except OptionsError as exc:
            return self._say(message, tr("bad_option", self.lang, msg=str(exc)), error=True)
        what = (str(audio), tuple(map(str, videos)), repr(sorted(options.to_dict().items())))
        try:
            twin = self.ws.store.find_waiting(audio, videos, options)
        except Exception:
            log.exception("looking for an identical queued job failed")
            twin = None
        asked = self._confirm is not None and self._confirm[0] == what and time.monotonic() < self._confirm[1]
        if twin is not None and not asked:      # ask once; the same click again within a minute goes ahead
            self._confirm = (what, time.monotonic() + 60)
            done = sum(i.status in FINISHED for i in twin.items)
            return self._say(message, tr("already_queued", self.lang, done=done, n=len(twin.items)), error=True)
        self._confirm = None
        try:
            job_id = self.ws.store.submit(audio, videos, options, text=self.script.text)
        except InputError as exc:       # name the file as the person knows it, not its workspace path
            return self._say(message, tr("submit_failed", self.lang, msg=f"{Path(exc.path).name}: {exc.reason}"),
                             error=True)
        except HeygemError as exc:
            return self._say(message, tr("submit_failed", self.lang, msg=str(exc)), error=True)
        except Exception as exc:
            log.exception("submitting a job failed")
            return self._say(message, tr("submit_failed", self.lang, msg=str(exc) or type(exc).__name__),
                             error=True)
        self.followed_job = job_id
        self._say(message, tr("queued", self.lang, n=len(videos)), scroll=True)
        self._ensure_worker()
        self.refresh()
        return job_id

    def _ensure_worker(self) -> None:
        """The server starts the worker; start one again if it has gone (it runs in its own session)."""
        try:
            from ..jobs import ensure_worker

            ensure_worker(self.ws.root)
        except Exception:
            log.exception("could not start the worker")

    def cancel(self) -> None:
        """Cancel the job on show; a job with more than one video waiting or running asks first."""
        if not self._shown_job:
            return
        job = self.ws.store.get_job(self._shown_job)
        left = sum(i.status not in FINISHED for i in job.items) if job else 0
        if left > 1 and time.monotonic() > self._cancel_armed_until:
            self._cancel_armed_until = time.monotonic() + 6
            self._label_cancel()
            return
        self._cancel_armed_until = 0.0
        if self._shown_job:
            try:
                self.ws.store.cancel(self._shown_job)
            except HeygemError as exc:
                log.warning("cancel %s: %s", self._shown_job, exc)
            self.refresh()

    def _label_cancel(self) -> None:
        button = self.progress.cancel_button
        if time.monotonic() < self._cancel_armed_until:
            job = self.ws.store.get_job(self._shown_job) if self._shown_job else None
            left = sum(i.status not in FINISHED for i in job.items) if job else 0
            text, style = tr("confirm_cancel", self.lang, n=left), "danger"
        else:
            text, style = tr("cancel", self.lang), ""
        if button.description != text:
            button.description, button.button_style = text, style

    def again_with_new_speech(self, job) -> None:
        """The same presenters and options as ``job``, ready for another speech track (the Batch tab; the
        speech and its script cleared)."""
        videos = [Path(i.video) for i in job.items]
        self.batch_videos.set_paths(videos)
        self.batch_audio.choose(None)
        self.script.area.value = ""
        self.options.set_values(job.options)
        self.tabs.selected_index = 1
        self._say(self.batch_message, tr("again_ready", self.lang, n=len(self.batch_videos.paths)))

    @staticmethod
    def _say(widget: w.HTML, text: str, *, error: bool = False, scroll: bool = False) -> None:
        cls = "hg-error" if error else "hg-note"
        mark = ' data-scroll="progress"' if scroll else ""
        widget.value = f'<div class="{cls}"{mark}>{html.escape(text)}</div>' if text else ""
        return None

    # -- refreshing ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the job under way (or the last one this page queued) as it is in the workspace now."""
        with self._refresh_lock:
            self._refresh()

    def _refresh(self) -> None:
        store = self.ws.store
        job = store.active_job()
        if job is not None:
            self.followed_job = job.id       # once seen, a job stays on show (with its outcome) until the next
        elif self.followed_job:
            job = store.get_job(self.followed_job)
        self._shown_job = job.id if job is not None else None
        more = 0
        if job is not None and job.status in (RUNNING, QUEUED):
            more = sum(1 for j in store.list_jobs(limit=20)
                       if j.id != job.id and j.status in (QUEUED, RUNNING))
        view = job_view(job)
        self.progress.show(view, self.lang, more)
        self.cluster_info.value = cluster_html(job, read_cluster_file(self.ws.root), self.lang)
        self._label_cancel()
        if self.batch_job:
            self.batch_results.show(job if job is not None and job.id == self.batch_job
                                    else store.get_job(self.batch_job), self.lang)
        finished = sum(1 for i in job.items if i.status in FINISHED) if job else 0
        key = (job.id if job else None, finished)
        if key != self._finished_seen:       # an item just finished: show it in History without waiting
            self._finished_seen = key
            self.history.refresh()
            self._render_result()

    def _render_result(self) -> None:
        if not self.single_job:
            return
        job = self.ws.store.get_job(self.single_job)
        item = job.items[0] if job and job.items else None
        if item is None or item.status != DONE or not item.output:
            self.result_box.layout.display = "none"
            return
        src = self.url_for(item.output, item.id)
        name = Path(item.output).name
        value = (f'<video class="hg-video" controls preload="metadata" playsinline src="{html.escape(src)}"'
                 f' poster="{html.escape(self.url_for(item.thumbnail, item.id) or "")}"></video>'
                 f'<div class="hg-result-actions"><a class="hg-link" href="{html.escape(src)}" '
                 f'download="{html.escape(name)}">⬇ {tr("download", self.lang)} {html.escape(name)}</a>'
                 + compare_button(self.url_for, item.video, item.output, item.id, lang=self.lang,
                                  loop_mode=(job.options or {}).get("loop_mode"),
                                  poster=template_poster(self.ws, self.url_for, item.video)) + '</div>')
        self.result.value = value
        self.result_box.layout.display = ""

    # -- remembered per browser (memory.py) ---------------------------------------------------------------
    def page_state(self) -> dict:
        return page_state(self)

    def restore(self, state: dict) -> None:
        restore_page(self, state)

    def _tab_changed(self, change) -> None:
        if change["new"] == 2:
            self.history.refresh()
        elif change["new"] == 3:
            self.queue.refresh()

    def poll_once(self) -> None:
        """One poller step: progress always, history, upload lists and parameter sets now and then."""
        self._tick += 1
        self.refresh()
        self.memory.heartbeat()
        self.memory.save(self.page_state())
        if self._tick % HISTORY_EVERY == 0:
            self.history.refresh()
            if self.tabs.selected_index == 3:
                self.queue.refresh()
        if self._tick % UPLOADS_EVERY == 0:
            for picker in (self.single_audio, self.single_video, self.batch_audio, self.batch_videos):
                picker.refresh()
            self.options.sets.refresh()      # a set saved by another page or the tuning notebook

    # -- poller -------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._poller is None or not self._poller.is_alive():
            self._stop.clear()
            self._poller = threading.Thread(target=self._poll_loop, name="heygem-poller", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(5)

    def _poll_loop(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.poll_once()
            except Exception:  # keep polling: a locked database or a vanished file is transient
                self.poll_errors += 1
                if self.poll_errors <= 3 or self.poll_errors % 100 == 0:
                    log.exception("dashboard refresh failed (%d)", self.poll_errors)
                time.sleep(1.0)


def _card(child: w.Widget) -> w.Box:
    box = w.VBox([child])
    box.add_class("hg-card")
    return box


def _actions(button: w.Button, message: w.HTML) -> w.Box:
    box = w.HBox([button, message], layout=w.Layout(align_items="center"))
    box.add_class("hg-actions")
    return box


def app(root: str | Path | None = None, *, lang: str | None = None, max_upload_mb: float | None = None) -> None:
    """Build and display the dashboard (what `dashboards/heygem.ipynb` runs). Settings default to the
    environment the server sets: `HEYGEM_ROOT`, `HEYGEM_LANG`, `HEYGEM_MAX_UPLOAD_MB`."""
    from IPython.display import display

    root = root or os.environ.get(ENV_ROOT) or "workspace"
    lang = lang or os.environ.get(ENV_LANG) or "zh"
    limit = max_upload_mb or float(os.environ.get(ENV_MAX_UPLOAD) or DEFAULT_MAX_UPLOAD_MB)
    dashboard = Dashboard(root, lang=lang, max_upload_mb=limit, base_url=os.environ.get("VOILA_BASE_URL", "/"))
    display(dashboard.widget)
