"""Tuning: a quick preview of a few seconds with the current options, and the pictures that explain it.

    session = TuningSession("talk.wav", "anna.mp4", work_dir="tune_output")
    preview = session.render(options, seconds=2.0)    # a real render (the pipeline's) of a short stretch
    plot_stills(preview)                              # template vs result at an open and a closed moment
    session.plot_mel(preview, k)                      # 80-mel spectrogram, frame k's 200 ms window marked
    session.plot_face(preview, k)                     # landmarks, the mouth region and the blend mask
    plot_sync(preview)                                # the result's mouth opening over the speech loudness
    save_params(options, "news", "params")            # params/news.yaml; load_params("news", "params")

The preview is made by `pipeline.generate` on the cut-out stretch of speech, with the engine prepared on the
whole speech track, so the mouth in the preview moves exactly as in the full render (loudness is measured
against the whole track's peak, not the stretch's). Its template frames start from the template's first
frame. Figures are matplotlib ``Figure`` objects; nothing here needs a notebook.
"""
from __future__ import annotations

import logging
import re
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..face import landmarks as L
from ..errors import InputError, OptionsError
from ..media.files import IMAGE_EXTS, SOUND_EXTS, VIDEO_EXTS
from ..options import LipSyncOptions

log = logging.getLogger(__name__)

# The mel spectrogram as Wav2Lip reads speech: 16 kHz, 80 mel bands, 12.5 ms hop (80 columns per second);
# each video frame sees 16 columns (200 ms) starting at its own time.
MEL_SR = 16_000
MEL_BANDS = 80
MEL_HOP = 200
MEL_WIN = 800
MEL_STEP = 16
MEL_PER_S = MEL_SR / MEL_HOP
MEDIA_EXTS = SOUND_EXTS + VIDEO_EXTS + IMAGE_EXTS
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# ---------------------------------------------------------------------------------------------------------
# parameter sets

def project_params_dir() -> Path:
    """The project's ``params/`` folder when running from a checkout, else ``./params``."""
    here = Path(__file__).resolve().parents[1] / "params"
    return here if here.is_dir() else Path("params")


def params_path(name: str | Path, folder: str | Path) -> Path:
    """``folder/<name>.yaml``; ``name`` may also be an existing path. Names are letters, digits, ``_.-``."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml") and (p.parent != Path(".") or p.exists()):
        return p
    text = str(name)
    if text.endswith((".yaml", ".yml")):
        text = text.rsplit(".", 1)[0]
    if not _NAME.match(text):
        raise OptionsError("name", f"{text!r}: use letters, digits, '_', '-' or '.' (at most 64)")
    return Path(folder) / f"{text}.yaml"


def save_params(options: LipSyncOptions, name: str, folder: str | Path) -> Path:
    """Write ``options`` to ``folder/<name>.yaml`` (every option, each with its help as a comment)."""
    path = params_path(name, folder)
    defaults = LipSyncOptions().to_dict()
    changed = [k for k, v in options.to_dict().items() if defaults[k] != v]
    head = (f"# {path.stem}: a parameter set saved from the tuning notebook.\n"
            f"# Differs from the defaults in: {', '.join(changed) if changed else 'nothing'}.\n\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(head + options.to_yaml(), encoding="utf-8")
    tmp.replace(path)
    log.info("saved options to %s", path)
    return path


def load_params(name: str | Path, folder: str | Path) -> LipSyncOptions:
    """The options in ``folder/<name>.yaml`` (or in the file ``name``)."""
    return LipSyncOptions.from_yaml(params_path(name, folder))


def list_params(folder: str | Path) -> list[str]:
    """Names of the parameter sets in ``folder`` (``*.yaml``), sorted."""
    folder = Path(folder)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


# ---------------------------------------------------------------------------------------------------------
# media

def list_media(folder: str | Path, kinds: tuple[str, ...] = MEDIA_EXTS) -> list[Path]:
    """Files in ``folder`` whose extension is one of ``kinds``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in kinds),
                  key=lambda p: p.name.lower())


def save_upload(name: str, content: bytes, folder: str | Path) -> Path:
    """Store an uploaded file as ``folder/<name>`` (the name made safe); only media files are taken."""
    base = Path(str(name).replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).lstrip(".") or "upload"
    if Path(base).suffix.lower() not in MEDIA_EXTS:
        raise InputError(name, f"not a sound, video or picture file; use one of {' '.join(MEDIA_EXTS)}")
    if not content:
        raise InputError(name, "the file is empty")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / base
    path.write_bytes(bytes(content))
    return path


# ---------------------------------------------------------------------------------------------------------
# speech pictures

def mel_spectrogram(speech) -> np.ndarray:
    """Log-mel spectrogram of the speech: 80 bands × one column per 12.5 ms, in dB [shape=(80, n)]."""
    def compute():
        import librosa

        y = np.asarray(speech.samples, np.float32)
        if speech.sample_rate != MEL_SR:
            y = librosa.resample(y, orig_sr=speech.sample_rate, target_sr=MEL_SR)
        mel = librosa.feature.melspectrogram(y=y, sr=MEL_SR, n_fft=MEL_WIN, hop_length=MEL_HOP,
                                             win_length=MEL_WIN, n_mels=MEL_BANDS, fmin=55.0, fmax=7600.0)
        return librosa.power_to_db(mel, ref=np.max, top_db=80.0).astype(np.float32)

    return speech.memo("mel80", compute)


def mel_window(k: int, fps: float) -> tuple[int, int]:
    """Mel columns ``[start, end)`` that output frame ``k`` sees: 16 columns (200 ms) from its own time."""
    start = int(MEL_PER_S * (k / float(fps)))
    return start, start + MEL_STEP


def pick_stretch(speech, fps: float, seconds: float) -> int:
    """First output frame of the ``seconds``-long stretch where the loudness varies most (speech with pauses:
    both open and closed moments). 0 when the speech is not longer than the stretch."""
    from ..speech import envelope
    from ..media.timeline import output_frame_count

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


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """16-bit PCM WAV of float samples in [-1, 1]: shape (n,) or (channels, n)."""
    data = np.atleast_2d(np.asarray(samples, np.float32))
    pcm = (np.clip(data.T, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return Path(path)


# ---------------------------------------------------------------------------------------------------------
# the preview

class _Stretch:
    """An engine seen through a window: prepared on the whole speech, asked for frames from ``offset`` on."""

    def __init__(self, engine, speech, n_full: int, offset: int):
        self.inner, self.speech, self.n_full, self.offset = engine, speech, n_full, offset
        self.name = engine.name

    def prepare(self, speech, fps, n_frames):   # the stretch's own speech is ignored on purpose
        self.inner.prepare(self.speech, fps, self.n_full)

    def synthesize(self, frames, faces, indices):
        # the cut may round to one frame more than the full render has left: reuse its last frame then
        return self.inner.synthesize(frames, faces, [min(self.offset + k, self.n_full - 1) for k in indices])


@dataclass
class Preview:
    """A rendered stretch. Frame numbers ``k`` are the preview's own (0 … frames-1); the full render's
    frame is ``start_frame + k``; ``template_frames[k]`` is the template frame the preview shows."""

    path: Path
    audio: Path
    options: LipSyncOptions
    start_frame: int
    frames: int
    fps: float
    template_frames: np.ndarray
    envelope: np.ndarray                 # speech loudness per preview frame, 0 … 1 (of the whole track)
    open_frame: int
    closed_frame: int
    stills: dict[str, tuple[np.ndarray, np.ndarray]] = field(repr=False)   # name → (template, result) BGR
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)
    score: Any = field(default=None, repr=False)            # SyncScore of the preview, when measured
    target_opening: np.ndarray | None = field(default=None, repr=False)   # the engine's aim, if it has one
    result: Any = field(default=None, repr=False)           # the GenerateResult
    engine: Any = field(default=None, repr=False)           # the engine, prepared on the whole speech

    @property
    def start(self) -> float:
        return self.start_frame / self.fps

    def summary(self) -> str:
        sync = "" if self.score is None else f"; sync r = {self.score.r:.2f} at {self.score.lag_ms:+.0f} ms"
        return (f"preview {self.path.name}: {self.frames} frames from {self.start:.2f} s, made in "
                f"{self.result.seconds:.1f} s; open at frame {self.open_frame}, closed at frame "
                f"{self.closed_frame}{sync}")


class TuningSession:
    """One speech track and one template, set up once; previews with any options.

    ``work_dir`` holds the previews and the face-track cache, so changing mouth options re-renders in about
    the time the stretch plays, without tracking the template again.
    """

    def __init__(self, audio: str | Path, video: str | Path, work_dir: str | Path = "tune_output"):
        from ..media.files import check_file
        from ..pipeline import prepare_speech

        self.audio, self.video = Path(audio), Path(video)
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        check_file(self.video, VIDEO_EXTS + IMAGE_EXTS, "a video or an image")
        self.speech = prepare_speech(self.audio)
        self._native = None
        self._count = 0

    @property
    def cache_dir(self) -> Path:
        return self.work_dir / ".cache"

    def info(self, options: LipSyncOptions):
        from ..media.video import probe_video

        return probe_video(self.video, image_fps=options.image_fps)

    def frame_count(self, options: LipSyncOptions) -> int:
        """Frames of the full render."""
        from ..media.timeline import output_frame_count

        return output_frame_count(self.speech.duration, self.info(options).fps)

    def render(self, options: LipSyncOptions, *, start: float | None = None, seconds: float = 2.0,
               score: bool = True, on_progress=None) -> Preview:
        """Render ``seconds`` of the result from ``start`` (seconds; None: a lively stretch) with ``options``."""
        from ..media.audio import load_audio
        from ..engines import get_engine
        from ..pipeline import generate, prepare_speech
        from ..speech import envelope
        from ..media.timeline import output_frame_count, template_indices
        from ..media.video import FrameReader, probe_video

        info = self.info(options)
        fps = info.fps
        n_full = output_frame_count(self.speech.duration, fps)
        span = max(1, min(n_full, int(round(seconds * fps))))
        k0 = pick_stretch(self.speech, fps, span / fps) if start is None else int(round(start * fps))
        k0 = int(np.clip(k0, 0, n_full - span))

        # the stretch of sound, cut from the original track (its own rate and channels) on frame boundaries
        if self._native is None:
            self._native = load_audio(self.audio, sample_rate=None, mono=False)
        native = self._native
        a = int(round(k0 / fps * native.sample_rate))
        b = min(int(round((k0 + span) / fps * native.sample_rate)), native.samples.shape[-1])
        self._count += 1
        stem = f"preview_{self._count:03d}"
        clip_audio = write_wav(self.work_dir / f"{stem}.wav", native.samples[..., a:b], native.sample_rate)
        clip_speech = prepare_speech(clip_audio)
        n_clip = output_frame_count(clip_speech.duration, fps)

        engine = get_engine(options)
        out = self.work_dir / f"{stem}.mp4"
        result = generate(clip_audio, self.video, out, options, speech=clip_speech, track_cache=self.cache_dir,
                          engine=_Stretch(engine, self.speech, n_full, k0), on_progress=on_progress)
        self._forget_old_previews(keep=4)

        env = envelope(self.speech, fps, n_full, floor_db=options.silence_db)[k0:k0 + n_clip]
        env = np.pad(env, (0, n_clip - len(env)), mode="edge") if len(env) < n_clip else env
        k_open, k_closed = open_and_closed(env, fps)
        tmpl = template_indices(n_clip, info.frame_count, options.loop_mode)

        track = self.track(options)
        boxes = [L.face_box(track.landmarks[tmpl[k]]) for k in (k_open, k_closed) if track.found[tmpl[k]]]
        crop = _crop_box(boxes, info.width, info.height)
        template = dict(FrameReader(info).frames(sorted({int(tmpl[k_open]), int(tmpl[k_closed])})))
        rendered = dict(FrameReader(probe_video(out)).frames(sorted({k_open, k_closed})))
        stills = {"open": (template[int(tmpl[k_open])], rendered[k_open]),
                  "closed": (template[int(tmpl[k_closed])], rendered[k_closed])}

        sync = None
        if score:
            from ..score import sync_score

            sync = sync_score(clip_audio, out, speech=clip_speech)
        target = getattr(engine, "opening", None)
        target = None if target is None else np.asarray(target[k0:k0 + n_clip], np.float64)
        preview = Preview(path=out, audio=clip_audio, options=options, start_frame=k0, frames=n_clip, fps=fps,
                          template_frames=tmpl, envelope=env, open_frame=k_open, closed_frame=k_closed,
                          stills=stills, crop=crop, score=sync, target_opening=target, result=result,
                          engine=engine)
        log.info("%s", preview.summary())
        return preview

    def _forget_old_previews(self, keep: int) -> None:
        """Remove all but the newest ``keep`` previews (each is an .mp4 and its .wav)."""
        for n in range(1, self._count - keep + 1):
            for ext in (".mp4", ".wav"):
                (self.work_dir / f"preview_{n:03d}{ext}").unlink(missing_ok=True)

    def track(self, options: LipSyncOptions):
        """The template's face track with these options (from the cache after the first preview)."""
        from ..face.track import track_video

        return track_video(self.info(options), options, cache_dir=self.cache_dir)

    def face_at(self, preview: Preview, k: int):
        """(template frame, landmarks or None, the engine's patch or None) for preview frame ``k``."""
        from ..media.video import FrameReader

        info = self.info(preview.options)
        j = int(preview.template_frames[k])
        frame = next(iter(FrameReader(info).frames([j])))[1]
        lm = self.track(preview.options).face(j)
        patch = None
        if lm is not None:
            patch = preview.engine.synthesize([frame.copy()], [lm], [preview.start_frame + k])[0]
        return frame, lm, patch

    # -- pictures
    def plot_mel(self, preview: Preview, k: int, ax=None):
        """The mel spectrogram around the preview, frame ``k``'s 16-column (200 ms) window marked."""
        return plot_mel(self.speech, preview.fps, preview.start_frame + k,
                        (preview.start, preview.start + preview.frames / preview.fps), ax=ax)

    def plot_face(self, preview: Preview, k: int, ax=None):
        """Template frame of preview frame ``k`` with its landmarks, the mouth region and the blend mask."""
        frame, lm, patch = self.face_at(preview, k)
        ax = plot_face(frame, lm, patch, ax=ax)
        ax.set_title(f"frame {preview.start_frame + k} (template frame {int(preview.template_frames[k])})",
                     fontsize=9)
        return ax


def _crop_box(boxes, width: int, height: int, margin: float = 0.25) -> tuple[int, int, int, int]:
    """A box around the faces with ``margin`` of their size on each side; the whole frame without faces."""
    if not boxes:
        return 0, 0, width, height
    b = np.array(boxes, np.float64)
    x0, y0 = b[:, :2].min(0)
    x1, y1 = b[:, 2:].max(0)
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    return (max(0, int(x0 - mx)), max(0, int(y0 - my)), min(width, int(np.ceil(x1 + mx))),
            min(height, int(np.ceil(y1 + my))))


# ---------------------------------------------------------------------------------------------------------
# figures

def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _rgb(image: np.ndarray) -> np.ndarray:
    return image[..., ::-1]


def plot_stills(preview: Preview):
    """Template and result side by side, at the preview's open-mouth and closed-mouth moments."""
    plt = _pyplot()
    x0, y0, x1, y1 = preview.crop
    fig, axes = plt.subplots(2, 2, figsize=(6.4, 6.4 * (y1 - y0) / max(1, x1 - x0) + 0.6), dpi=90)
    for row, name in enumerate(("open", "closed")):
        k = preview.open_frame if name == "open" else preview.closed_frame
        for col, (what, image) in enumerate(zip(("template", "result"), preview.stills[name])):
            ax = axes[row, col]
            ax.imshow(_rgb(image[y0:y1, x0:x1]))
            ax.set_title(f"{what}, {name} (frame {preview.start_frame + k}, loudness {preview.envelope[k]:.2f})",
                         fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig


def plot_mel(speech, fps: float, k: int, span: tuple[float, float] | None = None, ax=None):
    """80-mel log spectrogram (16 kHz) over ``span`` seconds, output frame ``k``'s window shaded."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.8), dpi=90)
    mel = mel_spectrogram(speech)
    t0, t1 = span if span is not None else (0.0, mel.shape[1] / MEL_PER_S)
    c0, c1 = int(t0 * MEL_PER_S), max(int(t0 * MEL_PER_S) + 1, int(np.ceil(t1 * MEL_PER_S)))
    view = mel[:, c0:c1]
    ax.imshow(view, origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
              extent=(c0 / MEL_PER_S, (c0 + view.shape[1]) / MEL_PER_S, 0, MEL_BANDS))
    a, b = mel_window(k, fps)
    ax.axvspan(a / MEL_PER_S, b / MEL_PER_S, color="#4fd1c5", alpha=0.35, lw=0)
    ax.axvline(k / fps, color="white", lw=1.0, ls="--")
    ax.set_xlim(c0 / MEL_PER_S, (c0 + view.shape[1]) / MEL_PER_S)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ax.set_title(f"80-mel spectrogram, 16 kHz; frame {k}: {MEL_STEP} columns ({1000 * MEL_STEP / MEL_PER_S:.0f} ms)"
                 f" from {k / fps:.2f} s", fontsize=9)
    return ax


def plot_face(frame: np.ndarray, lm: np.ndarray | None, patch=None, ax=None, margin: float = 0.2):
    """A frame cropped to the face with its landmarks, the lip contours, the engine's region (box) and the
    blend mask (tinted: how much of each pixel the engine replaces)."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.8), dpi=90)
    h, w = frame.shape[:2]
    if lm is None:
        ax.imshow(_rgb(frame))
        ax.set_title("no face in this frame", fontsize=9)
        ax.axis("off")
        return ax
    image = frame[..., ::-1].astype(np.float32)
    if patch is not None:
        px0, py0, px1, py1 = patch.box
        tint = np.array([255.0, 0.0, 200.0])
        m = 0.45 * patch.mask[..., None]
        image[py0:py1, px0:px1] = image[py0:py1, px0:px1] * (1 - m) + tint * m
    x0, y0, x1, y1 = _crop_box([L.face_box(lm)], w, h, margin)
    ax.imshow(np.clip(image, 0, 255).astype(np.uint8)[y0:y1, x0:x1], extent=(x0, x1, y1, y0))
    ax.scatter(lm[:, 0], lm[:, 1], s=0.6, c="#9be7ff", lw=0)
    for contour, colour in ((L.OUTER_LIPS, "#ffd166"), (L.INNER_LIPS, "#ef476f"), (L.JAW, "#06d6a0")):
        pts = lm[list(contour)]
        closed = contour is not L.JAW
        pts = np.vstack([pts, pts[:1]]) if closed else pts
        ax.plot(pts[:, 0], pts[:, 1], color=colour, lw=1.0)
    if patch is not None:
        px0, py0, px1, py1 = patch.box
        ax.add_patch(plt.Rectangle((px0, py0), px1 - px0, py1 - py0, fill=False, ec="#ff70d4", lw=1.0, ls="--"))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.axis("off")
    return ax


def plot_sync(preview: Preview, ax=None):
    """The preview's measured mouth opening over the speech loudness (the sync score's picture), with the
    engine's target opening dashed when it has one."""
    from ..score import plot_score

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.8), dpi=90)
    if preview.score is None:
        ax.set_title("no sync score measured for this preview", fontsize=9)
        return ax
    plot_score(preview.score, ax=ax)
    if preview.target_opening is not None:
        t = np.arange(len(preview.target_opening)) / preview.fps
        ax.plot(t, preview.target_opening, color="#2a6fdb", lw=1.0, ls="--", alpha=0.7, label="target opening")
        ax.legend(loc="upper right", fontsize=8)
    ax.title.set_fontsize(9)
    return ax


def figure_png(fig, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes, and the figure closed (for image widgets and files)."""
    import io

    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
