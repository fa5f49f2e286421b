"""The tuning app's parameter-set controls: save (a second click confirms replacing one of the user's), load,
rename and delete (a second click confirms). The files are handled by ``tuning.params``."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import ipywidgets as W

from . import params as sets
from .words import tr
from ..errors import HeygemError, OptionsError, ParamsExist
from ..options import LipSyncOptions

log = logging.getLogger(__name__)


def note(value: str = "") -> W.HTML:
    """An HTML text. Its tooltip is "" rather than None, which JupyterLab shows as a tooltip reading 'null'."""
    return W.HTML(value, tooltip="")


def error_html(exc: Exception, colour: str = "#b00020") -> str:
    text = str(exc) if isinstance(exc, HeygemError) else f"{type(exc).__name__}: {exc}"
    return f"<span style='color:{colour}'>{text}</span>"


class SetsPanel:
    """Save, load, rename and delete parameter sets from the options ``panel`` (a ``ui.OptionsPanel``).

    ``media()`` says what the options are being tuned on; it is recorded in each saved set."""

    def __init__(self, panel, folder: str | Path | None, media: Callable[[], dict], lang: str = "en",
                 style: dict | None = None):
        self.panel, self.folder, self.media, self.lang = panel, folder, media, lang
        self._confirm: tuple[str, str] | None = None     # (action, name) awaiting its second click
        self._asking: list[tuple[W.Button, str]] = []     # buttons showing a question, with their own words

        def button(key, icon):
            return W.Button(description=tr(key, lang), tooltip=tr(f"{key}_tip", lang), icon=icon)

        self.name = W.Text(description=tr("name", lang), tooltip=tr("name_tip", lang), placeholder="mine",
                           style=style or {}, layout=W.Layout(width="22em"))
        self.pick = W.Dropdown(description=tr("pick", lang), tooltip=tr("pick_tip", lang), style=style or {},
                               layout=W.Layout(width="22em"))
        self.save_button, self.rename_button = button("save", "save"), button("rename", "i-cursor")
        self.load_button, self.delete_button = button("load", "folder-open"), button("delete", "trash")
        self.message = note()
        self.save_button.on_click(lambda _: self._safely(self.save, self.name.value))
        self.load_button.on_click(lambda _: self._safely(self.load, self.pick.value))
        self.delete_button.on_click(lambda _: self._safely(self.delete, self.pick.value))
        self.rename_button.on_click(lambda _: self._safely(self.rename, self.pick.value, self.name.value))
        for w in (self.name, self.pick):
            w.observe(lambda _: self.unconfirm(), names="value")
        where = sets.user_params_dir() if folder is None else folder
        folder_note = note(f"<small>{tr('folder', lang, folder=where)}</small>")
        self.widget = W.VBox([W.HBox([self.name, self.save_button, self.rename_button]),
                              W.HBox([self.pick, self.load_button, self.delete_button]), self.message, folder_note])
        self.refresh()

    def save(self, name: str, replace: bool = False, button: W.Button | None = None) -> Path:
        """Save the panel's options as the user's set ``name``; a second click (of ``button``, by default
        Save) confirms replacing one."""
        confirmed = replace or self._confirm == ("save", name)
        self.unconfirm()
        try:
            path = sets.save_params(self.panel.options(), name, self.folder, replace=confirmed, media=self.media())
        except ParamsExist:
            self._ask("save", name, button or self.save_button, tr("replace", self.lang, name=name))
            raise
        self.refresh(select=path.stem)
        self.message.value = tr("saved", self.lang, path=path)
        return path

    def load(self, name: str) -> LipSyncOptions:
        """Put the set ``name`` (shipped, the user's, or a file) into the panel and return its options."""
        if not name:
            raise OptionsError("name", "choose a parameter set to load")
        found = sets.find_params(name, self.folder)
        options = self.panel.sets.choose(name)      # the options panel's menu shows it too
        self.message.value = tr("loaded", self.lang, path=found.path)
        return options

    def delete(self, name: str, confirmed: bool = False) -> Path | None:
        """Delete the user's set ``name`` on the second click (or with ``confirmed``)."""
        if not (confirmed or self._confirm == ("delete", name)):
            sets.find_params(name, self.folder)
            self._ask("delete", name, self.delete_button, tr("confirm_delete", self.lang, name=name))
            return None
        self.unconfirm()
        path = sets.delete_params(name, self.folder)
        self.refresh()
        self.message.value = tr("deleted", self.lang, path=path)
        return path

    def rename(self, name: str, new: str) -> Path:
        path = sets.rename_params(name, new, self.folder)
        self.refresh(select=path.stem)
        self.message.value = tr("renamed", self.lang, path=path)
        return path

    def refresh(self, select: str | None = None) -> None:
        self.panel.sets.refresh()          # the options panel's own menu of sets
        found = sets.list_params(self.folder)
        self.pick.options = [(s.label, s.name) for s in found]
        if select in {s.name for s in found}:
            self.pick.value = select

    def _ask(self, action: str, name: str, button: W.Button, question: str) -> None:
        self.unconfirm()
        self._confirm = (action, name)
        self._asking.append((button, button.description))
        button.description, button.button_style = question, "warning"

    def unconfirm(self) -> None:
        """Forget a question awaiting its second click; its button says its own words again."""
        self._confirm = None
        while self._asking:
            button, words = self._asking.pop()
            button.description, button.button_style = words, ""

    def _safely(self, action, *args):
        try:
            return action(*args)
        except ParamsExist as exc:
            self.message.value = error_html(exc, "#9a5b00")
        except Exception as exc:  # noqa: BLE001 - a callback's exception would only reach the log console
            if not isinstance(exc, HeygemError):
                log.exception("parameter set action failed")
            self.message.value = error_html(exc)
        return None
