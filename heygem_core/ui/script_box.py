"""The script of the speech, when the person has it: one text box shared by the Single and Batch tabs."""
from __future__ import annotations

import ipywidgets as w

from .i18n import tr


class ScriptBox:
    """A titled text area; ``text`` is the script, or None when the box is empty."""

    def __init__(self, lang: str):
        self.title = w.HTML(tooltip="")     # None shows as a tooltip reading "null" in JupyterLab
        self.title.add_class("hg-section-title")
        self.area = w.Textarea(layout=w.Layout(width="100%", height="5.5em"))
        self.area.add_class("hg-script")
        self.widget = w.VBox([self.title, self.area])
        self.widget.add_class("hg-card")
        self.set_lang(lang)

    @property
    def text(self) -> str | None:
        return self.area.value.strip() or None

    def set_lang(self, lang: str) -> None:
        self.title.value = tr("script", lang)
        self.area.placeholder = tr("script_hint", lang)
