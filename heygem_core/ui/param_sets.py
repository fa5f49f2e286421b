"""Parameter sets in the options panel: a menu of the shipped sets and the user's own, and "save these
settings as…". The files are read and written by ``tuning.params`` (the same sets as the CLI's ``--params``).

    chooser = SetChooser(panel, folder=None, lang="en")   # panel: an OptionsPanel
    chooser.choose("news")          # the panel's controls take the set's values
    chooser.save("mine")            # the user's folder; an existing set asks first (a second save replaces it)

The menu shows the chosen set while the controls hold its values; once one is moved, it shows "own settings".
"""
from __future__ import annotations

import html
import logging
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as w

from ..errors import HeygemError, OptionsError, ParamsExist
from ..tuning import params as sets
from .i18n import tr

log = logging.getLogger(__name__)

OWN = ""          # the menu's value while the controls match no chosen set


class SetChooser:
    """The set menu (``pick_row``) and the save row (``save_row``) of one ``OptionsPanel``."""

    def __init__(self, panel, folder: str | Path | None = None, lang: str = "zh"):
        self.panel, self.folder, self.lang = panel, folder, lang
        self._values: dict | None = None      # the chosen set's values, while the controls hold them
        self._busy = False                    # set while the chooser moves the controls itself
        self._replace: str | None = None      # a name the next save may replace (asked once)
        self.pick = w.Dropdown(options=[(tr("set_own", lang), OWN)], value=OWN,
                               style={"description_width": "auto"}, layout=w.Layout(width="100%"))
        self.pick.add_class("hg-set-pick")
        self.pick.observe(self._picked, names="value")
        self.pick_row = w.HBox([self.pick], layout=w.Layout(width="100%"))
        self.pick_row.add_class("hg-set-row")
        self.name = w.Text(continuous_update=True, layout=w.Layout(flex="1 1 10em", width="auto"))
        self.name.add_class("hg-set-name")
        self.name.observe(lambda _: self._unask(), names="value")
        self.save_button = w.Button(icon="save", layout=w.Layout(width="auto"))
        self.save_button.add_class("hg-quiet")
        self.save_button.add_class("hg-set-save")
        self.save_button.on_click(lambda _: self.save(self.name.value))
        self.message = w.HTML(tooltip="")      # "" not None: JupyterLab shows None as a 'null' tooltip
        self.message.add_class("hg-set-message")
        self.save_row = w.VBox([w.HBox([self.name, self.save_button], layout=w.Layout(width="100%")),
                                self.message])
        self.save_row.add_class("hg-set-save-row")
        self.set_lang(lang)                   # words, and the sets on disk

    # -- the menu -----------------------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Re-read the sets on disk (another page or the notebook may have saved one)."""
        found = sets.list_params(self.folder)
        value = select if select is not None else self.pick.value
        options = [(tr("set_own", self.lang), OWN)]
        options += [(tr("set_shipped", self.lang, name=s.name) if s.shipped else s.name, s.name) for s in found]
        value = value if value in {v for _, v in options} else OWN
        changed = tuple(options) != tuple(self.pick.options)
        if changed or self.pick.value != value:     # unchanged (the poller's look): an open menu stays open
            with self.quiet():
                if changed:
                    self.pick.options = options
                self.pick.value = value
        if self.pick.value == OWN:
            self._values = None

    @property
    def chosen(self) -> str | None:
        """The set the controls hold, or None for settings of one's own."""
        return self.pick.value or None

    def choose(self, name: str | None):
        """Put the set ``name`` into the panel and return its options (None or "": nothing changes but the
        menu); ``OptionsError`` when there is no such set."""
        if not name:
            self._values = None
            self._set_pick(OWN)
            return None
        options = sets.load_params(name, self.folder)
        with self.quiet():
            self.panel.set_options(options)
        if name not in {v for _, v in self.pick.options}:
            self.refresh()
        listed = name in {v for _, v in self.pick.options}      # a file given by its path is not
        self._values = self.panel.values() if listed else None
        self._set_pick(name if listed else OWN)
        self._say(tr("set_loaded", self.lang, name=name))
        return options

    @contextmanager
    def quiet(self):
        """Moves of the controls inside this block (loading a set, relabelling menus) keep the set chosen."""
        busy, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = busy

    def panel_changed(self) -> None:
        """The panel's controls moved: the menu says "own settings" once they differ from the chosen set."""
        if not self._busy and self._values is not None and self.panel.values() != self._values:
            self._values = None
            self._set_pick(OWN)
            self._say("")

    # -- saving -------------------------------------------------------------------------------------------
    def save(self, name: str) -> Path | None:
        """Save the panel's options as the user's set ``name``. An existing set is replaced only when the
        same name is saved twice in a row (the first save asks); shipped names are refused."""
        name = (name or "").strip()
        replace = self._replace is not None and self._replace == name
        self._unask()
        try:
            path = sets.save_params(self.panel.options(), name, self.folder, replace=replace)
        except ParamsExist:
            self._replace = name
            self.save_button.description = tr("set_replace", self.lang, name=name)
            self.save_button.button_style = "warning"
            self._say(tr("set_exists", self.lang, name=name), error=True)
            return None
        except OptionsError as exc:
            self._say(self._why(name, exc), error=True, detail=str(exc))
            return None
        except (HeygemError, OSError) as exc:
            log.warning("saving parameter set %r failed: %s", name, exc)
            self._say(tr("set_save_failed", self.lang, msg=str(exc)), error=True)
            return None
        self._values = self.panel.values()
        self.refresh(select=path.stem)
        self._say(tr("set_saved", self.lang, name=path.stem, path=path))
        return path

    def _why(self, name: str, exc: OptionsError) -> str:
        """The one line a person reads for a refused save, in their language."""
        if exc.name != "name":
            return tr("bad_option", self.lang, msg=str(exc))
        try:
            shipped = sets.check_name(name) in sets.shipped_names()
        except OptionsError:
            shipped = False
        return tr("set_shipped_name" if shipped else "set_bad_name", self.lang, name=name)

    # -- words --------------------------------------------------------------------------------------------
    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self.pick.description = tr("set_pick", lang)
        self.pick.tooltip = tr("set_pick_tip", lang)
        self.name.placeholder = tr("set_save_as", lang)
        self.name.tooltip = tr("set_name_tip", lang)
        self.save_button.tooltip = tr("set_save_tip", lang)
        self._unask()
        self.refresh()

    def _unask(self) -> None:
        self._replace = None
        self.save_button.description = tr("set_save", self.lang)
        self.save_button.button_style = ""

    def _set_pick(self, value: str) -> None:
        with self.quiet():
            self.pick.value = value

    def _picked(self, change) -> None:
        if self._busy:
            return
        try:
            self.choose(change["new"])
        except HeygemError as exc:           # the file went away or no longer validates
            self._say(tr("set_load_failed", self.lang, name=change["new"]), error=True, detail=str(exc))
            self._set_pick(OWN)
            self.refresh()

    def _say(self, text: str, *, error: bool = False, detail: str = "") -> None:
        cls = "hg-error" if error else "hg-note"
        title = f' title="{html.escape(detail)}"' if detail else ""
        self.message.value = f'<div class="{cls}"{title}>{html.escape(text)}</div>' if text else ""
