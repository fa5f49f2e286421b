"""The tuning notebook's interface (ipywidgets): media and the speech's script, the options panel, previews of
any moment in a side-by-side player with the pictures that explain them (one cursor: a click on a curve goes
there), parameter sets, and sending the settings to a batch.

    app = TuningApp("builtin:speech", "builtin:clip", text="Peter bought a map.")   # paths: here, then the project
    display(app)            # in JupyterLab
    preview = app.render()  # what the Preview button does (the button renders on a thread)
    app.save("mine")        # ~/.config/heygem/params/mine.yaml; app.load("mine") puts it back
    app.send_to_batch("mine", [a, b, c])   # saved as the set "mine", queued as one job in the workspace

Previews, built-in media and uploads go to the workspace (``project.workspace_dir()``); the computing is in
``tuning.session``, the pictures in ``heygem_core.plots``, the player in ``tuning.player``: this module only
wires them up.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

import ipywidgets as W

from . import params as sets
from .player import Player
from .session import Preview, TuningSession
from .sets_panel import SetsPanel, error_html, note
from .words import tr
from .. import plots, project
from ..errors import HeygemError, InputError, OptionsError, ParamsExist
from ..media.files import IMAGE_EXTS, SOUND_EXTS, VIDEO_EXTS
from ..options import LipSyncOptions
from ..ui.options_panel import OptionsPanel
from ..ui.script_box import ScriptBox

log = logging.getLogger(__name__)

MEDIA_EXTS = SOUND_EXTS + VIDEO_EXTS + IMAGE_EXTS
_lines = "<div style='line-height:1.4;margin:0.3em 0'>{}</div>".format     # a note that may wrap, as text


def script_text(value: str | Path | None) -> str | None:
    """The speech's script: ``value`` itself, or the text of the ``.txt`` file it names (looked for in the
    current folder, then the project)."""
    from ..batch.plan import script_text as words

    text = str(value or "").strip()
    if text.lower().endswith(".txt") and "\n" not in text:
        value = project.resolve(text)
    return words(value)
DEBOUNCE_S = 0.6
_STYLE = {"description_width": "8em"}


class TuningApp:
    """The tuning notebook's interface. ``audio`` and ``video`` are paths or built-in media (``builtin:speech``,
    ``builtin:clip``, ``builtin:photo``); ``workspace`` defaults to the project's. ``start``: where previews
    start, in seconds of the result (None: a lively stretch). ``text``: the speech's script (its words, or a
    ``.txt`` file), for the script box; previews and full renders use what the box holds."""

    def __init__(self, audio: str | Path = "builtin:speech", video: str | Path = "builtin:clip", *,
                 workspace: str | Path | None = None, work_dir: str | Path | None = None,
                 params_dir: str | Path | None = None, options: LipSyncOptions | None = None,
                 seconds: float = 2.0, start: float | None = None, text: str | Path | None = None,
                 lang: str = "en"):
        from ..batch import resolve_media
        from ..jobs.workspace import Workspace

        self.lang = lang
        self.workspace = Workspace(workspace if workspace is not None else project.workspace_dir())
        self.work_dir = (project.resolve(work_dir, must_exist=False) if work_dir is not None
                         else self.workspace.root / "tuning")
        self.media_dir = self.work_dir / "media"
        self.params_dir = Path(params_dir).expanduser() if params_dir else None   # None: the user's folder
        audio = resolve_media(project.resolve(audio), self.media_dir)
        video = resolve_media(project.resolve(video), self.media_dir)
        self._given = {Path(audio), Path(video)}
        self._session: TuningSession | None = None
        self.preview: Preview | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._showing = False       # set while the app moves its own controls
        self._generation = 0        # counts changes of what a preview depends on
        self._following_player = False   # set while the frame follows the player (no seek back)
        self._refreshing = False         # set while the media lists are filled
        self.start_worker = True         # queued work starts the workspace's worker unless one runs

        def control(cls, key, **kw):
            return cls(description=tr(key, lang), tooltip=tr(f"{key}_tip", lang), style=_STYLE, **kw)

        self.panel = OptionsPanel(lang, initial=options, params_dir=self.params_dir)
        self.panel.sections.selected_index = 1          # the mouth: what one tunes most
        self.audio_pick = control(W.Dropdown, "speech", layout=W.Layout(width="30em"))
        self.video_pick = control(W.Dropdown, "face", layout=W.Layout(width="30em"))
        self.upload = W.FileUpload(accept=",".join(MEDIA_EXTS), multiple=True, description=tr("upload", lang),
                                   tooltip=tr("upload_tip", lang))
        self.script = ScriptBox(lang)           # the dashboard's script box: the same words, the same rule
        self.script.area.continuous_update = False
        self.script.area.value = (script_text(text) or "").strip()
        self.script.widget.layout.width = "46em"
        self.batch_videos = control(W.SelectMultiple, "batch_videos", rows=5, layout=W.Layout(width="36em"))
        self._refresh_media(audio=audio, video=video)
        self.batch_videos.value = (self.video_pick.value,)

        self.seconds = control(W.FloatSlider, "seconds", value=seconds, min=0.5, max=6.0, step=0.1,
                               continuous_update=False, layout=W.Layout(width="26em"))
        self.auto_start = W.Checkbox(value=True, description=tr("lively", lang), tooltip=tr("lively_tip", lang),
                                     indent=False, layout=W.Layout(width="12em"))
        self.start = control(W.IntSlider, "from", value=0, min=0, max=0, continuous_update=False, disabled=True,
                             layout=W.Layout(width="26em"))
        self.start_time = note()
        self.auto = W.Checkbox(value=False, description=tr("auto", lang), tooltip=tr("auto_tip", lang),
                               indent=False, layout=W.Layout(width="14em"))
        self.render_button = W.Button(description=tr("render", lang), tooltip=tr("render_tip", lang),
                                      button_style="primary", icon="play")
        self.full_button = W.Button(description=tr("full", lang), tooltip=tr("full_tip", lang), icon="film")
        self.progress = W.FloatProgress(value=0, min=0, max=1, tooltip="",
                                        layout=W.Layout(width="14em", visibility="hidden"))
        self.status = note()
        self.history = control(W.Dropdown, "history", options=[], layout=W.Layout(width="36em"))

        self.player = Player(self._time_picked)
        self.video = self.player.video          # template | result, one play/pause/seek for both
        self.stills = W.Image(format="png")
        self.frame = control(W.IntSlider, "frame", value=0, min=0, max=0, continuous_update=False,
                             layout=W.Layout(width="36em"))
        self.frame_label = note()
        self.face = W.Image(format="png")
        self.mel = self.player.curves.setdefault("mel", note())      # curves: pictures that take clicks
        self.sync = self.player.curves.setdefault("sync", note())

        self.batch_add = control(W.Text, "batch_add", placeholder="media/*.mp4", continuous_update=False,
                                 layout=W.Layout(width="36em"))
        self.batch_name = control(W.Text, "batch_name", placeholder="mine", layout=W.Layout(width="22em"))
        self.batch_button = W.Button(description=tr("send", lang), tooltip=tr("send_tip", lang), icon="list",
                                     layout=W.Layout(width="auto"))
        self.batch_message = note()

        self.sets = SetsPanel(self.panel, self.params_dir, self._tuned_on, lang, style=_STYLE)
        self.batch_name.observe(lambda _: self.sets.unconfirm(), names="value")
        self.batch_videos.observe(lambda _: self.sets.unconfirm(), names="value")

        # wiring
        self.audio_pick.observe(self._media_changed, names="value")
        self.video_pick.observe(self._media_changed, names="value")
        self.upload.observe(self._uploaded, names="value")
        self.auto_start.observe(lambda ch: setattr(self.start, "disabled", ch["new"]), names="value")
        for w in (self.seconds, self.auto_start, self.start):
            w.observe(self._inputs_changed, names="value")
        self.panel.observe(lambda: self._inputs_changed(None))
        self.script.area.observe(self._inputs_changed, names="value")
        self.render_button.on_click(lambda _: self.render_in_background())
        self.full_button.on_click(lambda _: self._safely(self.render_full))
        self.batch_button.on_click(lambda _: self._safely(self.send_to_batch, show=self.batch_message))
        self.batch_add.observe(lambda ch: ch["new"].strip() and self._safely(self.add_videos, ch["new"],
                                                                             show=self.batch_message), names="value")
        self.frame.observe(self._frame_moved, names="value")
        self.history.observe(self._history_picked, names="value")

        def heading(key):
            return note(f"<h4 style='margin:0.6em 0 0.2em'>{tr(key, lang)}</h4>")

        small = "<div style='line-height:1.35;color:#555;font-size:90%;margin:0.2em 0'>{}</div>".format
        self.widget = W.VBox([
            heading("media"), W.HBox([W.VBox([self.audio_pick, self.video_pick]), self.upload]), self.script.widget,
            heading("options"), self.panel.widget,
            heading("preview"), W.HBox([self.seconds, self.auto_start]), W.HBox([self.start, self.start_time]),
            W.HBox([self.render_button, self.auto, self.progress, self.full_button]), self.status, self.history,
            W.HBox([W.VBox([note(small(tr("pair", lang))), self.video, self.player.bridge, self.player.inbox]),
                    self.stills]),
            heading("at_frame"), note(small(tr("click_hint", lang))), W.HBox([self.frame, self.frame_label]),
            W.HBox([W.VBox([self.mel, self.sync]), self.face]),
            heading("sets"), self.sets.widget,
            heading("batch"), note(small(tr("batch_note", lang, folder=self.workspace.outputs))),
            self.batch_videos, self.batch_add, W.HBox([self.batch_name, self.batch_button]), self.batch_message,
        ])
        self._update_bounds()
        if start is not None:
            fps = self.session.info(self.panel.options()).fps
            frame = int(round(start * fps))
            if not 0 <= frame <= self.start.max:
                raise OptionsError("start", f"{start:.2f} s: a {seconds} s preview can start from 0 to "
                                            f"{self.start.max / fps:.2f} s")
            self.auto_start.value = False
            self.start.value = frame

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # -- state
    @property
    def options(self) -> LipSyncOptions:
        return self.panel.options()

    @property
    def session(self) -> TuningSession:
        if self._session is None:
            self._session = TuningSession(self.audio_pick.value, self.video_pick.value, self.work_dir,
                                          cache_dir=self.workspace.cache)
        return self._session

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- previews
    def render(self, on_progress: Callable | None = None) -> Preview:
        """Render a preview with the current options and window, and show it."""
        return self._render(self._request(), on_progress)

    def _request(self) -> tuple[int, LipSyncOptions, float | None, float, str | None]:
        """What a preview started now renders: (generation, options, start, seconds, script)."""
        options = self.options
        start = None if self.auto_start.value else self.start.value / self.session.info(options).fps
        return self._generation, options, start, float(self.seconds.value), self.script.text

    def _render(self, request, on_progress=None) -> Preview:
        generation, options, start, seconds, text = request
        preview = self.session.render(options, start=start, seconds=seconds, text=text, on_progress=on_progress)
        if generation == self._generation:
            self.show(preview)
        else:       # the settings moved on while it rendered: kept in the history, not shown as current
            self._list_history(select=None)
            self.status.value = tr("stale", self.lang)
        return preview

    def render_in_background(self) -> bool:
        """What the Preview button does: render on a thread, the button disabled meanwhile. False (and a
        note) when a render is already running: a second click never starts a second render."""
        if self.busy:
            self.status.value = tr("busy", self.lang)
            return False
        request = self._safely(self._request)
        if request is None:
            return False
        self.render_button.disabled = True
        self.status.value = tr("rendering", self.lang)
        self.progress.value, self.progress.layout.visibility = 0, "visible"

        def progress(p):
            if p.stage == "synthesis" and p.total:
                self.progress.value = p.done / p.total

        def work():
            try:
                self._safely(self._render, request, progress)
            finally:
                self.render_button.disabled = False
                self.progress.layout.visibility = "hidden"

        self._thread = threading.Thread(target=work, name="heygem-preview", daemon=True)
        self._thread.start()
        return True

    def render_full(self, start_worker: bool | None = None) -> str:
        """Queue the whole video with the current options and script in the workspace's job queue (the
        dashboard's): the workspace's worker renders it (started here unless one runs) into
        ``<workspace>/outputs``, and it shows in the dashboard's History (``start_worker`` None: as the
        app's ``start_worker`` says). Returns the job's id."""
        job = self._queue([self.video_pick.value], start_worker)
        self.status.value = tr("queued", self.lang, job=job, folder=self.workspace.outputs)
        return job

    def send_to_batch(self, name: str | None = None, videos=None, *, start_worker: bool | None = None) -> str:
        """Send the current settings to a batch: the options are kept as the user's parameter set ``name``
        (saved through ``tuning.params``; an existing set of the user's with other options is replaced only
        on a second click), then the speech, its script and ``videos`` (default: those ticked) are queued as
        one job in the workspace, as the dashboard's Batch tab queues them. Returns the job's id."""
        name = (self.batch_name.value if name is None else name).strip()
        videos = [str(v) for v in (self.batch_videos.value if videos is None else videos)]
        if not videos:
            raise OptionsError("videos", "tick at least one face video to send to the batch")
        if not name:
            raise OptionsError("name", "give the settings a name: they are saved as a parameter set of yours")
        options = self.options
        try:
            kept = sets.find_params(name, self.params_dir).path
            same = LipSyncOptions.from_yaml(kept) == options
        except OptionsError:
            same = False
        if not same:
            try:
                kept = self.sets.save(name, button=self.batch_button)
            except ParamsExist:
                self.batch_message.value = error_html(ParamsExist(
                    sets.find_params(name, self.params_dir).path,
                    "a set of yours has this name and other options: click again to replace it and send"), "#9a5b00")
                raise
        job = self._queue(videos, start_worker)
        self.batch_message.value = _lines(tr("sent", self.lang, job=job, n=len(videos), name=kept.stem,
                                             path=kept, folder=self.workspace.outputs))
        return job

    def add_videos(self, spec: str | Path) -> list[Path]:
        """Add the videos and photos ``spec`` names (a path, or a pattern such as ``media/*.mp4``; looked for
        in the current folder, then the project) to the choices, ticked for the batch."""
        from ..batch.plan import expand_videos

        text = str(spec).strip()
        if not text:
            raise OptionsError("videos", "give a path or a pattern such as media/*.mp4")
        found = []
        for entry in expand_videos([project.resolve(text)], self.media_dir):
            if entry.path is None:
                raise InputError(text, f"{entry.error} (looked in {' and '.join(map(str, project.places()))})")
            if entry.path.suffix.lower() not in VIDEO_EXTS + IMAGE_EXTS:
                raise InputError(entry.path, f"not a video or photo; use one of {' '.join(VIDEO_EXTS + IMAGE_EXTS)}")
            found.append(entry.path)
        self._given.update(found)
        ticked = self.batch_videos.value
        self._refresh_media()
        self.batch_videos.value = tuple(dict.fromkeys(ticked + tuple(str(p) for p in found)))
        self.batch_message.value = _lines(tr("added", self.lang, n=len(found)))
        self.batch_add.value = ""
        return found

    def _queue(self, videos: list[str], start_worker: bool | None) -> str:
        """Queue this speech, its script and ``videos`` with the current options in the workspace."""
        job = self.workspace.store.submit(self.audio_pick.value, videos, self.options, text=self.script.text)
        if self.start_worker if start_worker is None else start_worker:
            from ..jobs import ensure_worker

            ensure_worker(self.workspace.root)
        return job

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background render (and a pending debounced one) to finish."""
        if self._timer is not None:
            self._timer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def show(self, preview: Preview) -> None:
        """Show ``preview``: the template and the result side by side in the player, the stills, and the
        curves and pictures at its open-mouth frame."""
        self.preview = preview
        from ..media.video import probe_video

        self.player.show(preview.pair.read_bytes(), preview.start, preview.fps, probe_video(preview.pair).width)
        self._picture(self.stills, plots.plot_stills(preview))
        self._showing = True
        try:   # the slider counts frames of the full render, as every picture's title does
            self.frame.min, self.frame.max = 0, preview.end_frame - 1
            self.frame.min, self.frame.value = preview.start_frame, preview.frame(preview.open_frame)
            self._list_history(select=preview.number)
        finally:
            self._showing = False
        self.show_frame(self.frame.value)
        self.status.value = preview.summary()

    def _list_history(self, select: int | None) -> None:
        showing, self._showing = self._showing, True
        try:
            self.history.options = [(f"#{p.number}: {p.summary()}", p.number) for p in reversed(self.session.history)]
            self.history.value = select if select in {p.number for p in self.session.history} else None
        finally:
            self._showing = showing

    def show_frame(self, frame: int) -> None:
        """Draw the mel window, the face (landmarks, region, mask) and the sync curve at output frame
        ``frame``: the cursor the player, the spectrogram and the sync curve share."""
        if self.preview is None:
            return
        hint = tr("click_tip", self.lang)
        self.frame_label.value = self.preview.frame_label(self.preview.position(frame))
        self.player.curve("mel", self.session.plot_mel(self.preview, frame), title=hint)
        self._picture(self.face, self.session.plot_face(self.preview, frame))
        self.player.curve("sync", plots.plot_sync(self.preview, frame=frame), title=hint)   # the same frame

    def _time_picked(self, seconds: float, source: str) -> None:
        """A click on a curve (``source`` "curve") or the resting player ("video") points at ``seconds`` of
        the full result: the frame goes there, and after a click the player too."""
        if self.preview is None:
            return
        frame = self.preview.frame_at(seconds, nearest=source == "curve")
        if frame == self.frame.value:
            if source == "curve":
                self._seek(frame)
            return
        self._following_player = source == "video"
        try:
            self.frame.value = frame
        finally:
            self._following_player = False

    def _seek(self, frame: int) -> None:
        """Put the player on output frame ``frame`` (a quarter into it, clear of the frame's edges)."""
        if self.preview is not None:
            self.player.seek((self.preview.position(frame) + 0.25) / self.preview.fps)

    @staticmethod
    def _picture(image: W.Image, fig) -> None:
        data, (width, height) = plots.figure_png(fig)
        image.value = data
        image.layout.width, image.layout.height = f"{width}px", f"{height}px"   # 1:1, never stretched

    # -- parameter sets
    def save(self, name: str, replace: bool = False) -> Path:
        """Save the current options as the user's set ``name`` (``ParamsExist`` unless new or ``replace``)."""
        return self.sets.save(name, replace)

    def load(self, name: str) -> LipSyncOptions:
        return self.sets.load(name)

    def _tuned_on(self) -> dict:
        media = {"speech": self.audio_pick.value, "face": self.video_pick.value}
        if self.preview is not None:
            media["from"] = f"frame {self.preview.start_frame} ({self.preview.start:.2f} s)"
        return media

    # -- wiring
    def _safely(self, action, *args, show: W.HTML | None = None):
        """Run an action; show an error in the status line (or ``show``) instead of a traceback."""
        show = show if show is not None else self.status
        try:
            return action(*args)
        except ParamsExist:
            pass                        # the question is already on its button and beside it
        except Exception as exc:  # noqa: BLE001 - a callback's exception would only reach the log console
            if not isinstance(exc, HeygemError):
                log.exception("tuning action failed")
            show.value = error_html(exc)
        return None

    def _inputs_changed(self, _change) -> None:
        """Something that shapes the preview changed: what is shown is stale (cleared), the window's bounds
        may move, and with "preview on change" a render follows once the changes stop for a moment."""
        if self._showing:
            return
        self._generation += 1
        self.preview = None
        for image in (self.stills, self.face):
            image.value = b""
        self.player.clear()
        self.frame_label.value = ""
        self.status.value = tr("stale", self.lang)
        self._safely(self._update_bounds)
        if self.auto.value:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(DEBOUNCE_S, self._debounced)
            self._timer.start()

    def _debounced(self) -> None:
        if self.busy:                     # the running render ends; the latest settings render next
            self._thread.join()
        self.render_in_background()

    def _update_bounds(self) -> None:
        """The "from" slider spans exactly the starts a whole preview fits after."""
        options = LipSyncOptions(image_fps=self.panel.values()["image_fps"])   # all the window depends on
        fps = self.session.info(options).fps
        n_full = self.session.frame_count(options)
        span = max(1, min(n_full, int(round(self.seconds.value * fps))))
        self._showing = True
        try:
            self.start.max = n_full - span
            self.start_time.value = f"{self.start.value / fps:.2f} s / {(n_full - span) / fps:.2f} s"
        finally:
            self._showing = False

    def _frame_moved(self, change) -> None:
        if not self._showing:
            self._safely(self.show_frame, change["new"])
            if not self._following_player:
                self._seek(change["new"])

    def _history_picked(self, change) -> None:
        if self._showing or change["new"] is None:
            return
        for p in self.session.history:
            if p.number == change["new"] and p.path.exists():
                self._safely(self.show, p)

    def _media_changed(self, _change) -> None:
        if self._refreshing:        # the lists are being filled; _refresh_media says when a choice changed
            return
        self._session = None
        self._inputs_changed(None)

    def _refresh_media(self, audio: Path | None = None, video: Path | None = None) -> None:
        """Fill the media lists from the workspace's uploads and the files given or added. The speech and
        the face stay as they were unless ``audio`` or ``video`` is given (a list given new options would
        select its first item), and so do the batch's ticks."""
        found = [p for p in self.workspace.uploads.glob("*/*") if p.is_file() and not p.name.startswith(".")]
        found += [p for p in self.media_dir.glob("*") if p.is_file()] if self.media_dir.is_dir() else []
        files = sorted(set(found) | self._given, key=lambda p: p.name.lower())
        before, ticked = (self.audio_pick.value, self.video_pick.value), self.batch_videos.value
        self._refreshing = True
        try:
            self.audio_pick.options = [(p.name, str(p)) for p in files if p.suffix.lower() in SOUND_EXTS + VIDEO_EXTS]
            self.video_pick.options = [(p.name, str(p)) for p in files if p.suffix.lower() in VIDEO_EXTS + IMAGE_EXTS]
            for pick, wanted, was in ((self.audio_pick, audio, before[0]), (self.video_pick, video, before[1])):
                keep = str(wanted) if wanted is not None else was
                if keep in {value for _, value in pick.options}:
                    pick.value = keep
            self.batch_videos.options = self.video_pick.options
            self.batch_videos.value = tuple(v for v in ticked if v in {value for _, value in self.video_pick.options})
        finally:
            self._refreshing = False
        if None not in before and (self.audio_pick.value, self.video_pick.value) != before:
            self._media_changed(None)

    def store_upload(self, name: str, content: bytes) -> Path:
        """Keep an uploaded medium in the workspace (its name kept, in any script; never over another)."""
        ext = Path(name).suffix.lower()
        if ext not in MEDIA_EXTS:
            raise InputError(name, f"not a sound, video or picture file; use one of {' '.join(MEDIA_EXTS)}")
        if not content:
            raise InputError(name, "the file is empty")
        return self.workspace.store_upload(name, bytes(content))

    def _uploaded(self, change) -> None:
        saved = []
        for item in change["new"]:
            try:
                saved.append(self.store_upload(item["name"], item["content"]))
            except HeygemError as exc:
                self.status.value = error_html(exc)
        if change["new"]:
            self.upload.value = ()      # so that the same file can be uploaded again
        if not saved:
            return
        last = saved[-1]
        ext = last.suffix.lower()
        self._refresh_media(audio=last if ext in SOUND_EXTS else None,
                            video=last if ext in VIDEO_EXTS + IMAGE_EXTS else None)
        self.status.value = tr("uploaded", self.lang, names=", ".join(p.name for p in saved))
