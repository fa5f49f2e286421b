"""Choosing the speech and the face videos: upload new files (checked as they arrive) or pick earlier ones.

An upload is checked on a thread (type, size, then whether it really decodes), so a large file never blocks
the rest of the page. Only files that pass are kept in the workspace and become selectable; a file that
fails gets a one-line message and nothing else happens.
"""
from __future__ import annotations

import html
import logging
import threading
from pathlib import Path
from typing import Callable

import ipywidgets as w

from .i18n import format_size, tr
from .library import UploadLibrary, short_name
from .uploads import list_uploads, short_exts, supported_exts, validate_upload

log = logging.getLogger(__name__)


class UploadBox:
    """An upload button plus the status of what arrived. Calls ``on_ready(path)`` for each accepted file."""

    def __init__(self, workspace, kind: str, *, multiple: bool, limit_bytes: int, lang: str,
                 label_key: str, on_ready: Callable[[Path], None]):
        self.ws, self.kind, self.limit_bytes, self.lang = workspace, kind, limit_bytes, lang
        self.label_key = label_key
        self.on_ready = on_ready
        accept = ",".join(supported_exts(kind))
        self.upload = w.FileUpload(accept=accept, multiple=multiple, layout=w.Layout(width="auto"))
        self.upload.add_class("hg-upload")
        self.upload.add_class(f"hg-upload-{kind}")
        self.upload.observe(self._received, "value")
        self.hint = w.HTML()
        self.hint.add_class("hg-hint")
        self.status = w.HTML()
        self.status.add_class("hg-upload-status")
        self.widget = w.VBox([w.HBox([self.upload, self.hint], layout=w.Layout(align_items="center")),
                              self.status])
        self.widget.add_class(f"hg-upload-box-{kind}")
        self._pending = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.set_lang(lang)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        # The button's own text ends in a file count, " (0)"; the page shows the tooltip as the label instead
        # (see style.py), which keeps the label and hides the count.
        self.upload.description = ""
        self.upload.tooltip = tr(self.label_key, lang)
        self.hint.value = html.escape(tr("limit", lang, exts=short_exts(self.kind),
                                         limit=format_size(self.limit_bytes)))

    def _received(self, change) -> None:
        files = change["new"]            # a tuple of dicts: name, type, size, content (memoryview), …
        if not files:
            return
        # Copy the bytes out and clear the widget at once: the content is not kept in the page's state.
        batch = [(f["name"], bytes(f["content"])) for f in files]
        self.upload.value = ()
        with self._lock:
            self._pending += len(batch)
        self._show([("…", tr("checking", self.lang, name=name)) for name, _ in batch])
        thread = threading.Thread(target=self._check_all, args=(batch, self.lang), daemon=True,
                                  name=f"heygem-upload-{self.kind}")
        self._threads.append(thread)
        thread.start()

    def _check_all(self, batch: list[tuple[str, bytes]], lang: str) -> None:
        lines = []
        for name, data in batch:
            try:
                problem = validate_upload(self.kind, name, data, limit_bytes=self.limit_bytes, lang=lang)
                if problem is None:
                    path = self.ws.store_upload(name, data)
                    lines.append(("ok", tr("upload_ok", lang, name=name, size=format_size(len(data)))))
                    self.on_ready(path)
                else:
                    lines.append(("error", problem))     # a Problem keeps its technical reason apart
            except Exception as exc:  # never a traceback in the page; the log has it
                log.exception("upload %s failed", name)
                lines.append(("error", tr("error_generic", lang, msg=str(exc) or type(exc).__name__)))
            finally:
                with self._lock:
                    self._pending -= 1
        self._show(lines)

    def _show(self, lines: list[tuple[str, str]]) -> None:
        cls = {"ok": "hg-ok", "error": "hg-error"}
        out = []
        for kind, text in lines:
            detail = getattr(text, "detail", None)
            if detail:     # plain words first; the technical reason folded away under them
                out.append(f'<div class="{cls.get(kind, "hg-muted")}">{html.escape(text.short)}'
                           f'<details class="hg-why"><summary>{html.escape(tr("why", self.lang))}</summary>'
                           f'{html.escape(detail)}</details></div>')
            else:
                out.append(f'<div class="{cls.get(kind, "hg-muted")}">{html.escape(text)}</div>')
        self.status.value = "".join(out)

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the checks under way (used by tests and scripts)."""
        for t in list(self._threads):
            t.join(timeout)


def _size(path: Path) -> str:
    try:
        return format_size(path.stat().st_size)
    except OSError:
        return ""


def _choice_label(path: Path) -> str:
    """A dropdown entry: a long name cut in the middle with "…" (a closed list cannot show it whole)."""
    size = _size(path)
    return f"{short_name(path.name)}  ({size})" if size else short_name(path.name)


class SinglePicker:
    """One file of ``kind``: upload it, or pick an earlier upload from a list."""

    def __init__(self, workspace, kind: str, *, limit_bytes: int, lang: str, title_key: str, upload_key: str):
        self.ws, self.kind = workspace, kind
        self.title_key = title_key
        self.title = w.HTML()
        self.title.add_class("hg-field-title")
        self.choice = w.Dropdown(options=[("", "")], value="", layout=w.Layout(width="100%"))
        self.choice.add_class(f"hg-choice-{kind}")
        self.box = UploadBox(workspace, kind, multiple=False, limit_bytes=limit_bytes, lang=lang,
                             label_key=upload_key, on_ready=self._ready)
        self.previous = w.HTML()
        self.previous.add_class("hg-hint")
        self.previous.layout = w.Layout(flex="0 0 auto", margin="0 8px 0 0")
        self.choice.layout = w.Layout(flex="1 1 auto", width="auto")
        pick_row = w.HBox([self.previous, self.choice], layout=w.Layout(align_items="center", width="100%"))
        self.widget = w.VBox([self.title, self.box.widget, pick_row])
        self.widget.add_class("hg-field")
        self._files: list[Path] = []
        self.lang = lang
        self.refresh()
        self.set_lang(lang)

    @property
    def path(self) -> Path | None:
        return Path(self.choice.value) if self.choice.value else None

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self.title.value = tr(self.title_key, lang)
        self.previous.value = tr("pick_previous", lang)
        self.box.set_lang(lang)
        self._set_options(self._files, force=True)

    def refresh(self) -> None:
        """Re-read the uploads folder (another page may have added files)."""
        self._set_options(list_uploads(self.ws.uploads, self.kind))

    def _set_options(self, files: list[Path], *, force: bool = False, select: Path | None = None) -> None:
        if files == self._files and not force and select is None:
            return
        self._files = files
        current = select or self.path
        options = [(tr("nothing_chosen", self.lang), "")] + [(_choice_label(p), str(p)) for p in files]
        value = str(current) if current and current in files else ""
        self.choice.options = options
        self.choice.value = value

    def choose(self, path: Path | None) -> None:
        """Choose ``path`` (an upload of this kind), or nothing."""
        files = list_uploads(self.ws.uploads, self.kind)
        if path is None:
            self.choice.value = ""
        elif path in files:
            self._set_options(files, select=path)

    def _ready(self, path: Path) -> None:
        files = list_uploads(self.ws.uploads, self.kind)
        if path not in files:
            files.insert(0, path)
        self._set_options(files, select=path)


class MultiPicker:
    """Several videos: uploads go straight onto the chosen list; earlier uploads are ticked in a checklist."""

    def __init__(self, workspace, kind: str, *, limit_bytes: int, lang: str, title_key: str, upload_key: str,
                 url_for=None):
        self.ws, self.kind, self.title_key, self.lang = workspace, kind, title_key, lang
        self.title = w.HTML()
        self.title.add_class("hg-field-title")
        self.box = UploadBox(workspace, kind, multiple=True, limit_bytes=limit_bytes, lang=lang,
                             label_key=upload_key, on_ready=self._ready)
        self.chosen: list[Path] = []
        self.list = w.VBox()
        self.list.add_class("hg-chosen")
        self.empty = w.HTML()
        self.empty.add_class("hg-hint")
        self.library = UploadLibrary(workspace, lang=lang, url_for=url_for, on_toggle=self._toggled)
        self.widget = w.VBox([self.title, self.box.widget, self.empty, self.list, self.library.widget])
        self.widget.add_class("hg-field")
        self._files: list[Path] = []
        self._lock = threading.RLock()
        self.on_change: Callable[[], None] | None = None     # called when the chosen list changes
        self.refresh()
        self.set_lang(lang)

    @property
    def paths(self) -> list[Path]:
        return list(self.chosen)

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self.title.value = tr(self.title_key, lang)
        self.empty.value = tr("no_videos", lang)
        self.box.set_lang(lang)
        self.library.set_lang(lang)
        self._render()

    def refresh(self) -> None:
        self._set_files(list_uploads(self.ws.uploads, self.kind))

    def _set_files(self, files: list[Path]) -> None:
        with self._lock:
            self._files = files
            self.library.set_files(files, self.chosen)

    def add(self, path: Path) -> None:
        with self._lock:
            if path not in self.chosen:
                self.chosen.append(path)
                self._changed()

    def remove(self, path: Path) -> None:
        with self._lock:
            if path in self.chosen:
                self.chosen.remove(path)
                self._changed()

    def clear(self) -> None:
        self.set_paths([])

    def set_paths(self, paths: list[Path]) -> None:
        """Choose exactly ``paths`` (those still in the workspace), in that order."""
        with self._lock:
            self.chosen = [Path(p) for p in dict.fromkeys(paths) if Path(p).is_file()]
            self._changed()

    def _toggled(self, path: Path, checked: bool) -> None:
        (self.add if checked else self.remove)(path)

    def _ready(self, path: Path) -> None:
        with self._lock:
            if path not in self.chosen:
                self.chosen.append(path)
            self._set_files(list_uploads(self.ws.uploads, self.kind))
            self._changed()

    def _changed(self) -> None:
        self.library.tick(self.chosen)
        self._render()
        if self.on_change is not None:
            self.on_change()

    def _render(self) -> None:
        with self._lock:
            old = list(self.list.children)
            rows = []
            for i, path in enumerate(self.chosen, 1):
                label = w.HTML(f'<div class="hg-chosen-name" title="{html.escape(path.name)}">'
                               f'<span class="hg-index">{i}</span><span class="hg-ellipsis">'
                               f'{html.escape(path.name)}</span><span class="hg-muted">{_size(path)}</span></div>',
                               layout=w.Layout(flex="1 1 auto", min_width="0"))
                button = w.Button(icon="times", tooltip=tr("remove", self.lang),
                                  layout=w.Layout(width="auto", flex="0 0 auto"))
                button.add_class("hg-quiet")
                button.on_click(lambda _, p=path: self.remove(p))
                row = w.HBox([label, button], layout=w.Layout(justify_content="space-between",
                                                              align_items="center"))
                row.add_class("hg-chosen-row")
                rows.append(row)
            self.list.children = rows
            self.empty.layout.display = "none" if rows else ""
            for row in old:
                for child in row.children:
                    child.close()
                row.close()
