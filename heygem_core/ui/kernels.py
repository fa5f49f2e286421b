"""Page kernels that end with their page, and a cap on how many pages run at once.

Every page load takes a kernel (~60 MB) and Voilà never shuts one down when its page closes (voila#1458);
the idle culler cannot help either, because the dashboard's progress line keeps a kernel "active". So:

* the reaper ends a page's kernel once no websocket has been connected to it for ``grace_s`` seconds (a
  closed tab, a reload's old page, a ``curl`` of the page that never connects); the preheated kernel
  waiting for the next visitor is left alone;
* beyond ``cap`` live page kernels a new page load gets a short "too many open pages" page (503) instead of
  another kernel.
"""
from __future__ import annotations

import html
import logging
import time

log = logging.getLogger(__name__)

TOO_MANY_TITLE = "打开的页面太多 · Too many open pages"
TOO_MANY_TEXT = (
    ("打开的 HeyGem 页面太多（上限 {cap} 个）。请关闭一个不用的标签页；"
     "关闭的页面会在约一分钟内释放，然后刷新本页。"),
    ("Too many open pages: HeyGem allows {cap} at once. Close a tab you do not need (a closed page is "
     "released within about a minute), then reload this one."),
)


def pooled_kernels(km) -> set[str]:
    """Kernels Voilà keeps warm for the next visitor (not yet given to a page)."""
    ids = set()
    for pool in getattr(km, "_pools", {}).values():
        for future in list(pool):
            try:
                if future.done() and not future.exception():
                    ids.add(future.result().get("kernel_id"))
            except Exception:  # noqa: BLE001 - a pool entry that failed to start holds no kernel
                continue
    return ids


def page_kernels(km) -> list[str]:
    """Live kernels that belong to pages (all but the warm ones)."""
    warm = pooled_kernels(km)
    return [k for k in km.list_kernel_ids() if k not in warm]


def too_many_page(cap: int) -> str:
    paras = "".join(f"<p>{html.escape(t.format(cap=cap))}</p>" for t in TOO_MANY_TEXT)
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{TOO_MANY_TITLE}</title></head>'
            f'<body style="font-family:sans-serif;max-width:40em;margin:4em auto">'
            f"<h2>{TOO_MANY_TITLE}</h2>{paras}</body></html>")


class KernelReaper:
    """Call `tick()` every few seconds: shuts down page kernels without a connection for ``grace_s``."""

    def __init__(self, km, grace_s: float = 60.0):
        self.km = km
        self.grace_s = float(grace_s)
        self._alone_since: dict[str, float] = {}
        self.reaped = 0

    async def tick(self) -> None:
        now = time.monotonic()
        live = page_kernels(self.km)
        for kernel_id in list(self._alone_since):
            if kernel_id not in live:
                del self._alone_since[kernel_id]
        for kernel_id in live:
            if self.km._kernel_connections.get(kernel_id, 0) > 0 or self._busy(kernel_id):
                # connected, or still running the page's notebook (a warm kernel being made is busy too)
                self._alone_since.pop(kernel_id, None)
                continue
            since = self._alone_since.setdefault(kernel_id, now)
            if now - since >= self.grace_s:
                del self._alone_since[kernel_id]
                log.info("page kernel %s has had no page for %.0f s: shutting it down", kernel_id, now - since)
                try:
                    await self.km.shutdown_kernel(kernel_id)
                    self.reaped += 1
                except Exception:  # noqa: BLE001 - already gone, or dying on its own
                    log.debug("shutting down kernel %s failed", kernel_id, exc_info=True)


    def _busy(self, kernel_id: str) -> bool:
        try:
            state = getattr(self.km.get_kernel(kernel_id), "execution_state", None)
        except KeyError:
            return False
        return state in ("busy", "starting")


def capped(handler_class, cap: int):
    """``handler_class`` (Voilà's page handler) that answers "too many open pages" beyond ``cap`` page kernels."""

    from tornado.web import authenticated

    class CappedPageHandler(handler_class):
        @authenticated
        async def get(self, path=None):
            if cap > 0 and len(page_kernels(self.kernel_manager)) >= cap:
                log.warning("page refused: %d page kernels already run (cap %d)", cap, cap)
                self.set_status(503)
                self.set_header("Retry-After", "60")
                self.set_header("Content-Type", "text/html; charset=UTF-8")
                self.finish(too_many_page(cap))
                return
            return await super().get(path)

    CappedPageHandler.__name__ = f"Capped{handler_class.__name__}"
    return CappedPageHandler
