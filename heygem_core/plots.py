"""Pictures: every figure the product draws, kept apart from the computing (as librosa keeps ``display``).

    plot_score(score, "anna.sync.png")       # a result's sync score: mouth opening over speech loudness
    plot_stills(preview)                     # tuning: template vs result at an open and a closed moment
    plot_mel(speech, fps, k, span)           # the mel spectrogram Wav2Lip hears, frame k's 200 ms marked
    plot_visemes(timeline, fps, k, span)     # the mouth shapes the speech asks for, 10 ms at a time
    plot_mel_visemes(speech, tl, fps, k)     # the two above on one time axis (the tuner's picture)
    plot_face(frame, lm, patch)              # landmarks, lip contours, the engine's region and mask outline
    plot_sync(preview)                       # the preview's sync picture, with the engine's aim
    png, size = figure_png(fig)              # PNG bytes (2× pixels for sharp screens) and CSS size
    time_axis(ax).time_at(0.5)               # the time under a click halfway across that PNG

Functions take arrays and results and return matplotlib ``Axes`` (or a ``Figure``); nothing here computes
a result, and nothing needs a notebook.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .face import landmarks as L

DPI = 90                 # figure inches × DPI = CSS pixels on the page
SCALE = 2                # PNG pixels per CSS pixel: sharp on high-density screens, never upscaled


def _figure(width: float, height: float, dpi: int = DPI):
    """A figure of its own (not pyplot's): no global state, safe on a rendering thread, nothing to close."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi)


def _axes(width: float, height: float):
    return _figure(width, height).subplots()


def _rgb(image: np.ndarray) -> np.ndarray:
    return image[..., ::-1]


def crop_box(boxes, width: int, height: int, margin: float = 0.25) -> tuple[int, int, int, int]:
    """A box around ``boxes`` (x0, y0, x1, y1) with ``margin`` of their size on each side, inside the frame;
    the whole frame when there are none."""
    if not boxes:
        return 0, 0, width, height
    b = np.array(boxes, np.float64)
    x0, y0 = b[:, :2].min(0)
    x1, y1 = b[:, 2:].max(0)
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    return (max(0, int(x0 - mx)), max(0, int(y0 - my)), min(width, int(np.ceil(x1 + mx))),
            min(height, int(np.ceil(y1 + my))))


# ---------------------------------------------------------------------------------------------------------
# a result's sync score

def plot_score(score, path: str | Path | None = None, ax=None, *, start: float = 0.0):
    """Both curves of a ``SyncScore`` over time (from ``start`` seconds), the envelope shifted by the best
    lag; saved to ``path`` (and the figure closed) when given."""
    own = ax is None
    if own:
        fig = _figure(10, 3.2, dpi=100)
        ax = fig.subplots()
    t = start + np.arange(len(score.opening)) / score.fps
    lag_frames = int(round(score.lag_ms * score.fps / 1000.0))
    env = np.roll(score.envelope, -lag_frames)
    top = np.nanmax(score.opening) if np.isfinite(score.opening).any() else 1.0
    ax.fill_between(t, 0, env * (top or 1.0), color="#f0a35e", alpha=0.35, lw=0,
                    label=f"speech loudness (shifted {score.lag_ms:+.0f} ms)")
    ax.plot(t, score.opening, color="#2a6fdb", lw=1.6, label="mouth opening (÷ mouth width)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("opening")
    ax.set_title(f"sync r = {score.r:.2f} at {score.lag_ms:+.0f} ms · face in {100 * score.face_ratio:.0f}% of frames")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(start, t[-1] if len(t) > 1 else start + 1)
    if own:
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
    return ax


# ---------------------------------------------------------------------------------------------------------
# tuning

def plot_stills(preview):
    """Template and result side by side, at a preview's open-mouth and closed-mouth moments."""
    x0, y0, x1, y1 = preview.crop
    fig = _figure(5.2, 5.2 * (y1 - y0) / max(1, x1 - x0) + 0.5)
    axes = fig.subplots(2, 2)
    for row, name in enumerate(("open", "closed")):
        k = preview.open_frame if name == "open" else preview.closed_frame
        for col, (what, image) in enumerate(zip(("template", "result"), preview.stills[name])):
            ax = axes[row, col]
            ax.imshow(_rgb(image[y0:y1, x0:x1]))
            ax.set_title(f"{what}, {name}: {preview.frame_label(k)}", fontsize=7)
            ax.axis("off")
    fig.tight_layout()
    return fig


def plot_mel(speech, fps: float, frame: int, span: tuple[float, float] | None = None, ax=None):
    """The mel spectrogram Wav2Lip hears (80 bands, 80 columns a second, normalised to ±4) over ``span``
    seconds, with the 16 columns (200 ms) that output frame ``frame`` is given shaded."""
    from .engines.wav2lip.mel import COLUMNS_PER_SECOND as CPS, N_MELS, WINDOW, speech_mel, window_start

    ax = ax if ax is not None else _axes(7.2, 2.4)
    mel = speech_mel(speech)
    t0, t1 = span if span is not None else (0.0, mel.shape[1] / CPS)
    c0 = max(0, int(t0 * CPS))
    c1 = min(mel.shape[1], max(c0 + 1, int(np.ceil(t1 * CPS))))
    view = mel[:, c0:c1]
    ax.imshow(view, origin="lower", aspect="auto", cmap="magma", interpolation="nearest", vmin=-4, vmax=4,
              extent=(c0 / CPS, c1 / CPS, 0, N_MELS))
    a = min(window_start(frame, fps), max(0, mel.shape[1] - WINDOW))    # as the model is fed at the end
    ax.axvspan(a / CPS, (a + WINDOW) / CPS, facecolor="none", edgecolor="#4fd1c5", lw=1.5)
    ax.axvline(frame / fps, color="white", lw=1.0, ls="--")
    ax.set_xlim(c0 / CPS, c1 / CPS)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ax.set_title(f"mel spectrogram (Wav2Lip's input); frame {frame} hears {WINDOW} columns "
                 f"({1000 * WINDOW / CPS:.0f} ms) from {a / CPS:.2f} s", fontsize=8)
    return ax


# viseme classes in the order of ``phonetic.Viseme``: (label, colour)
VISEME_LOOK = (("rest", "#e5e7eb"), ("p b m", "#d1495b"), ("f v", "#edae49"), ("o u w", "#00798c"),
               ("i e", "#66a182"), ("a", "#2e4057"), ("t d s n k", "#b8c0cc"))


def plot_visemes(timeline, fps: float, frame: int, span: tuple[float, float] | None = None, ax=None):
    """The viseme timeline over ``span`` seconds: each 10 ms coloured by the mouth shape it asks for (rest,
    p b m pressed, f v, rounded, spread, open, other consonants), the aimed opening as a line over it, the
    phones' names where they fit, and output frame ``frame`` marked."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    ax = ax if ax is not None else _axes(7.2, 1.2)
    hop = timeline.hop_s
    t0, t1 = span if span is not None else (0.0, timeline.n_hops * hop)
    h0, h1 = max(0, int(t0 / hop)), min(timeline.n_hops, max(int(t0 / hop) + 1, int(np.ceil(t1 / hop))))
    cmap = ListedColormap([colour for _, colour in VISEME_LOOK])
    ax.imshow(timeline.viseme[None, h0:h1].astype(np.int16), aspect="auto", cmap=cmap, vmin=-0.5,
              vmax=len(VISEME_LOOK) - 0.5, interpolation="nearest", extent=(h0 * hop, h1 * hop, 0, 1))
    ax.plot((np.arange(h0, h1) + 0.5) * hop, 0.25 + 0.7 * timeline.openness[h0:h1], color="white", lw=1.0)
    for p in timeline.phones:
        mid = 0.5 * (p.start + p.end)
        hop_at = min(timeline.n_hops - 1, int(mid / hop))
        if t0 <= mid <= t1 and p.end - p.start >= 0.04 and timeline.viseme[hop_at] != 0:   # not at rest
            ax.text(mid, 0.5, p.name.lower(), ha="center", va="center", fontsize=6, color="black",
                    bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.6))
    ax.axvline(frame / fps, color="black", lw=1.0, ls="--")
    ax.set_xlim(t0, t1)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("time (s)")
    ax.set_title(f"mouth shapes from the {_SOURCE_WORDS.get(timeline.source, timeline.source)}; "
                 "white: the opening aimed at", fontsize=8)
    ax.legend(handles=[Patch(color=c, label=n) for n, c in VISEME_LOOK], loc="upper center",
              bbox_to_anchor=(0.5, -0.85), ncol=len(VISEME_LOOK), fontsize=6, frameon=False)
    return ax


_SOURCE_WORDS = {"audio": "sound alone", "text": "script", "text+audio": "script and the sound"}


def plot_mel_visemes(speech, timeline, fps: float, frame: int, span: tuple[float, float] | None = None):
    """The mel spectrogram with the viseme timeline under it on the same time axis (one figure)."""
    fig = _figure(7.2, 3.6)
    mel_ax, vis_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    plot_mel(speech, fps, frame, span, ax=mel_ax)
    mel_ax.set_xlabel("")
    plot_visemes(timeline, fps, frame, span if span is not None else mel_ax.get_xlim(), ax=vis_ax)
    fig.tight_layout()
    return fig


def plot_face(frame: np.ndarray, lm: np.ndarray | None, patch=None, ax=None, margin: float = 0.2):
    """A frame cropped to the face with its landmarks, the lip and jaw contours, the engine's region (dashed
    box) and the blend mask as outlines (half and fully replaced), so the mouth itself stays visible."""
    from matplotlib.patches import Rectangle

    ax = ax if ax is not None else _axes(4.0, 4.0)
    h, w = frame.shape[:2]
    if lm is None:
        ax.imshow(_rgb(frame))
        ax.set_title("no face in this frame", fontsize=8)
        ax.axis("off")
        return ax
    x0, y0, x1, y1 = crop_box([L.face_box(lm)], w, h, margin)
    ax.imshow(_rgb(frame)[y0:y1, x0:x1], extent=(x0, x1, y1, y0))
    ax.scatter(lm[:, 0], lm[:, 1], s=0.6, c="#9be7ff", lw=0)
    for contour, colour in ((L.OUTER_LIPS, "#ffd166"), (L.INNER_LIPS, "#ef476f"), (L.JAW, "#06d6a0")):
        pts = lm[list(contour)]
        pts = pts if contour is L.JAW else np.vstack([pts, pts[:1]])
        ax.plot(pts[:, 0], pts[:, 1], color=colour, lw=1.0)
    if patch is not None:
        px0, py0, px1, py1 = patch.box
        ax.add_patch(Rectangle((px0, py0), px1 - px0, py1 - py0, fill=False, ec="#ff70d4", lw=1.0, ls="--"))
        if np.ptp(patch.mask) > 0:
            ys, xs = np.mgrid[py0:py1, px0:px1]
            ax.contour(xs + 0.5, ys + 0.5, patch.mask, levels=[0.5, 0.95], colors="#ff70d4",
                       linewidths=[0.9, 1.4], linestyles=["--", "-"])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.axis("off")
    return ax


def plot_sync(preview, ax=None, frame: int | None = None):
    """A preview's measured mouth opening over the speech loudness (the sync score's picture), with the
    engine's target opening dashed when it has one, and output frame ``frame`` marked (the cursor the
    spectrogram shares); times are those of the full result."""
    ax = ax if ax is not None else _axes(7.2, 2.4)
    if preview.score is None:
        ax.set_title("no sync score measured for this preview", fontsize=8)
        return ax
    plot_score(preview.score, ax=ax, start=preview.start)
    t = preview.start + np.arange(len(preview.score.opening)) / preview.fps
    if preview.target_opening is not None:
        n = min(len(t), len(preview.target_opening))
        ax.plot(t[:n], preview.target_opening[:n], color="#2a6fdb", lw=1.0, ls="--", alpha=0.7,
                label="target opening")
        ax.legend(loc="upper right", fontsize=7)
    if frame is not None:
        ax.axvline(frame / preview.fps, color="#444", lw=1.0, ls="--")
    ax.title.set_fontsize(8)
    return ax


PAD_INCHES = 0.1         # the margin a tight crop keeps around the figure's ink


def _tight_box(fig):
    """The part of ``fig`` its PNG shows (inches): its ink with a small margin, as ``bbox_inches="tight"``
    finds it, widened to whole CSS pixels (so the PNG is exactly ``scale`` times its CSS size); computed
    here so that ``figure_png`` and ``time_axis`` crop alike."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(PAD_INCHES)
    width, height = (np.ceil(box.width * fig.dpi - 1e-6) / fig.dpi, np.ceil(box.height * fig.dpi - 1e-6) / fig.dpi)
    return Bbox.from_bounds(box.x0, box.y0, width, height)


def figure_png(fig, scale: int = SCALE) -> tuple[bytes, tuple[int, int]]:
    """The figure as PNG bytes at ``scale`` pixels per CSS pixel, and its size in CSS pixels: show it at
    that size, neither stretched nor upscaled."""
    from PIL import Image

    fig = getattr(fig, "figure", fig)            # an Axes is accepted too
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi * scale, bbox_inches=_tight_box(fig))
    data = buf.getvalue()
    width, height = Image.open(io.BytesIO(data)).size
    return data, (int(round(width / scale)), int(round(height / scale)))


@dataclass(frozen=True)
class TimeAxis:
    """Where an Axes' time axis lies across its figure's PNG: ``left`` and ``right`` are the plot area's
    edges as fractions of the picture's width (0 … 1), ``t0`` and ``t1`` the times (s) at those edges;
    ``top`` and ``bottom`` its edges as fractions of the height, from the top. A click at a fraction of the
    picture's width becomes a time, and a time a place to draw a cursor."""

    left: float
    right: float
    t0: float
    t1: float
    top: float = 0.0
    bottom: float = 1.0

    def time_at(self, x: float) -> float | None:
        """The time at ``x`` (fraction of the picture's width); None outside the plot area."""
        if not self.left <= x <= self.right or self.right <= self.left:
            return None
        return self.t0 + (x - self.left) / (self.right - self.left) * (self.t1 - self.t0)

    def x_of(self, t: float) -> float:
        """The fraction of the picture's width where time ``t`` is drawn."""
        return self.left + (t - self.t0) / (self.t1 - self.t0) * (self.right - self.left)


def time_axis(ax) -> TimeAxis:
    """The ``TimeAxis`` of ``ax`` (x in seconds) in the PNG ``figure_png`` makes of its figure; its top and
    bottom span every Axes of the figure that shares ``ax``'s time axis (a cursor runs through them all)."""
    fig = ax.figure
    box = _tight_box(fig)
    fig.canvas.draw()            # the plot area's place settles once the figure is laid out
    inches = fig.dpi_scale_trans.inverted()
    area = ax.get_window_extent().transformed(inches)
    shared = [a.get_window_extent().transformed(inches) for a in fig.axes
              if a is ax or ax.get_shared_x_axes().joined(ax, a)]
    y0, y1 = min(a.y0 for a in shared), max(a.y1 for a in shared)
    t0, t1 = ax.get_xlim()
    return TimeAxis(left=(area.x0 - box.x0) / box.width, right=(area.x1 - box.x0) / box.width,
                    t0=float(t0), t1=float(t1), top=(box.y1 - y1) / box.height, bottom=(box.y1 - y0) / box.height)
