"""The preview's player and its curves, with one cursor: the template and the result side by side in one video
(one play, pause and seek for both), and the curves under it (the spectrogram, the sync curve) as pictures
that take a click. A click on a curve tells the kernel where (a fraction of the picture's width); the
kernel makes it a time with the curve's ``plots.TimeAxis`` and calls ``on_time``; the app moves its frame
there and calls ``seek``. When the player pauses or is seeked, its time comes the same way. While it plays,
its playhead is drawn over every curve in the browser, without a round trip.

    player = Player(on_time=lambda seconds, source: ...)     # seconds of the full result
    player.show(video, offset=preview.start, fps=preview.fps)    # the side-by-side video
    player.curve("sync", fig)                                # a picture that takes clicks
    player.receive('{"kind": "click", "curve": "sync", "x": 0.5}')   # what the browser sends
    player.seek(1.2)                                         # move the player (seconds of the video)

Plain ipywidgets, nothing to install: JupyterLab runs no <script> inside widget HTML, but an image's
``onload`` runs, so each piece of HTML carries a tiny image whose ``onload`` is ``player.js`` (it defines
``window.hgTune`` once, then binds this tuner's player). Messages to the kernel go through a hidden text
field, as the dashboard's page memory does.
"""
from __future__ import annotations

import base64
import html
import json
import logging
import secrets
from pathlib import Path
from typing import Callable

import ipywidgets as W

from .. import plots

log = logging.getLogger(__name__)

_PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
_SCRIPT = (Path(__file__).with_name("player.js")).read_text(encoding="utf-8")


class Player:
    """The side-by-side player and clickable curves of one tuner. ``on_time(seconds, source)`` gets the time
    (of the full result) a click on a curve (``source`` ``"curve"``) or the resting player (``"video"``)
    points at; ``width`` is the player's width on the page (CSS pixels)."""

    def __init__(self, on_time: Callable[[float, str], None], width: int = 480):
        self.uid = secrets.token_hex(4)
        self.on_time = on_time
        self.offset = 0.0                    # the full result's time at the video's start
        self.fps = 25.0                      # the video's frame rate: the playhead is drawn at its frame's start
        self.axes: dict[str, plots.TimeAxis] = {}
        self._seeks = 0
        self.video = W.Video(format="mp4", autoplay=True, loop=True, controls=True,
                             layout=W.Layout(width=f"{width}px"))
        self.video.add_class(f"hg-tune-{self.uid}")
        self.inbox = W.Text(value="", layout=W.Layout(display="none"))
        self.inbox.add_class(f"hg-tune-in-{self.uid}")
        self.inbox.observe(lambda change: self.receive(change["new"]), names="value")
        self.bridge = W.HTML(value="", tooltip="", layout=W.Layout(height="0px", overflow="hidden"))
        self.curves: dict[str, W.HTML] = {}

    def _boot(self) -> str:
        """An ``onload`` that defines ``window.hgTune`` once and binds this tuner's player."""
        return html.escape(f"{_SCRIPT}\nhgTune.bind('{self.uid}');", quote=True)

    # -- kernel → page
    def show(self, video: bytes, offset: float, fps: float, width: int | None = None) -> None:
        """Play ``video`` (the side-by-side MP4 at ``fps``), whose start is ``offset`` seconds into the full
        result, at its own ``width`` in pixels where that is between 400 and 640 (else the nearest of them)."""
        self.offset, self.fps = float(offset), float(fps)
        if width is not None:
            self.video.layout.width = f"{min(max(int(width), 400), 640)}px"
        self.video.value = video

    def clear(self) -> None:
        self.video.value = b""
        self.axes.clear()
        for widget in self.curves.values():
            widget.value = ""

    def curve(self, name: str, fig, *, title: str = "") -> W.HTML:
        """Show ``fig`` (a figure or an Axes whose x axis is seconds of the full result) as the curve
        ``name``: its picture at its own size, a click on it reported with ``name``."""
        ax = fig if hasattr(fig, "get_xlim") else fig.axes[0]
        data, (width, height) = plots.figure_png(ax)
        axis = self.axes[name] = plots.time_axis(ax)
        widget = self.curves.setdefault(name, W.HTML(tooltip=""))
        area = (f"top:{100 * axis.top:.3f}%;height:{100 * (axis.bottom - axis.top):.3f}%")
        widget.value = (
            f'<div class="hg-curve" data-hg-tune="{self.uid}" data-left="{axis.left:.5f}" '
            f'data-right="{axis.right:.5f}" data-t0="{axis.t0:.5f}" data-t1="{axis.t1:.5f}" '
            f'data-offset="{self.offset:.5f}" data-fps="{self.fps:.6f}" '
            f'style="position:relative;width:{width}px;height:{height}px">'
            f'<img src="data:image/png;base64,{base64.b64encode(data).decode()}" width="{width}" '
            f'height="{height}" title="{html.escape(title, quote=True)}" style="display:block;cursor:crosshair" '
            f'onclick="hgTune.click(this, event, \'{self.uid}\', \'{name}\')" onload="{self._boot()}">'
            f'<div class="hg-cursor" style="position:absolute;{area};width:0;border-left:2px solid #e4002b;'
            f'display:none;pointer-events:none"></div></div>')
        return widget

    def seek(self, seconds: float) -> None:
        """Pause the player at ``seconds`` of its video."""
        self._seeks += 1
        self.bridge.value = (f'<img src="{_PIXEL}" alt="" data-n="{self._seeks}" width="1" height="1" '
                             f'onload="{self._boot()}\nhgTune.seek(\'{self.uid}\', {max(0.0, seconds):.4f});">')

    # -- page → kernel
    def receive(self, message: str) -> float | None:
        """Handle a message from the page: ``{"kind": "click", "curve": NAME, "x": FRACTION}`` or
        ``{"kind": "video", "t": SECONDS}``. Returns the time passed to ``on_time`` (None: nothing to do)."""
        if not message:
            return None
        try:
            data = json.loads(message)
            kind = data["kind"]
            if kind == "click":
                axis = self.axes.get(data["curve"])
                seconds = None if axis is None else axis.time_at(float(data["x"]))
            elif kind == "video":
                seconds = self.offset + float(data["t"])
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("tuning player: a message it cannot read (%s): %.200s", exc, message)
            return None
        if seconds is not None:
            self.on_time(seconds, "curve" if kind == "click" else "video")
        return seconds
