"""The preview session: one speech track and one template, set up once, rendered through the real pipeline
for any window of the result with any options.

    session = TuningSession("talk.wav", "anna.mp4", work_dir="workspace/tuning")
    preview = session.render(options, start=1.88, seconds=2.0)   # output frames 47…96 of the full render
    preview.frame_label(preview.open_frame)                      # "frame 61 (template frame 61)"
    session.face_at(preview, 61)                                 # template frame, landmarks, engine patch
    preview.pair                                                 # template | result, one video, same frames
    session.render(options, text="Peter bought a map.")          # with the script of the speech

A preview is ``pipeline.generate`` with a ``window``: the same template frames, mouth and sound as the full
render shows at that moment (the engine is prepared on the whole speech, so loudness is measured against the
whole track's peak). Frames are numbered as in the full render everywhere; ``template_frames`` says which
template frame each one came from. Beside each preview, ``preview_NNN.pair.mp4`` shows the template's frames
of the window and the result's side by side, cropped to the face, with the window's sound: one player plays,
pauses and seeks both. Previews are numbered on from the highest in ``work_dir``, so none is ever overwritten.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionsError
from ..face import landmarks as L
from ..media.files import IMAGE_EXTS, VIDEO_EXTS
from ..options import LipSyncOptions
from ..plots import crop_box

log = logging.getLogger(__name__)

_PREVIEW = re.compile(r"^preview_(\d+)\.mp4$")
PAIR_HEIGHT = 360        # pixels of the side-by-side player's video, at most (it is the face, cropped)
PAIR_GAP = 4             # white columns between template and result


def pick_stretch(speech, fps: float, seconds: float) -> int:
    """First output frame of the ``seconds``-long stretch where the loudness varies most (speech with pauses:
    both open and closed moments). 0 when the speech is not longer than the stretch."""
    from ..media.timeline import output_frame_count
    from ..speech import envelope

    n = output_frame_count(speech.duration, fps)
    span = max(1, int(round(seconds * fps)))
    if n <= span:
        return 0
    env = envelope(speech, fps, n)
    windows = np.lib.stride_tricks.sliding_window_view(env, span)
    return int(np.argmax(windows.std(axis=1)))


def open_and_closed(env: np.ndarray, fps: float) -> tuple[int, int]:
    """Frames where the speech asks for the mouth most open (the loudest, over ~120 ms) and closed (the
    middle of the quietest ~240 ms: a real pause, not a one-frame dip between syllables)."""
    def smooth(x, seconds):
        n = max(1, int(round(seconds * fps)))
        padded = np.pad(np.asarray(x, np.float64), (n // 2, n - 1 - n // 2), mode="edge")
        return np.convolve(padded, np.ones(n) / n, mode="valid")

    env = np.asarray(env, np.float64)
    tie = 1e-6 * env                     # among equal neighbourhoods, the loudest (quietest) frame itself
    return int(np.argmax(smooth(env, 0.12) + tie)), int(np.argmin(smooth(env, 0.24) + tie))


@dataclass
class Preview:
    """A rendered window of the result: output frames ``start_frame … start_frame + frames - 1``.

    Per-frame arrays (``template_frames``, ``envelope``, ``target_opening``) are indexed by the position in
    the window, ``k``; ``open_frame`` and ``closed_frame`` are such positions. ``frame(k)`` is the output
    frame number, the one the pictures and the sliders show."""

    path: Path
    number: int
    options: LipSyncOptions
    start_frame: int
    frames: int
    fps: float
    total_frames: int                    # of the full render
    template_frames: np.ndarray          # the template frame each preview frame shows
    envelope: np.ndarray                 # speech loudness per preview frame, 0 … 1 (of the whole track)
    open_frame: int
    closed_frame: int
    stills: dict[str, tuple[np.ndarray, np.ndarray]] = field(repr=False)   # name → (template, result) BGR
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)
    score: Any = field(default=None, repr=False)            # SyncScore of the preview, when measured
    target_opening: np.ndarray | None = field(default=None, repr=False)   # the engine's aim, if it says
    result: Any = field(default=None, repr=False)           # the GenerateResult
    engine: Any = field(default=None, repr=False)           # the engine, prepared on the whole speech
    text: str | None = None                                 # the script of the speech it was rendered with
    pair: Path | None = None                                # template | result side by side (see the module)

    @property
    def start(self) -> float:
        return self.start_frame / self.fps

    @property
    def end_frame(self) -> int:
        """One past the last output frame."""
        return self.start_frame + self.frames

    def frame(self, k: int) -> int:
        return self.start_frame + int(k)

    def position(self, frame: int) -> int:
        """``k`` of output frame ``frame`` (clamped to the window)."""
        return int(min(max(int(frame) - self.start_frame, 0), self.frames - 1))

    def frame_at(self, seconds: float, *, nearest: bool = False) -> int:
        """The output frame at ``seconds`` of the full result, within the window: the frame on screen then
        (a player's time), or with ``nearest`` the frame whose start is closest (a click on a curve, whose
        frame marks are drawn at each frame's start)."""
        x = float(seconds) * self.fps
        frame = int(np.floor(x + 0.5)) if nearest else int(np.floor(x + 1e-6))
        return self.frame(self.position(frame))

    def frame_label(self, k: int) -> str:
        return f"frame {self.frame(k)} (template frame {int(self.template_frames[k])})"

    def summary(self) -> str:
        sync = "" if self.score is None else f"; sync r = {self.score.r:.2f} at {self.score.lag_ms:+.0f} ms"
        script = f"; script: {len(self.text.split())} words" if self.text else ""
        return (f"preview {self.path.name}: frames {self.start_frame}–{self.end_frame - 1} of "
                f"{self.total_frames} ({self.frames} frames from {self.start:.2f} s), made in "
                f"{self.result.seconds:.1f} s; open at {self.frame_label(self.open_frame)}, closed at "
                f"{self.frame_label(self.closed_frame)}{sync}{script}")


class TuningSession:
    """One speech track and one template, set up once; previews of any window with any options.

    ``work_dir`` holds the previews; ``cache_dir`` (default ``work_dir/.cache``) the face tracks, so changing
    mouth options re-renders in about the time the window plays, without tracking the template again.
    """

    def __init__(self, audio: str | Path, video: str | Path, work_dir: str | Path = "tune_output", *,
                 cache_dir: str | Path | None = None):
        from ..media.files import check_file
        from ..pipeline import prepare_speech

        self.audio, self.video = Path(audio), Path(video)
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else self.work_dir / ".cache"
        check_file(self.video, VIDEO_EXTS + IMAGE_EXTS, "a video or an image")
        self.speech = prepare_speech(self.audio, cache_dir=self.cache_dir)
        self.history: list[Preview] = []
        self._info: dict[float, Any] = {}

    def info(self, options: LipSyncOptions):
        from ..media.video import probe_video

        key = float(options.image_fps)
        if key not in self._info:
            self._info[key] = probe_video(self.video, image_fps=options.image_fps)
        return self._info[key]

    def frame_count(self, options: LipSyncOptions) -> int:
        """Frames of the full render."""
        from ..media.timeline import output_frame_count

        return output_frame_count(self.speech.duration, self.info(options).fps)

    def window(self, options: LipSyncOptions, seconds: float, start: float | None = None) -> tuple[int, int]:
        """``(first, end)`` output frames of a ``seconds`` preview from ``start`` (None: a lively stretch).
        ``OptionsError`` when it would run past the end of the result."""
        fps = self.info(options).fps
        n_full = self.frame_count(options)
        span = max(1, min(n_full, int(round(seconds * fps))))
        last = n_full - span
        if start is None:
            first = min(pick_stretch(self.speech, fps, span / fps), last)
        else:
            first = int(round(start * fps))
            if not 0 <= first <= last:
                raise OptionsError("start", f"{start:.2f} s: a {span / fps:.2f} s preview can start from 0 to "
                                            f"{last / fps:.2f} s (frame {last}) of this {n_full}-frame result")
        return first, first + span

    def render(self, options: LipSyncOptions, *, start: float | None = None, seconds: float = 2.0,
               text: str | None = None, score: bool = True, on_progress=None, should_stop=None) -> Preview:
        """Render ``seconds`` of the result from ``start`` (seconds; None: a lively stretch) with ``options``
        and the speech's script ``text`` (None: the mouth shapes come from the sound, as in a full render
        without one)."""
        from ..engines import get_engine
        from ..media.timeline import template_indices
        from ..media.video import FrameReader, probe_video
        from ..pipeline import generate
        from ..speech import Speech, envelope

        info = self.info(options)
        fps, n_full = info.fps, self.frame_count(options)
        first, end = self.window(options, seconds, start)
        track = self.track(options)             # tracked once, whole: any window can start anywhere
        number = self._next_number()
        out = self.work_dir / f"preview_{number:03d}.mp4"
        text = (text or "").strip() or None
        self.speech.text = text                 # what the engine reads; its timeline is memoised per script
        engine = get_engine(options)
        result = generate(self.audio, self.video, out, options, speech=self.speech, engine=engine,
                          track_cache=self.cache_dir, window=(first, end), on_progress=on_progress,
                          should_stop=should_stop)
        n = end - first

        env = envelope(self.speech, fps, n_full, floor_db=options.silence_db)[first:end]
        k_open, k_closed = open_and_closed(env, fps)
        tmpl = template_indices(n_full, info.frame_count, options.loop_mode)[first:end]
        boxes = [L.face_box(track.landmarks[tmpl[k]]) for k in (k_open, k_closed) if track.found[tmpl[k]]]
        template = dict(FrameReader(info).frames(sorted({int(tmpl[k_open]), int(tmpl[k_closed])})))
        rendered = dict(FrameReader(probe_video(out)).frames(sorted({k_open, k_closed})))
        stills = {"open": (template[int(tmpl[k_open])], rendered[k_open]),
                  "closed": (template[int(tmpl[k_closed])], rendered[k_closed])}

        sync = None
        if score:
            from ..score import sync_score

            sr = self.speech.sample_rate
            clip = Speech(self.speech.samples[int(round(first / fps * sr)):int(round(end / fps * sr))], sr)
            sync = sync_score(self.audio, out, speech=clip)
        aim = engine.target_opening() if hasattr(engine, "target_opening") else None
        preview = Preview(path=out, number=number, options=options, start_frame=first, frames=n, fps=fps,
                          total_frames=n_full, template_frames=tmpl, envelope=env, open_frame=k_open,
                          closed_frame=k_closed, stills=stills, crop=crop_box(boxes, info.width, info.height),
                          score=sync, result=result, engine=engine,
                          target_opening=None if aim is None else np.asarray(aim[first:end], np.float64),
                          text=text)
        preview.pair = self.write_pair(preview, out.with_suffix(".pair.mp4"))
        self.history.append(preview)
        self._forget_old_previews(keep=8)
        log.info("%s", preview.summary())
        return preview

    def _next_number(self) -> int:
        taken = [int(m.group(1)) for p in self.work_dir.iterdir() if (m := _PREVIEW.match(p.name))]
        return max(taken, default=0) + 1

    def _forget_old_previews(self, keep: int) -> None:
        """Remove this session's previews but the newest ``keep`` (others' previews are left alone)."""
        for old in self.history[:-keep]:
            for path in (old.path, old.pair):
                if path is not None:
                    path.unlink(missing_ok=True)
        del self.history[:-keep]

    def write_pair(self, preview: Preview, out: Path, height: int = PAIR_HEIGHT) -> Path:
        """``out``: the template's frames of ``preview``'s window (left) and the result's (right), each cropped
        to the face and at most ``height`` pixels high, with the window's sound."""
        import cv2

        from ..media.audio import AudioStream
        from ..media.encode import VideoWriter
        from ..media.video import FrameReader, probe_video

        x0, y0, x1, y1 = preview.crop
        scale = min(1.0, height / max(1, y1 - y0))
        w, h = 2 * max(1, round((x1 - x0) * scale / 2)), 2 * max(1, round((y1 - y0) * scale / 2))
        canvas = np.full((h, 2 * w + PAIR_GAP, 3), 255, np.uint8)
        template = FrameReader(self.info(preview.options)).frames(preview.template_frames)
        result = FrameReader(probe_video(preview.path)).frames(range(preview.frames))
        with VideoWriter(out, canvas.shape[1], h, preview.fps, audio=AudioStream(preview.path),
                         preset="veryfast") as writer:
            for (_, left), (_, right) in zip(template, result):
                canvas[:, :w] = cv2.resize(left[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_AREA)
                canvas[:, w + PAIR_GAP:] = cv2.resize(right[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_AREA)
                writer.write(canvas)
        return out

    def track(self, options: LipSyncOptions):
        """The template's face track with these options (from the cache after the first preview)."""
        from ..face.track import track_video

        return track_video(self.info(options), options, cache_dir=self.cache_dir)

    def face_at(self, preview: Preview, frame: int):
        """(template frame, landmarks or None, the engine's patch or None) at output frame ``frame``."""
        from ..media.video import FrameReader

        k = preview.position(frame)
        j = int(preview.template_frames[k])
        image = next(iter(FrameReader(self.info(preview.options)).frames([j])))[1]
        lm = self.track(preview.options).face(j)
        patch = None
        if lm is not None:
            patch = preview.engine.synthesize([image.copy()], [lm], [preview.frame(k)])[0]
        return image, lm, patch

    # -- pictures (drawn by heygem_core.plots)
    def plot_mel(self, preview: Preview, frame: int, ax=None):
        """The mel spectrogram over the preview, output frame ``frame``'s 16-column (200 ms) window marked;
        without ``ax``, in a figure with the viseme timeline of the preview's speech and script under it (the
        spectrogram's Axes is returned)."""
        from ..phonetic import viseme_timeline
        from ..plots import plot_mel, plot_mel_visemes

        k, span = preview.frame(preview.position(frame)), (preview.start, preview.end_frame / preview.fps)
        if ax is not None:
            return plot_mel(self.speech, preview.fps, k, span, ax=ax)
        timeline = viseme_timeline(self.speech, preview.text or "")      # this preview's script, or none
        fig = plot_mel_visemes(self.speech, timeline, preview.fps, k, span)
        return fig.axes[0]

    def plot_face(self, preview: Preview, frame: int, ax=None):
        """The template frame behind output frame ``frame``: landmarks, the mouth region, the mask outline."""
        from ..plots import plot_face

        image, lm, patch = self.face_at(preview, frame)
        ax = plot_face(image, lm, patch, ax=ax)
        ax.set_title(preview.frame_label(preview.position(frame)), fontsize=8)
        return ax
