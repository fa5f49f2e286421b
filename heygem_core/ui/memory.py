"""What the page remembers per browser, and the kernel's side of the connection check.

The browser keeps the person's choices (files, options, language, the jobs this page queued) in its
local storage; the kernel cannot read that, so the page's script (page.js) hands it over through a hidden
text field once the widgets are up, and picks up each new state from a hidden HTML element. Until the
browser has answered, nothing is saved, so a fresh kernel never overwrites what was remembered.

The same hidden strip carries a heartbeat: a counter the poller bumps every couple of seconds. When it stops
(the kernel or the server went away), page.js shows a banner.
"""
from __future__ import annotations

import html
import json
import logging
import time
from pathlib import Path
from typing import Callable

import ipywidgets as w

log = logging.getLogger(__name__)

STORAGE_KEY = "heygem.page.v1"
BEAT_S = 2.0             # heartbeat period
SILENCE_MS = 7000        # no heartbeat for this long: the page says the connection is lost


class PageMemory:
    """Hidden widgets that carry the remembered state to and from the browser, and the heartbeat."""

    def __init__(self, on_restore: Callable[[dict], None]):
        self.on_restore = on_restore
        self.inbox = w.Text(value="", layout=w.Layout(display="none"))
        self.inbox.add_class("hg-memory-in")
        self.outbox = w.HTML(layout=w.Layout(display="none"))
        self.outbox.add_class("hg-memory-out")
        self.beat = w.HTML(layout=w.Layout(display="none"))
        self.beat.add_class("hg-heartbeat")
        self.widget = w.Box([self.inbox, self.outbox, self.beat], layout=w.Layout(display="none"))
        self.widget.add_class("hg-hidden")
        self.restored = False
        self._restoring = False
        self._saved: str | None = None
        self._beats = 0
        self._last_beat = 0.0
        self.inbox.observe(self._received, "value")

    def _received(self, change) -> None:
        if self.restored or self._restoring or not change["new"]:
            return
        self._restoring = True
        try:
            state = json.loads(change["new"])
        except ValueError:
            state = {}
        if not isinstance(state, dict):
            state = {}
        self._saved = json.dumps(state, sort_keys=True, ensure_ascii=False)
        try:
            self.on_restore(state)
        except Exception:  # a stale or odd state must not break the page: start fresh
            log.exception("restoring the page's state failed")
        finally:
            # only now: the poller, on its own thread, would otherwise save a half-restored page over what
            # the browser remembered (a reload right then would bring back the defaults)
            self.restored = True

    def save(self, state: dict) -> bool:
        """Hand ``state`` to the browser when it changed (and only once the browser has answered)."""
        if not self.restored:
            return False
        text = json.dumps(state, sort_keys=True, ensure_ascii=False)
        if text == self._saved:
            return False
        self._saved = text
        self.outbox.value = f'<div data-state="{html.escape(text)}"></div>'
        return True

    def heartbeat(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if now - self._last_beat >= BEAT_S:
            self._last_beat = now
            self._beats += 1
            self.beat.value = str(self._beats)


def page_state(d) -> dict:
    """What this browser remembers of dashboard ``d``: language, tab, chosen files (relative to uploads/),
    options, the parameter set they came from and the jobs it queued."""
    rel = lambda path: upload_name(d.ws, path)  # noqa: E731
    return {"lang": d.lang, "tab": d.tabs.selected_index or 0,
            "single": {"audio": rel(d.single_audio.path), "video": rel(d.single_video.path), "job": d.single_job},
            "batch": {"audio": rel(d.batch_audio.path), "videos": [v for v in map(rel, d.batch_videos.paths) if v],
                      "job": d.batch_job},
            "options": d.options.values(), "params": d.options.sets.chosen}


def restore_page(d, state: dict) -> None:
    """Bring back what `page_state` saved; files no longer in the workspace, unknown jobs and options that
    no longer validate are skipped."""
    from .i18n import LANGS

    up = lambda name: upload_path(d.ws, name)  # noqa: E731
    single, batch = state.get("single") or {}, state.get("batch") or {}
    d.single_audio.choose(up(single.get("audio")))
    d.single_video.choose(up(single.get("video")))
    d.batch_audio.choose(up(batch.get("audio")))
    d.batch_videos.set_paths([p for p in map(up, batch.get("videos") or []) if p])
    if isinstance(state.get("params"), str):          # the set first: the options as they were then follow
        try:
            d.options.sets.choose(state["params"])
        except Exception as exc:      # the set was deleted or renamed since
            log.info("remembered parameter set not restored: %s", exc)
    if isinstance(state.get("options"), dict):
        d.options.set_values(state["options"])
    store = d.ws.store
    if isinstance(single.get("job"), str) and store.get_job(single["job"]) is not None:
        d.single_job = single["job"]
    if isinstance(batch.get("job"), str) and store.get_job(batch["job"]) is not None:
        d.batch_job = batch["job"]
    if state.get("lang") in LANGS and state["lang"] != d.lang:
        d.set_lang(state["lang"])
    tab = state.get("tab")
    if isinstance(tab, int) and 0 <= tab < len(d.tabs.children):
        d.tabs.selected_index = tab
    d._render_result()
    d.refresh()


def upload_name(ws, path: Path | None) -> str | None:
    """An upload's path relative to uploads/ (None for anything else)."""
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(ws.uploads.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def upload_path(ws, name) -> Path | None:
    """The upload ``name`` (relative to uploads/) if it is still there; never a path outside uploads/."""
    if not isinstance(name, str) or not name or ".." in Path(name).parts or Path(name).is_absolute():
        return None
    path = ws.uploads / name
    return path if path.is_file() else None


def page_settings() -> dict:
    """What page.js needs: the storage key, the heartbeat's patience and its words in both languages (and
    compare.js's words)."""
    from .i18n import TEXT

    text = {k: list(TEXT[f"connection_{k}"]) for k in ("lost", "reload", "back")}
    text.update({f"compare_{k}": list(TEXT[f"compare_{k}"])
                 for k in ("before", "after", "close", "play", "pause", "unplayable")})
    return {"key": STORAGE_KEY, "silence_ms": SILENCE_MS, "text": text}
