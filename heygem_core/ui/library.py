"""Earlier uploads as a searchable checklist with thumbnails: tick several at once to use them again.

Each row is a checkbox, a small thumbnail and the file's name (cut with "…" when long, whole in its
tooltip). Ticking a row puts the file on the chosen list, unticking takes it off; the list and the checklist
always agree. Thumbnails are JPEGs under ``thumbnails/upload-<id>.jpg`` (small: the uploads themselves are shown
only in the before/after view), made on a thread the first time a file is listed.
"""
from __future__ import annotations

import html
import logging
import threading
from pathlib import Path
from typing import Callable

import ipywidgets as w

from .i18n import format_size, tr

log = logging.getLogger(__name__)

THUMB_WIDTH = 160


def short_name(name: str, limit: int = 42) -> str:
    """``name`` cut in the middle with "…" when longer than ``limit`` characters; the extension stays."""
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    tail = f".{ext}" if dot and len(ext) <= 5 else ""
    stem = stem if tail else name
    keep = max(4, limit - len(tail) - 1)
    head = (keep * 2 + 2) // 3
    return f"{stem[:head]}…{stem[-(keep - head):] if keep > head else ''}{tail}"


def upload_thumbnail(ws, path: Path) -> Path:
    """Where the thumbnail of an upload lives (named after its content id, the upload's folder)."""
    return ws.thumbnails / f"upload-{path.parent.name}.jpg"


def _size(path: Path) -> str:
    try:
        return format_size(path.stat().st_size)
    except OSError:
        return ""


class _Row:
    def __init__(self, path: Path, on_change: Callable[["_Row"], None]):
        self.path = path
        self.check = w.Checkbox(value=False, indent=False, layout=w.Layout(width="22px", flex="0 0 auto"))
        self.check.add_class("hg-library-check")
        self.label = w.HTML(layout=w.Layout(flex="1 1 auto", min_width="0"))
        self.label.add_class("hg-library-label")
        self.widget = w.HBox([self.check, self.label], layout=w.Layout(align_items="center", width="100%"))
        self.widget.add_class("hg-library-row")
        self.check.observe(lambda _: on_change(self), "value")

    def render(self, thumb_url: str | None) -> None:
        name = self.path.name
        thumb = (f'<img class="hg-thumb" alt="" loading="lazy" src="{html.escape(thumb_url)}">' if thumb_url
                 else '<span class="hg-thumb hg-thumb-none">▶</span>')
        self.label.value = (f'<div class="hg-library-item" title="{html.escape(name)}">{thumb}'
                            f'<span class="hg-ellipsis hg-library-name">{html.escape(name)}</span>'
                            f'<span class="hg-muted hg-library-size">{_size(self.path)}</span></div>')

    def close(self) -> None:
        for widget in (self.check, self.label, self.widget):
            widget.close()


class UploadLibrary:
    """The checklist. ``on_toggle(path, checked)`` is called when a person ticks or unticks a row."""

    def __init__(self, workspace, *, lang: str, url_for: Callable[[str | None, str], str | None] | None,
                 on_toggle: Callable[[Path, bool], None]):
        self.ws, self.lang, self.url_for, self.on_toggle = workspace, lang, url_for, on_toggle
        self.title = w.HTML()
        self.title.add_class("hg-hint")
        self.search = w.Text(continuous_update=True, layout=w.Layout(flex="1 1 auto", width="auto", min_width="0"))
        self.search.add_class("hg-library-search")
        self.search.observe(lambda _: self._filter(), "value")
        self.all_button = w.Button(icon="check-square", layout=w.Layout(width="auto", flex="0 0 auto"))
        self.all_button.add_class("hg-quiet")
        self.all_button.add_class("hg-library-all")
        self.all_button.on_click(lambda _: self.tick_shown(True))
        self.none_button = w.Button(icon="square-o", layout=w.Layout(width="auto", flex="0 0 auto"))
        self.none_button.add_class("hg-quiet")
        self.none_button.add_class("hg-library-none")
        self.none_button.on_click(lambda _: self.tick_shown(False))
        self.list = w.VBox(layout=w.Layout(width="100%"))
        self.list.add_class("hg-library")
        self.empty = w.HTML()
        self.empty.add_class("hg-hint")
        bar = w.HBox([self.search, self.all_button, self.none_button],
                     layout=w.Layout(width="100%", align_items="center"))
        bar.add_class("hg-library-bar")
        self.widget = w.VBox([self.title, bar, self.list, self.empty], layout=w.Layout(width="100%"))
        self.widget.add_class("hg-library-box")
        self.rows: dict[Path, _Row] = {}
        self._order: list[Path] = []
        self._quiet = False          # set while the page itself ticks rows (no callbacks then)
        self._lock = threading.RLock()
        self._thumb_thread: threading.Thread | None = None
        self._no_thumb: set[Path] = set()     # files whose thumbnail could not be made
        self.set_lang(lang)

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self.title.value = tr("add_previous", lang)
        self.search.placeholder = tr("search_uploads", lang)
        self.all_button.description = tr("tick_shown", lang)
        self.none_button.description = tr("untick_all", lang)
        self._filter()

    # -- the list -----------------------------------------------------------------------------------------
    def set_files(self, files: list[Path], chosen: list[Path]) -> None:
        """Show ``files`` (newest first), ticking those in ``chosen``."""
        with self._lock:
            if files != self._order:
                keep = {}
                for path in files:
                    row = self.rows.get(path)
                    if row is None:
                        row = _Row(path, self._changed)
                        row.render(self._thumb_url(path))
                    keep[path] = row
                for path, row in self.rows.items():
                    if path not in keep:
                        row.close()
                self.rows, self._order = keep, list(files)
                self.list.children = [self.rows[p].widget for p in files]
                self._make_thumbnails()
            self.tick(chosen)
            self._filter()

    def tick(self, chosen: list[Path]) -> None:
        """Tick exactly the rows in ``chosen`` (without calling ``on_toggle``)."""
        with self._lock:
            self._quiet = True
            try:
                wanted = set(chosen)
                for path, row in self.rows.items():
                    if row.check.value != (path in wanted):
                        row.check.value = path in wanted
            finally:
                self._quiet = False

    def tick_shown(self, on: bool) -> None:
        """Tick (or untick) every row the search shows."""
        for path in self.shown():
            row = self.rows[path]
            if row.check.value != on:
                row.check.value = on     # calls on_toggle through the observer

    def shown(self) -> list[Path]:
        return [p for p in self._order if self._matches(p)]

    def _matches(self, path: Path) -> bool:
        words = self.search.value.lower().split()
        name = path.name.lower()
        return all(word in name for word in words)

    def _filter(self) -> None:
        with self._lock:
            shown = 0
            for path in self._order:
                match = self._matches(path)
                shown += match
                display = "" if match else "none"
                row = self.rows[path]
                if row.widget.layout.display != display:
                    row.widget.layout.display = display
            if not self._order:
                self.empty.value = tr("no_uploads_yet", self.lang)
            elif not shown:
                self.empty.value = tr("no_match", self.lang)
            else:
                self.empty.value = ""

    def _changed(self, row: _Row) -> None:
        if not self._quiet:
            self.on_toggle(row.path, bool(row.check.value))

    # -- thumbnails ---------------------------------------------------------------------------------------
    def _thumb_url(self, path: Path) -> str | None:
        thumb = upload_thumbnail(self.ws, path)
        if self.url_for is None or not thumb.is_file():
            return None
        return self.url_for(str(thumb), path.parent.name)

    def _missing(self) -> list[Path]:
        return [p for p in list(self._order)
                if p not in self._no_thumb and not upload_thumbnail(self.ws, p).is_file()]

    def _make_thumbnails(self) -> None:
        if self.url_for is None or not self._missing() or (self._thumb_thread and self._thumb_thread.is_alive()):
            return
        self._thumb_thread = threading.Thread(target=self._thumbnails, daemon=True, name="heygem-upload-thumbs")
        self._thumb_thread.start()

    def _thumbnails(self) -> None:
        """Make the missing thumbnails, including those of files listed while this runs."""
        from ..jobs.media import write_thumbnail

        while missing := self._missing():
            path = missing[0]
            try:
                write_thumbnail(path, upload_thumbnail(self.ws, path), width=THUMB_WIDTH)
            except Exception as exc:   # a file that cannot be read keeps its placeholder
                log.info("no thumbnail for %s: %s", path.name, exc)
                self._no_thumb.add(path)
                continue
            row = self.rows.get(path)
            if row is not None:
                row.render(self._thumb_url(path))
