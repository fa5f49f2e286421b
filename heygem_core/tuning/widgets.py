"""The tuning notebook's widgets (ipywidgets): the options panel, generated from `LipSyncOptions`' field
metadata, and the app around it: media pickers and upload, the preview, the pictures, save and load.

    app = TuningApp("builtin:speech", "builtin:clip", work_dir="tune_output")
    display(app)            # in JupyterLab
    preview = app.render()  # what the Preview button does
    app.save("news")        # params/news.yaml; app.load("news") puts it back into the sliders

Everything the widgets show is computed by `heygem_core.tuning.preview`; this module only wires it up.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any, Callable

import ipywidgets as W

from . import preview as tuning
from ..errors import HeygemError, OptionsError
from ..media.files import IMAGE_EXTS, SOUND_EXTS, VIDEO_EXTS
from ..options import LipSyncOptions, option_fields

log = logging.getLogger(__name__)

_LABEL = {"description_width": "9em"}
_WIDE = W.Layout(width="27em")


def _step(lo: float, hi: float, integer: bool) -> float:
    """A round slider step giving about 100–1000 positions over [lo, hi]."""
    step = 10.0 ** math.floor(math.log10((hi - lo) / 200.0)) if hi > lo else 1.0
    return max(1, int(step)) if integer else step


def _decimals(step: float) -> int:
    return max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0


def option_widget(f: dataclasses.Field, value: Any) -> W.Widget:
    """The control for one option: a dropdown for choices, a toggle for yes/no, a slider for a number in a
    range, a text box otherwise (empty text = none). The option's help is its tooltip."""
    meta = f.metadata
    common = dict(description=f.name.replace("_", " "), style=_LABEL, layout=_WIDE, tooltip=meta["help"])
    if meta["choices"]:
        w = W.Dropdown(options=list(meta["choices"]), value=value, **common)
    elif isinstance(f.default, bool):
        w = W.Checkbox(value=bool(value), indent=True, **common)
    elif isinstance(f.default, int) and meta["min"] is not None:
        w = W.IntSlider(value=value, min=meta["min"], max=meta["max"],
                        step=_step(meta["min"], meta["max"], True), continuous_update=False, **common)
    elif isinstance(f.default, float) and meta["min"] is not None:
        step = _step(meta["min"], meta["max"], False)
        w = W.FloatSlider(value=value, min=meta["min"], max=meta["max"], step=step, continuous_update=False,
                          readout_format=f".{_decimals(step)}f", **common)
    else:
        w = W.Text(value="" if value is None else str(value), placeholder="none", continuous_update=False,
                   **common)
    return w


class OptionsPanel:
    """One control per option, in a tab per group; ``options`` reads them back as a `LipSyncOptions`."""

    def __init__(self, options: LipSyncOptions | None = None):
        options = options or LipSyncOptions()
        self.fields = option_fields()
        self.controls: dict[str, W.Widget] = {f.name: option_widget(f, getattr(options, f.name))
                                              for f in self.fields}
        groups: dict[str, list[W.Widget]] = {}
        for f in self.fields:
            groups.setdefault(f.metadata["group"], []).append(self.controls[f.name])
        self.message = W.HTML()
        self.reset = W.Button(description="defaults", tooltip="put every option back to its default",
                              layout=W.Layout(width="8em"))
        self.reset.on_click(lambda _: self.set_options(LipSyncOptions()))
        self.tabs = W.Tab(children=[W.VBox(ws) for ws in groups.values()], titles=list(groups))
        self.widget = W.VBox([self.tabs, W.HBox([self.reset, self.message])])
        for control in self.controls.values():
            control.observe(lambda _: self._check(), names="value")

    def values(self) -> dict[str, Any]:
        """The controls' values as option values (rounded to the slider's step; empty text → None)."""
        out: dict[str, Any] = {}
        for f in self.fields:
            w = self.controls[f.name]
            value = w.value
            if isinstance(w, W.FloatSlider):
                value = round(float(value), _decimals(w.step) + 1)
            elif isinstance(w, W.Text):
                value = value.strip() or None
            out[f.name] = value
        return out

    @property
    def options(self) -> LipSyncOptions:
        """The options the controls show; ``OptionsError`` when they do not make a valid set."""
        return LipSyncOptions.from_dict(self.values())

    def set_options(self, options: LipSyncOptions) -> None:
        for f in self.fields:
            value = getattr(options, f.name)
            self.controls[f.name].value = "" if value is None else value
        self._check()

    def observe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever any option changes."""
        for control in self.controls.values():
            control.observe(lambda _: callback(), names="value")

    def _check(self) -> None:
        try:
            self.options
        except OptionsError as exc:
            self.message.value = f"<span style='color:#b00020'>{exc}</span>"
        else:
            self.message.value = ""


class TuningApp:
    """The tuning notebook's interface. ``audio`` and ``video`` are paths or built-in media
    (``builtin:speech``, ``builtin:clip``, ``builtin:photo``); uploads and built-ins go to ``work_dir/media``."""

    def __init__(self, audio: str | Path = "builtin:speech", video: str | Path = "builtin:clip", *,
                 work_dir: str | Path = "tune_output", params_dir: str | Path | None = None,
                 options: LipSyncOptions | None = None, seconds: float = 2.0):
        from ..batch import resolve_media

        self.work_dir = Path(work_dir)
        self.media_dir = self.work_dir / "media"
        self.params_dir = Path(params_dir) if params_dir else tuning.project_params_dir()
        audio, video = resolve_media(audio, self.media_dir), resolve_media(video, self.media_dir)
        self._extra = {Path(audio), Path(video)}     # given files that live outside the media folder
        self._session: tuning.TuningSession | None = None
        self.preview: tuning.Preview | None = None

        self.panel = OptionsPanel(options)
        self.audio_pick = W.Dropdown(description="speech", style=_LABEL, layout=_WIDE)
        self.video_pick = W.Dropdown(description="face video", style=_LABEL, layout=_WIDE)
        self.upload = W.FileUpload(accept=",".join(SOUND_EXTS + VIDEO_EXTS + IMAGE_EXTS), multiple=True,
                                   description="upload")
        self._refresh_media(audio=audio, video=video)
        self.audio_pick.observe(self._media_changed, names="value")
        self.video_pick.observe(self._media_changed, names="value")
        self.upload.observe(self._uploaded, names="value")

        self.seconds = W.FloatSlider(value=seconds, min=0.5, max=6.0, step=0.1, description="preview (s)",
                                     style=_LABEL, layout=_WIDE, continuous_update=False)
        self.auto_start = W.Checkbox(value=True, description="lively stretch", indent=False,
                                     tooltip="start where the speech has both loud and quiet moments")
        self.start = W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.04, description="from (s)",
                                   style=_LABEL, layout=_WIDE, continuous_update=False, disabled=True)
        self.auto_start.observe(lambda ch: setattr(self.start, "disabled", ch["new"]), names="value")
        self.render_button = W.Button(description="Preview", button_style="primary", icon="play")
        self.render_button.on_click(lambda _: self._safely(self.render))
        self.status = W.HTML()

        self.video = W.Video(format="mp4", autoplay=True, loop=True, controls=True, layout=W.Layout(width="360px"))
        self.stills = W.Image(format="png", layout=W.Layout(max_width="460px"))
        self.frame = W.IntSlider(value=0, min=0, max=0, description="frame", style=_LABEL, layout=_WIDE,
                                 continuous_update=False)
        self._drawing = False    # set while render() moves the frame slider itself
        self.frame.observe(self._frame_moved, names="value")
        self.mel = W.Image(format="png", layout=W.Layout(max_width="640px"))
        self.face = W.Image(format="png", layout=W.Layout(max_width="380px"))
        self.sync = W.Image(format="png", layout=W.Layout(max_width="720px"))

        self.params_name = W.Text(placeholder="name, e.g. news", description="save as", style=_LABEL,
                                  layout=W.Layout(width="20em"))
        self.save_button = W.Button(description="Save", icon="save")
        self.save_button.on_click(
            lambda _: self._safely(self.save, self.params_name.value, show=self.params_message))
        self.params_pick = W.Dropdown(description="load", style=_LABEL, layout=W.Layout(width="20em"))
        self.load_button = W.Button(description="Load", icon="folder-open")
        self.load_button.on_click(
            lambda _: self._safely(self.load, self.params_pick.value, show=self.params_message))
        self.params_message = W.HTML()
        self._refresh_params()

        def heading(text):
            return W.HTML(f"<h4 style='margin:0.6em 0 0.2em'>{text}</h4>")

        self.widget = W.VBox([
            heading("Media"), W.HBox([W.VBox([self.audio_pick, self.video_pick]), self.upload]),
            heading("Options"), self.panel.widget,
            heading("Preview"), W.HBox([self.seconds, self.auto_start]), self.start,
            W.HBox([self.render_button, self.status]),
            W.HBox([self.video, self.stills]),
            heading("Speech and face at one frame"), self.frame, W.HBox([self.mel, self.face]),
            heading("Sync: mouth opening over speech loudness"), self.sync,
            heading("Parameter sets (" + str(self.params_dir) + ")"),
            W.HBox([self.params_name, self.save_button]), W.HBox([self.params_pick, self.load_button]),
            self.params_message,
        ])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # -- state
    @property
    def options(self) -> LipSyncOptions:
        return self.panel.options

    @property
    def session(self) -> tuning.TuningSession:
        if self._session is None:
            self._session = tuning.TuningSession(self.audio_pick.value, self.video_pick.value, self.work_dir)
            self.start.max = max(0.04, self._session.speech.duration - 0.5)
        return self._session

    # -- actions
    def render(self) -> tuning.Preview:
        """Render a preview with the current options and show it with its stills and pictures."""
        self.status.value = "rendering…"
        options = self.options
        start = None if self.auto_start.value else float(self.start.value)
        preview = self.session.render(options, start=start, seconds=float(self.seconds.value))
        self.preview = preview
        self.video.value = preview.path.read_bytes()
        self.stills.value = tuning.figure_png(tuning.plot_stills(preview))
        self.sync.value = tuning.figure_png(tuning.plot_sync(preview).figure)
        self._drawing = True
        try:   # the slider counts frames of the full render, as the pictures' titles do
            first = preview.start_frame
            self.frame.min, self.frame.max = 0, first + preview.frames - 1
            self.frame.min, self.frame.value = first, first + preview.open_frame
        finally:
            self._drawing = False
        self.show_frame(preview.start_frame + preview.open_frame)
        self.status.value = preview.summary()
        return preview

    def show_frame(self, frame: int) -> None:
        """Draw the mel window and the face (landmarks, region, mask) at ``frame`` of the full render (one of
        the preview's frames)."""
        if self.preview is None:
            return
        k = int(min(max(frame - self.preview.start_frame, 0), self.preview.frames - 1))
        self.mel.value = tuning.figure_png(self.session.plot_mel(self.preview, k).figure)
        self.face.value = tuning.figure_png(self.session.plot_face(self.preview, k).figure)

    def save(self, name: str) -> Path:
        """Save the current options as ``params_dir/<name>.yaml``."""
        path = tuning.save_params(self.options, name, self.params_dir)
        self._refresh_params(select=path.stem)
        self.params_message.value = f"saved {path}"
        return path

    def load(self, name: str) -> LipSyncOptions:
        """Load ``params_dir/<name>.yaml`` (or a path) into the controls and return the options."""
        if not name:
            raise OptionsError("name", "choose a parameter set to load")
        options = tuning.load_params(name, self.params_dir)
        self.panel.set_options(options)
        self.params_message.value = f"loaded {tuning.params_path(name, self.params_dir)}"
        return options

    # -- wiring
    def _safely(self, action, *args, show: W.HTML | None = None):
        """Run a button's action; show an error in the status line (or ``show``) instead of a traceback."""
        show = show or self.status
        try:
            return action(*args)
        except HeygemError as exc:
            show.value = f"<span style='color:#b00020'>{exc}</span>"
        except Exception as exc:  # noqa: BLE001 - a callback's exception would only reach the log console
            log.exception("tuning action failed")
            show.value = f"<span style='color:#b00020'>{type(exc).__name__}: {exc}</span>"
        return None

    def _refresh_media(self, audio: Path | None = None, video: Path | None = None) -> None:
        files = sorted(set(tuning.list_media(self.media_dir)) | self._extra, key=lambda p: p.name.lower())
        sounds = [p for p in files if p.suffix.lower() in SOUND_EXTS + VIDEO_EXTS]
        faces = [p for p in files if p.suffix.lower() in VIDEO_EXTS + IMAGE_EXTS]
        self.audio_pick.options = [(p.name, str(p)) for p in sounds]
        self.video_pick.options = [(p.name, str(p)) for p in faces]
        if audio is not None:
            self.audio_pick.value = str(audio)
        if video is not None:
            self.video_pick.value = str(video)

    def _frame_moved(self, change) -> None:
        if not self._drawing:
            self._safely(self.show_frame, change["new"])

    def _media_changed(self, _change) -> None:
        self._session = None
        self.status.value = "media changed: press Preview"

    def _uploaded(self, change) -> None:
        saved = []
        for item in change["new"]:
            try:
                saved.append(tuning.save_upload(item["name"], item["content"], self.media_dir))
            except HeygemError as exc:
                self.status.value = f"<span style='color:#b00020'>{exc}</span>"
        if change["new"]:
            self.upload.value = ()      # so that the same file can be uploaded again
        if not saved:
            return
        last = saved[-1]
        ext = last.suffix.lower()
        self._refresh_media(audio=last if ext in SOUND_EXTS else None,
                            video=last if ext in VIDEO_EXTS + IMAGE_EXTS else None)
        self.status.value = "uploaded " + ", ".join(p.name for p in saved)

    def _refresh_params(self, select: str | None = None) -> None:
        names = tuning.list_params(self.params_dir)
        self.params_pick.options = names
        if select in names:
            self.params_pick.value = select
