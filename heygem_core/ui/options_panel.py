"""The options panel, generated from `LipSyncOptions`' field metadata (help, range, choices, group)."""
from __future__ import annotations

import dataclasses
import math

import ipywidgets as w

from ..options import LipSyncOptions, option_fields
from .i18n import option_help, option_label, option_value_label, tr

GROUPS = ("engine", "mouth", "face", "output")
_DESC_WIDTH = "150px"


def _step(lo: float, hi: float, is_int: bool) -> float:
    """A round slider step giving about a hundred positions over the range."""
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 100)) if span > 0 else 1
    return max(1, int(step)) if is_int else step


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
        digits = max(0, -int(math.floor(math.log10(step))))
        return w.FloatSlider(value=default, min=meta["min"], max=meta["max"], step=step,
                             readout_format=f".{digits}f", continuous_update=False, **common)
    return w.Text(value=default or "", placeholder="", **common)


class OptionsPanel:
    """Widgets for every option, grouped in an accordion; ``.options()`` builds a validated `LipSyncOptions`."""

    def __init__(self, lang: str = "zh", initial: LipSyncOptions | None = None):
        self.fields = {f.name: f for f in option_fields()}
        self.inputs: dict[str, w.Widget] = {name: option_widget(f) for name, f in self.fields.items()}
        self.reset_button = w.Button(icon="undo", layout=w.Layout(width="auto"))
        self.reset_button.add_class("hg-quiet")
        self.reset_button.on_click(lambda _: self.set_options(LipSyncOptions()))
        groups = {g: [] for g in GROUPS}
        for name, f in self.fields.items():
            groups.setdefault(f.metadata["group"], []).append(self.inputs[name])
        self._groups = [g for g in groups if groups[g]]
        self.sections = w.Accordion(children=[w.VBox(groups[g]) for g in self._groups], selected_index=None)
        self.widget = w.VBox([self.sections])
        self.widget.add_class("hg-options")
        if initial is not None:
            self.set_options(initial)
        self.set_lang(lang)

    def set_lang(self, lang: str) -> None:
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

    def values(self) -> dict:
        out = {}
        for name, f in self.fields.items():
            value = self.inputs[name].value
            if f.default is None:  # optional text: empty means "not set"
                value = value.strip() or None
            out[name] = value
        return out

    def options(self) -> LipSyncOptions:
        """The options as set; raises `OptionsError` naming the option when a combination is not allowed."""
        return LipSyncOptions.from_dict(self.values())

    def set_options(self, options: LipSyncOptions) -> None:
        for name, value in options.to_dict().items():
            self.inputs[name].value = "" if value is None else value
