"""The options panel, generated from `LipSyncOptions`' field metadata (help, range, choices, group): the one
panel of the dashboard and of the tuning notebook, in Chinese or English.

    panel = OptionsPanel("en", initial=LipSyncOptions.load("news"))
    panel.options()              # a validated LipSyncOptions (OptionsError naming the option otherwise)
    panel.observe(callback)      # callback() after any change; panel.message shows a bad combination
    panel.sets.choose("ads")     # a parameter set's values into the controls (the menu above them)
"""
from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any, Callable

import ipywidgets as w

from ..errors import OptionsError
from ..options import LipSyncOptions, option_fields
from .i18n import option_help, option_label, option_value_label, tr
from .param_sets import SetChooser

log = logging.getLogger(__name__)

GROUPS = ("engine", "mouth", "face", "output")
_BACK = {"en": "Back to the default: {value}", "zh": "恢复默认值：{value}"}
# an option that differs from its default: its label in bold with a dot (the page's own style, as an HTML
# widget, so it shows in JupyterLab as on the dashboard)
_CHANGED_CSS = ("<style>.hg-changed .widget-label { font-weight: 600; }"
                ".hg-changed .widget-label::after { content: ' •'; color: #2a6fdb; }</style>")
_DESC_WIDTH = "150px"

# Options only one engine reads: disabled while the other engine is chosen.
ENGINE_ONLY = {
    "wav2lip": ("checkpoint", "device", "batch_size", "pad_top", "pad_bottom", "pad_left", "pad_right",
                "mask_feather", "color_match"),
    "procedural": ("mouth_gain", "max_opening", "attack_ms", "release_ms", "silence_db", "rounding",
                   "jaw_follow", "teeth"),
}


def _step(lo: float, hi: float, is_int: bool) -> float:
    """A round slider step giving about a hundred to a thousand positions over the range."""
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 100)) if span > 0 else 1
    return max(1, int(step)) if is_int else step


def _decimals(step: float) -> int:
    return max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0


def option_widget(f: dataclasses.Field) -> w.Widget:
    """One input for one option field, initialised to its default."""
    meta, default = f.metadata, f.default
    common = dict(style={"description_width": _DESC_WIDTH}, layout=w.Layout(width="100%"))
    if meta["choices"]:
        return w.Dropdown(options=list(meta["choices"]), value=default, **common)
    if isinstance(default, bool):
        return w.Checkbox(value=default, indent=True, **common)
    if isinstance(default, int) and meta["min"] is not None:
        return w.IntSlider(value=default, min=meta["min"], max=meta["max"],
                           step=_step(meta["min"], meta["max"], True), continuous_update=False,
                           readout_format=".3s" if f.name == "audio_bitrate" else "d", **common)  # 160000: "160k"
    if isinstance(default, float) and meta["min"] is not None:
        step = _step(meta["min"], meta["max"], False)
        return w.FloatSlider(value=default, min=meta["min"], max=meta["max"], step=step,
                             readout_format=f".{_decimals(step)}f", continuous_update=False, **common)
    return w.Text(value=default or "", placeholder="—", continuous_update=False, **common)


class OptionsPanel:
    """Widgets for every option, grouped in an accordion; ``.options()`` builds a validated `LipSyncOptions`.

    Options the chosen engine does not read are disabled; ``message`` shows why the controls do not make a
    valid set, while they do not. ``sets`` is the parameter-set menu shown above the controls (the user's
    sets from ``params_dir``, by default the user's folder); its ``save_row`` is for the page to place."""

    def __init__(self, lang: str = "zh", initial: LipSyncOptions | None = None,
                 params_dir: str | Path | None = None):
        self.lang = lang
        self.fields = {f.name: f for f in option_fields()}
        self.inputs: dict[str, w.Widget] = {name: option_widget(f) for name, f in self.fields.items()}
        self.reset_button = w.Button(icon="undo", layout=w.Layout(width="auto"))
        self.reset_button.add_class("hg-quiet")
        self.reset_button.on_click(lambda _: self.set_options(LipSyncOptions()))
        self.message = w.HTML(tooltip="")  # "" not None: Lab shows None as a 'null' tooltip
        # one undo button per option, shown while the option differs from its default
        self.resets: dict[str, w.Button] = {}
        groups = {g: [] for g in GROUPS}
        for name, f in self.fields.items():
            self.resets[name] = undo = w.Button(icon="undo", layout=w.Layout(width="2.6em", visibility="hidden"))
            undo.add_class("hg-quiet")
            undo.add_class("hg-icon-only")
            undo.on_click(lambda _, n=name: self._reset_one(n))
            row = w.HBox([self.inputs[name], undo], layout=w.Layout(width="100%"))
            groups.setdefault(f.metadata["group"], []).append(row)
        self._groups = [g for g in groups if groups[g]]
        self.sections = w.Accordion(children=[w.VBox(groups[g]) for g in self._groups], selected_index=None)
        self.sets = SetChooser(self, params_dir, lang)
        self.widget = w.VBox([self.sets.pick_row, self.sections, self.message, w.HTML(_CHANGED_CSS, tooltip="")])
        self.widget.add_class("hg-options")
        for control in self.inputs.values():
            control.observe(lambda _: self._check(), names="value")
            control.observe(lambda _: self.sets.panel_changed(), names="value")
        self.inputs["engine"].observe(lambda _: self._engine_changed(), names="value")
        if initial is not None:
            self.set_options(initial)
        self.set_lang(lang)

    def set_lang(self, lang: str) -> None:
        with self.sets.quiet():        # menus relabelled, not changed: the chosen set stays
            self._set_lang(lang)

    def _set_lang(self, lang: str) -> None:
        self.lang = lang
        for name, f in self.fields.items():
            widget = self.inputs[name]
            widget.description = option_label(name, lang)
            widget.tooltip = option_help(name, f.metadata["help"], lang)
            if isinstance(widget, w.Dropdown):        # menu choices in words, the values unchanged
                value = widget.value
                widget.options = [(option_value_label(name, c, lang), c) for c in f.metadata["choices"]]
                widget.value = value
        self.sections.titles = tuple(tr(f"group_{g}", lang) for g in self._groups)
        self.reset_button.description = tr("reset", lang)
        self.reset_button.tooltip = tr("reset", lang)
        for name, undo in self.resets.items():
            undo.tooltip = _BACK[lang if lang in _BACK else "en"].format(value=self.fields[name].default)
        self.sets.set_lang(lang)
        self._engine_changed()

    def values(self) -> dict[str, Any]:
        """The controls' values as option values (numbers rounded to the slider's step, as a dragged slider
        can send 1.3000000000000003; empty text means "not set")."""
        out = {}
        for name, f in self.fields.items():
            widget = self.inputs[name]
            value = widget.value
            if isinstance(widget, w.FloatSlider):
                value = round(float(value), _decimals(widget.step) + 1)
            elif f.default is None:
                value = value.strip() or None
            out[name] = value
        return out

    def options(self) -> LipSyncOptions:
        """The options as set; raises `OptionsError` naming the option when a combination is not allowed."""
        return LipSyncOptions.from_dict(self.values())

    def set_options(self, options: LipSyncOptions) -> None:
        for name, value in options.to_dict().items():
            self.inputs[name].value = "" if value is None else value
        self._check()

    def set_values(self, values: dict) -> bool:
        """Show stored option values (a job's, the page's memory). Names this version does not know are
        left out; when the rest is not a valid set, nothing changes and the answer is False."""
        known = {k: v for k, v in (values or {}).items() if k in self.inputs}
        try:
            options = LipSyncOptions.from_dict(known)
        except (TypeError, ValueError) as exc:        # stored by another version
            log.info("stored options not shown: %s", exc)
            return False
        self.set_options(options)
        return True

    def observe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever any option changes."""
        for control in self.inputs.values():
            control.observe(lambda _: callback(), names="value")

    def changed(self) -> list[str]:
        """The options whose controls differ from the defaults."""
        defaults = LipSyncOptions().to_dict()
        values = self.values()
        return [name for name in self.fields if values[name] != defaults[name]]

    def _reset_one(self, name: str) -> None:
        default = self.fields[name].default
        self.inputs[name].value = "" if default is None else default

    def _mark_changed(self) -> None:
        changed = set(self.changed())
        for name, widget in self.inputs.items():
            if name in changed:
                widget.add_class("hg-changed")
            else:
                widget.remove_class("hg-changed")
            self.resets[name].layout.visibility = "visible" if name in changed else "hidden"

    def _engine_changed(self) -> None:
        engine = self.inputs["engine"].value
        for owner, names in ENGINE_ONLY.items():
            for name in names:
                self.inputs[name].disabled = owner != engine

    def _check(self) -> None:
        self._mark_changed()
        try:
            self.options()
        except OptionsError as exc:
            self.message.value = f"<span style='color:#b00020'>{exc}</span>"
        else:
            self.message.value = ""
