"""The history gallery: every finished video, newest first, played and downloaded straight from the workspace.

Videos and thumbnails are `<video>`/`<img>` elements pointing at `/voila/files/...`: the browser streams
them from the server (with seeking), nothing goes through the kernel's websocket.
"""
from __future__ import annotations

import html
import logging
import threading
import time
from pathlib import Path
from typing import Callable

import ipywidgets as w

from .compare import compare_button, template_poster
from .i18n import format_duration, format_size, tr

log = logging.getLogger(__name__)

PAGE = 60                 # cards shown at first, and added by "show more"
EXPORT_KEEP_S = 24 * 3600  # ZIP exports older than this are removed when a new one is made

UrlFor = Callable[[str | None, str], str | None]


def describe(entry, lang: str) -> tuple[str, str, str]:
    """(title, audio line, details line) of a history entry: the output file's name (two runs of the same
    video and speech differ there); the speech it says; the date, length and sync score."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created)) if entry.created else "—"
    r = (entry.score or {}).get("r")
    sync = tr("score", lang, r=f"{r:.2f}") if isinstance(r, (int, float)) else tr("no_score", lang)
    lips = phonetic_figures(entry.score, lang)
    if lips:
        sync += ", " + lips[0]
    title = Path(entry.output).name if entry.output else entry.video_name
    return (title, f"♪ {entry.audio_name}",
            " · ".join([when, format_duration(entry.duration), sync]))


def phonetic_figures(score: dict | None, lang: str) -> tuple[str, str] | None:
    """(short text, explanation) of a result's phonetic figures: the lips closing on p/b/m against chance, and
    the open vowels' aperture; None when the result has none (no bilabials heard, or scored before)."""
    ph = (score or {}).get("phonetic") or {}
    closed, chance, ratio = ph.get("bilabial_closure"), ph.get("chance"), ph.get("aperture_ratio")
    if not isinstance(closed, (int, float)):
        return None
    pct = f"{100 * closed:.0f}"
    lines = [tr("lips_help", lang, pct=pct, chance=f"{100 * chance:.0f}" if isinstance(chance, (int, float)) else "–")]
    if isinstance(ratio, (int, float)):
        lines.append(tr("aperture_help", lang, ratio=f"{ratio:.1f}"))
    return tr("lips_closed", lang, pct=pct), "\n".join(lines)


def score_class(score: dict | None) -> str:
    """A colour for the sync score: how closely the mouth follows the speech (Pearson r)."""
    r = (score or {}).get("r")
    if not isinstance(r, (int, float)):
        return "hg-score-none"
    return "hg-score-good" if r >= 0.5 else "hg-score-fair" if r >= 0.25 else "hg-score-low"


class HistoryCard:
    """One finished video: player (thumbnail as poster), names, date, length, score, select, download,
    before/after, delete."""

    def __init__(self, entry, url_for: UrlFor, lang: str, on_delete, on_select, poster: str | None = None):
        self.entry = entry
        self.url_for = url_for
        self.poster = poster          # the template's thumbnail, for the before/after view
        self.media = w.HTML()
        self.media.add_class("hg-media")
        self.text = w.HTML()
        self.select = w.Checkbox(value=False, indent=False, layout=w.Layout(width="auto"))
        self.select.add_class("hg-select")
        self.select.observe(lambda _: on_select(), "value")
        self.download = w.HTML()
        self.delete_button = w.Button(icon="trash", layout=w.Layout(width="auto"))
        self.delete_button.add_class("hg-quiet")
        self.delete_button.add_class("hg-delete")
        self._armed = False
        self._on_delete = on_delete
        self.delete_button.on_click(self._delete_clicked)
        actions = w.HBox([self.select, self.download, self.delete_button])
        actions.add_class("hg-card-actions")
        self.widget = w.VBox([self.media, self.text, actions])
        self.widget.add_class("hg-card")
        self.widget.add_class("hg-history-card")
        self.lang = lang
        self.media.value = self._media_html()
        self.set_lang(lang)

    def _media_html(self) -> str:
        e = self.entry
        src = self.url_for(e.output, e.item_id)
        poster = self.url_for(e.thumbnail, e.item_id)
        poster_attr = f' poster="{html.escape(poster)}"' if poster else ""
        if not src:
            return f'<div class="hg-missing">{html.escape(Path(e.output or "").name)}</div>'
        return (f'<video class="hg-video" controls preload="none" playsinline{poster_attr} '
                f'src="{html.escape(src)}" data-item="{html.escape(e.item_id)}"></video>')

    def _score_help(self, lang: str) -> str:
        lips = phonetic_figures(self.entry.score, lang)
        return tr("score_help", lang) + (f"\n{lips[1]}" if lips else "")

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        title, audio, details = describe(self.entry, lang)
        when_length, _, sync = details.rpartition(" · ")
        self.text.value = (f'<div class="hg-card-title" title="{html.escape(title)}">{html.escape(title)}</div>'
                           f'<div class="hg-meta hg-audio" title="{html.escape(audio)}">{html.escape(audio)}</div>'
                           f'<div class="hg-meta">{html.escape(when_length)} · <span class="hg-score '
                           f'{score_class(self.entry.score)}" title="{html.escape(self._score_help(lang))}">'
                           f'{html.escape(sync)}</span></div>')
        src = self.url_for(self.entry.output, self.entry.item_id)
        name = Path(self.entry.output or "").name
        self.download.value = (f'<a class="hg-link" href="{html.escape(src)}" download="{html.escape(name)}">'
                               f'⬇ {tr("download", lang)}</a>' if src else "") + compare_button(
            self.url_for, self.entry.video, self.entry.output, self.entry.item_id, lang=lang,
            loop_mode=(self.entry.options or {}).get("loop_mode"), poster=self.poster)
        self._disarm()

    def _delete_clicked(self, _=None) -> None:
        if not self._armed:  # first click asks, the second deletes
            self._armed = True
            self.delete_button.description = tr("confirm", self.lang)
            self.delete_button.button_style = "danger"
            threading.Timer(4.0, self._disarm).start()
            return
        self._disarm()
        self._on_delete([self.entry.item_id])

    def close(self) -> None:
        for widget in (self.media, self.text, self.select, self.download, self.delete_button, *self.widget.children,
                       self.widget):
            widget.close()

    def _disarm(self) -> None:
        self._armed = False
        self.delete_button.description = ""
        self.delete_button.tooltip = tr("delete", self.lang)
        self.delete_button.button_style = ""


class HistoryGallery:
    """The History tab. ``refresh()`` re-reads the workspace (cheap when nothing changed)."""

    def __init__(self, workspace, url_for: UrlFor, lang: str = "zh"):
        self.ws = workspace
        self.url_for = url_for
        self.lang = lang
        self.limit = PAGE
        self.cards: dict[str, HistoryCard] = {}
        self._order: list[str] = []
        self._signature: tuple | None = None
        self._lock = threading.RLock()
        self._armed_bulk = False
        self._total = 0

        self.select_all = w.Button(icon="check-square", layout=w.Layout(width="auto"))
        self.select_all.on_click(lambda _: self._select(True))
        self.select_none = w.Button(icon="square-o", layout=w.Layout(width="auto"))
        self.select_none.on_click(lambda _: self._select(False))
        self.zip_button = w.Button(icon="file-archive-o", button_style="primary", layout=w.Layout(width="auto"))
        self.zip_button.on_click(lambda _: self.export_selected())
        self.delete_button = w.Button(icon="trash", layout=w.Layout(width="auto"))
        self.delete_button.on_click(lambda _: self._bulk_delete_clicked())
        for b in (self.select_all, self.select_none, self.delete_button):
            b.add_class("hg-quiet")
        for b, name in ((self.select_all, "hg-select-all"), (self.select_none, "hg-select-none"),
                        (self.zip_button, "hg-zip"), (self.delete_button, "hg-delete-selected")):
            b.add_class(name)
        self.count = w.HTML()
        self.count.add_class("hg-muted")
        self.message = w.HTML()
        self.message.add_class("hg-message")
        self.zip_link = w.HTML()
        self.zip_link.add_class("hg-zip-link")
        toolbar = w.HBox([self.select_all, self.select_none, self.zip_button, self.delete_button, self.count])
        toolbar.add_class("hg-toolbar")
        self.empty = w.HTML()
        self.empty.add_class("hg-empty")
        self.grid = w.GridBox(layout=w.Layout(grid_template_columns="repeat(auto-fill, minmax(250px, 1fr))",
                                              grid_gap="16px", width="100%"))
        self.grid.add_class("hg-grid")
        self.more = w.Button(layout=w.Layout(width="auto", display="none"))
        self.more.add_class("hg-quiet")
        self.more.on_click(lambda _: self._show_more())
        self.widget = w.VBox([toolbar, self.message, self.zip_link, self.empty, self.grid, self.more])
        self.widget.add_class("hg-history")
        self.set_lang(lang)

    # -- reading ------------------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Show the current history; returns whether the shown list changed."""
        with self._lock:
            entries = self.ws.store.history()
            total = len(entries)
            entries = entries[:self.limit]
            signature = (tuple(e.item_id for e in entries), total)
            if signature == self._signature and not force:
                return False
            self._signature = signature
            keep = {}
            for e in entries:
                card = self.cards.get(e.item_id)
                if card is None:
                    card = HistoryCard(e, self.url_for, self.lang, self.delete, self._update_count,
                                       poster=template_poster(self.ws, self.url_for, e.video))
                keep[e.item_id] = card
            for item_id, card in self.cards.items():
                if item_id not in keep:
                    card.close()
            self.cards = keep
            self._order = [e.item_id for e in entries]
            self.grid.children = [self.cards[i].widget for i in self._order]
            self.empty.layout.display = "none" if entries else ""
            self.more.layout.display = "" if total > len(entries) else "none"
            self._total = total
            self._update_count()
            return True

    def selected_ids(self) -> list[str]:
        return [i for i in self._order if self.cards[i].select.value]

    # -- actions ------------------------------------------------------------------------------------------
    def _select(self, on: bool) -> None:
        for i in self._order:
            self.cards[i].select.value = on

    def _show_more(self) -> None:
        self.limit += PAGE
        self.refresh(force=True)

    def export_selected(self) -> threading.Thread | None:
        """Pack the selected videos into a ZIP under outputs/exports/ on a thread; a link appears when ready."""
        ids = self.selected_ids()
        if not ids:
            self._say(tr("select_first", self.lang), error=True)
            return None
        self._say(tr("zip_making", self.lang, n=len(ids)))
        self.zip_link.value = ""
        thread = threading.Thread(target=self._export, args=(ids, self.lang), daemon=True, name="heygem-zip")
        thread.start()
        return thread

    def _export(self, ids: list[str], lang: str) -> None:
        try:
            path = write_export(self.ws, ids)
            url = self.url_for(str(path), path.stem)
            label = tr("zip_ready", lang, n=len(ids), size=format_size(path.stat().st_size))
            self.zip_link.value = (f'<a class="hg-link hg-primary" href="{html.escape(url or "")}" '
                                   f'download="{html.escape(path.name)}">{html.escape(label)}</a>')
            self._say("")
        except Exception as exc:  # shown in the page, logged in full
            log.exception("ZIP export failed")
            self._say(tr("zip_failed", lang, msg=str(exc) or type(exc).__name__), error=True)

    def delete(self, ids: list[str]) -> None:
        n = 0
        for item_id in ids:
            try:
                self.ws.store.delete_entry(item_id)
                n += 1
            except Exception as exc:
                log.exception("deleting %s failed", item_id)
                self._say(tr("error_generic", self.lang, msg=str(exc)), error=True)
        if n:
            self._say(tr("deleted", self.lang, n=n))
        self.refresh(force=True)

    def _bulk_delete_clicked(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self._say(tr("select_first", self.lang), error=True)
            return
        if not self._armed_bulk:
            self._armed_bulk = True
            self.delete_button.description = tr("confirm_delete", self.lang, n=len(ids))
            self.delete_button.button_style = "danger"
            threading.Timer(4.0, self._disarm_bulk).start()
            return
        self._disarm_bulk()
        self.delete(ids)

    def _disarm_bulk(self) -> None:
        self._armed_bulk = False
        self.delete_button.description = tr("delete_selected", self.lang)
        self.delete_button.button_style = ""

    # -- text ---------------------------------------------------------------------------------------------
    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self.select_all.description = tr("select_all", lang)
        self.select_none.description = tr("select_none", lang)
        self.zip_button.description = tr("zip_selected", lang)
        self._disarm_bulk()
        self.more.description = "…"
        self.empty.value = tr("history_empty", lang)
        with self._lock:
            for card in self.cards.values():
                card.set_lang(lang)
        self._update_count()

    def _update_count(self) -> None:
        self.count.value = (tr("selected_n", self.lang, n=len(self.selected_ids()), total=self._total)
                            if self._total else "")

    def _say(self, text: str, *, error: bool = False) -> None:
        cls = "hg-error" if error else "hg-note"
        self.message.value = f'<div class="{cls}">{html.escape(text)}</div>' if text else ""


def write_export(ws, ids: list[str], tag: str = "") -> Path:
    """A ZIP of the items ``ids`` in ``outputs/exports/`` (older exports pruned), named by time, ``tag`` and count."""
    exports = ws.outputs / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    _prune(exports)
    out = exports / f"heygem_{time.strftime('%Y%m%d_%H%M%S')}{tag}_{len(ids)}.zip"
    return Path(ws.store.export_zip(out, ids))


def _prune(folder: Path) -> None:
    cutoff = time.time() - EXPORT_KEEP_S
    for f in folder.glob("*.zip"):
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
        except OSError:
            pass
