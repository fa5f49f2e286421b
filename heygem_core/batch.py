"""Batches: one speech track, many face videos, described by a parameter file; the report of a run.

    plan = plan_batch(audio="talk.wav", videos=["clips/*.mp4", "anna.jpg"], params="params/news.yaml",
                      out_dir="results")
    items = run_batch(plan, reporter=ProgressLines(print))
    html = report_html(items)                 # one row per video: output, frames, duration, time, sync, face
    raise_if_failed(items)                    # after the report: a failed item fails the run

The papermill notebook ``notebooks/batch.ipynb`` is a thin client over this module, and ``heygem batch``
runs that notebook. Media may be named ``builtin:speech``, ``builtin:clip`` or ``builtin:photo`` (the
built-in demo media, written to ``<out_dir>/media/``). Relative paths are relative to the working directory.
"""
from __future__ import annotations

import glob
import html
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import yaml

from .errors import HeygemError, InputError, OptionsError
from .media.files import IMAGE_EXTS, VIDEO_EXTS
from .names import output_name
from .options import LipSyncOptions
from .progress import Progress

log = logging.getLogger(__name__)

#: The batch notebook's parameters, in the order its parameters cell lists them.
BATCH_KEYS = ("audio", "videos", "params", "out_dir", "engine", "checkpoint")
DEFAULT_OUT_DIR = "batch_output"
#: Stem of the run's report files in the output folder: ``batch_report.ipynb`` and ``batch_report.json``.
REPORT_NAME = "batch_report"
BUILTIN_SPEECH, BUILTIN_CLIP, BUILTIN_PHOTO = "builtin:speech", "builtin:clip", "builtin:photo"
BUILTINS = (BUILTIN_SPEECH, BUILTIN_CLIP, BUILTIN_PHOTO)
_GLOB_CHARS = set("*?[")


class BatchFailed(HeygemError):
    """Some items of a batch failed; the others finished. ``failed`` lists the failed items."""

    def __init__(self, failed: list["BatchItem"], total: int):
        self.failed = failed
        lines = "; ".join(i.describe_error() for i in failed)
        super().__init__(f"{len(failed)} of {total} items failed: {lines}")


# ---------------------------------------------------------------------------------------------------------
# inputs

def resolve_media(spec: str | Path, media_dir: str | Path) -> Path:
    """The file for ``spec``: a path as given, or a built-in medium written into ``media_dir`` once."""
    text = str(spec).strip()
    if text not in BUILTINS:
        if text.startswith("builtin:"):
            raise InputError(text, f"unknown built-in medium; use one of {', '.join(BUILTINS)}")
        return Path(text).expanduser()
    from . import demo

    if text == BUILTIN_SPEECH:
        return demo.demo_speech_path()
    media_dir = Path(media_dir)
    media_dir.mkdir(parents=True, exist_ok=True)
    if text == BUILTIN_CLIP:
        path = media_dir / "presenter_clip.mp4"
        if not path.exists():
            demo.demo_face_clip(path, seconds=3.0)
        return path
    path = media_dir / "presenter_photo.jpg"
    if not path.exists():
        import cv2

        if not cv2.imwrite(str(path), demo.face_photo()):
            raise InputError(path, "cannot write the built-in photo here")
    return path


@dataclass
class BatchVideo:
    """One entry of the batch: ``spec`` as written in the parameters; ``path`` or the ``error`` why not."""

    spec: str
    path: Path | None
    error: str | None = None


def expand_videos(videos: str | Path | list | tuple | None, media_dir: str | Path) -> list[BatchVideo]:
    """The videos of a batch, in order: each entry is a path, a glob pattern or a built-in medium.

    A pattern expands to its matching videos and photos in sorted order (other files are skipped); a
    pattern that matches none becomes an entry with an error, so the report shows it.
    """
    if videos is None:
        raise OptionsError("videos", "give at least one video, photo or glob pattern")
    entries = [videos] if isinstance(videos, (str, Path)) else list(videos)
    if not entries:
        raise OptionsError("videos", "give at least one video, photo or glob pattern")
    out: list[BatchVideo] = []
    for entry in entries:
        if not isinstance(entry, (str, Path)):
            raise OptionsError("videos", f"expected paths or glob patterns, got {entry!r}")
        text = str(entry)
        if _GLOB_CHARS & set(text) and not text.startswith("builtin:"):
            pattern = str(Path(text).expanduser())
            found = sorted(p for p in glob.glob(pattern, recursive=True)
                           if Path(p).is_file() and Path(p).suffix.lower() in VIDEO_EXTS + IMAGE_EXTS)
            if not found:
                out.append(BatchVideo(text, None, "no video or photo matches this pattern"))
            out.extend(BatchVideo(p, Path(p)) for p in found)
            continue
        try:
            out.append(BatchVideo(text, resolve_media(text, media_dir)))
        except HeygemError as exc:
            out.append(BatchVideo(text, None, str(exc)))
    return out


def batch_options(params: str | Path | None = None, engine: str | None = None,
                  checkpoint: str | None = None) -> LipSyncOptions:
    """The options of a batch: the ``params`` file (or the defaults), then ``engine`` and ``checkpoint``."""
    base = LipSyncOptions.from_yaml(params).to_dict() if params else {}
    if engine:
        base["engine"] = engine
    if checkpoint:
        base["checkpoint"] = str(checkpoint)
    return LipSyncOptions.from_dict(base)


def load_batch_params(path: str | Path) -> dict[str, Any]:
    """The mapping in a batch parameter file, checked: only the batch notebook's parameters are allowed."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    except yaml.YAMLError as exc:
        raise InputError(path, f"not valid YAML ({exc.__class__.__name__})") from None
    data = data or {}
    if not isinstance(data, dict):
        raise InputError(path, "expected a mapping of parameter: value")
    unknown = sorted(set(data) - set(BATCH_KEYS))
    if unknown:
        raise InputError(path, f"unknown batch parameter {unknown[0]!r}; valid parameters: "
                               f"{', '.join(BATCH_KEYS)} (options go in the file named by 'params')")
    if "audio" not in data or "videos" not in data:
        raise InputError(path, "a batch needs 'audio' and 'videos'")
    return data


def output_names(videos: list[BatchVideo], audio: str | Path) -> list[str | None]:
    """``<video>__<audio>.mp4`` for each video (as ``heygem generate`` names them); a name that would
    repeat within the batch gets ``-2``, ``-3``, … so no result overwrites another."""

    seen: dict[str, int] = {}
    names: list[str | None] = []
    for v in videos:
        if v.path is None:
            names.append(None)
            continue
        name = output_name(v.path, audio)
        n = seen.get(name, 0) + 1
        seen[name] = n
        names.append(name if n == 1 else f"{Path(name).stem}-{n}.mp4")
    return names


@dataclass
class BatchPlan:
    """What a batch will do: the resolved speech track, videos, options and output folder."""

    audio: Path
    audio_spec: str
    videos: list[BatchVideo]
    options: LipSyncOptions
    out_dir: Path

    @property
    def outputs(self) -> list[Path | None]:
        return [None if n is None else self.out_dir / n for n in output_names(self.videos, self.audio)]

    def describe(self) -> str:
        """A few lines for the top of a report: the speech, the videos and the options that differ."""
        changed = {k: v for k, v in self.options.to_dict().items() if LipSyncOptions().to_dict()[k] != v}
        lines = [f"speech: {self.audio}" + (f"  ({self.audio_spec})" if self.audio_spec != str(self.audio) else ""),
                 f"videos: {len(self.videos)}", f"output folder: {self.out_dir}",
                 "options: defaults" if not changed else
                 "options (differing from the defaults): " + ", ".join(f"{k}={v}" for k, v in changed.items())]
        lines += [f"  {i}. {v.path or v.spec}" + (f"  [{v.error}]" if v.error else "")
                  for i, v in enumerate(self.videos, 1)]
        return "\n".join(lines)


def plan_batch(audio: str | Path, videos, params: str | Path | None = None,
               out_dir: str | Path = DEFAULT_OUT_DIR, engine: str | None = None,
               checkpoint: str | None = None) -> BatchPlan:
    """Resolve a batch's parameters (the batch notebook's parameters cell) into a `BatchPlan`.

    Raises ``OptionsError`` for bad options and ``InputError`` for an unknown built-in medium; a missing
    or unusable video is not an error here but a failed item later.
    """
    if not audio:
        raise OptionsError("audio", "give a speech track (a path or builtin:speech)")
    out_dir = Path(out_dir or DEFAULT_OUT_DIR).expanduser()
    options = batch_options(params, engine, checkpoint)
    media_dir = out_dir / "media"
    return BatchPlan(audio=resolve_media(audio, media_dir), audio_spec=str(audio),
                     videos=expand_videos(videos, media_dir), options=options, out_dir=out_dir)


# ---------------------------------------------------------------------------------------------------------
# running

@dataclass
class BatchItem:
    """The outcome of one video of a batch. ``status`` is ``"done"`` or ``"failed"`` (then ``error``)."""

    video: str
    output: Path | None
    status: str
    error: str | None = None
    frames: int | None = None
    duration: float | None = None
    seconds: float | None = None          # generating the video (the sync score not included)
    face_ratio: float | None = None
    score: Any = field(default=None, repr=False)   # SyncScore, when it was measured
    plot: Path | None = None              # the sync plot (PNG) beside the output
    result: dict | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "done"

    def describe_error(self) -> str:
        """``<video>: <reason>``, without naming the video twice when the reason already does."""
        if not self.error:
            return ""
        return self.error if self.error.startswith(self.video) else f"{self.video}: {self.error}"

    def row(self) -> dict[str, Any]:
        """The report table's row: plain values, ``None`` where not known."""
        score = self.score
        r = None if score is None or score.r != score.r else round(float(score.r), 3)
        return {"video": self.video, "output": None if self.output is None else str(self.output),
                "status": self.status, "frames": self.frames,
                "duration_s": None if self.duration is None else round(self.duration, 2),
                "time_s": None if self.seconds is None else round(self.seconds, 2),
                "sync_r": r, "lag_ms": None if score is None else round(float(score.lag_ms)),
                "face_ratio": None if self.face_ratio is None else round(self.face_ratio, 3),
                "error": self.error}


class Reporter(Protocol):
    def progress(self, index: int, count: int, label: str, progress: Progress) -> None: ...

    def finished(self, index: int, count: int, item: BatchItem) -> None: ...


def run_batch(plan: BatchPlan, *, reporter: Reporter | None = None, score: bool = True,
              should_stop: Callable[[], bool] | None = None) -> list[BatchItem]:
    """Generate every video of ``plan``: the speech is decoded once and one engine serves every video.

    An item that fails (a bad file, no face, …) becomes a failed `BatchItem` and the others still run; a
    bad speech track or engine fails the whole batch (raises). With ``score``, each result's sync score is
    measured and its plot saved beside it as ``<output>.sync.png``.
    """
    from .engines import get_engine
    from .pipeline import prepare_speech

    plan.out_dir.mkdir(parents=True, exist_ok=True)
    speech = prepare_speech(plan.audio)
    engine = get_engine(plan.options)
    cache = plan.out_dir / ".cache"
    count = len(plan.videos)
    items: list[BatchItem] = []
    for i, (video, out) in enumerate(zip(plan.videos, plan.outputs), 1):
        label = Path(video.spec).name if video.path is None else video.path.name
        hook = (lambda p, i=i, label=label: reporter.progress(i, count, label, p)) if reporter else None
        if video.path is None:
            item = BatchItem(video.spec, None, "failed", error=video.error)
        else:
            item = _run_one(plan, video, out, speech, engine, cache, hook, should_stop, score)
        items.append(item)
        if reporter:
            reporter.finished(i, count, item)
    return items


def _run_one(plan, video, out, speech, engine, cache, hook, should_stop, score) -> BatchItem:
    from .pipeline import generate

    try:
        result = generate(plan.audio, video.path, out, plan.options, on_progress=hook, should_stop=should_stop,
                          speech=speech, engine=engine, track_cache=cache)
    except HeygemError as exc:
        log.info("batch item %s failed: %s", video.path, exc)
        return BatchItem(str(video.path), None, "failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one broken item must not cost the rest of a long batch
        log.exception("batch item %s failed unexpectedly", video.path)
        return BatchItem(str(video.path), None, "failed", error=f"unexpected {type(exc).__name__}: {exc}")
    item = BatchItem(str(video.path), result.output, "done", frames=result.frames, duration=result.duration,
                     seconds=result.seconds, face_ratio=result.face_ratio, result=result.to_dict())
    if score:
        from .score import sync_score

        plot = result.output.with_suffix(".sync.png")
        score_hook = (lambda p: hook(Progress("score", p.done, p.total))) if hook else None
        try:
            item.score = sync_score(plan.audio, result.output, speech=speech, plot=plot, on_progress=score_hook)
            item.plot = plot
        except HeygemError as exc:   # the video exists; only its measurement failed
            log.warning("sync score of %s failed: %s", result.output, exc)
            item.error = f"sync score not measured: {exc}"
    return item


class ProgressLines:
    """A `Reporter` that writes one short line per stage and every quarter of it, for logs and notebooks.

    ``write`` receives each line (``print`` in a notebook); nothing is written anywhere else.
    """

    def __init__(self, write: Callable[[str], None], step: float = 0.25):
        self.write, self.step = write, step
        self._key: tuple[int, str] | None = None
        self._frac = 0.0

    def progress(self, index: int, count: int, label: str, progress: Progress) -> None:
        key, frac = (index, progress.stage), progress.fraction
        if key == self._key and (frac <= self._frac or (frac < 1.0 and frac - self._frac < self.step)):
            return
        self._key, self._frac = key, frac
        amount = f"{progress.done}/{progress.total}" if progress.total else f"{progress.done}"
        self.write(f"[{index}/{count}] {label}: {progress.stage} {amount}")

    def finished(self, index: int, count: int, item: BatchItem) -> None:
        if not item.ok:
            self.write(f"[{index}/{count}] FAILED: {item.describe_error()}")
            return
        name = Path(item.video).name
        sync = "" if item.score is None else f", sync r = {item.score.r:.2f}"
        self.write(f"[{index}/{count}] {name}: done in {item.seconds:.1f} s -> {item.output} "
                   f"({item.frames} frames, {item.duration:.1f} s, face in {100 * item.face_ratio:.0f}%{sync})")


# ---------------------------------------------------------------------------------------------------------
# the report

COLUMNS = (("video", "video"), ("output", "output"), ("status", "status"), ("frames", "frames"),
           ("duration_s", "duration (s)"), ("time_s", "time taken (s)"), ("sync_r", "sync r"),
           ("lag_ms", "lag (ms)"), ("face_ratio", "frames with a face"), ("error", "error"))


def report_rows(items: list[BatchItem]) -> list[dict[str, Any]]:
    return [item.row() for item in items]


def report_html(items: list[BatchItem]) -> str:
    """The report table as HTML: one row per video, failed rows marked, a totals line under it."""
    def cell(key, value):
        if value is None:
            return "" if key == "error" else "–"
        if key == "face_ratio":
            return f"{100 * value:.0f}%"
        if key in ("video", "output"):
            return html.escape(Path(value).name)
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in COLUMNS)
    body = []
    for row in report_rows(items):
        style = "" if row["status"] == "done" else ' style="background:#fde8e8"'
        cells = "".join(f"<td>{cell(key, row[key])}</td>" for key, _ in COLUMNS)
        body.append(f'<tr class="item" data-status="{row["status"]}"{style}>{cells}</tr>')
    done = sum(item.ok for item in items)
    taken = sum(item.seconds or 0.0 for item in items)
    summary = f"{done} of {len(items)} videos done in {taken:.1f} s of generation"
    return (f'<table class="heygem-batch-report"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            f"</tbody></table><p>{html.escape(summary)}</p>")


def write_report(plan: BatchPlan, items: list[BatchItem], path: str | Path | None = None) -> Path:
    """The report as JSON (``<out_dir>/batch_report.json`` by default): the speech, options and rows."""
    path = Path(path) if path is not None else plan.out_dir / f"{REPORT_NAME}.json"
    data = {"audio": str(plan.audio), "options": plan.options.to_dict(), "out_dir": str(plan.out_dir),
            "done": sum(i.ok for i in items), "failed": sum(not i.ok for i in items),
            "items": report_rows(items)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def raise_if_failed(items: list[BatchItem]) -> None:
    """Raise `BatchFailed` when any item failed (the last cell of the batch notebook)."""
    failed = [item for item in items if not item.ok]
    if failed:
        raise BatchFailed(failed, len(items))
