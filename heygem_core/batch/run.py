"""Running a batch: every video of a `BatchPlan` through one `LipSyncSession`, reported item by item."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from ..progress import Progress
from .plan import BatchPlan


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

    @classmethod
    def of(cls, item) -> "BatchItem":
        """The batch's view of a session's `ItemResult`."""
        r = item.result
        if r is None:
            return cls(item.video, None, item.status, error=item.error)
        return cls(item.video, r.output, item.status, error=item.error, frames=r.frames, duration=r.duration,
                   seconds=r.seconds, face_ratio=r.face_ratio, score=item.score, plot=item.plot,
                   result=r.to_dict())

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
    """Generate every video of ``plan`` in one `LipSyncSession`: the speech is decoded once and one engine
    serves every video.

    An item that fails (a bad file, no face, …) becomes a failed `BatchItem` and the others still run; a
    bad speech track or engine fails the whole batch (raises). With ``score``, each result's sync score is
    measured and its plot saved beside it as ``<output>.sync.png``.
    """
    from ..session import LipSyncSession

    plan.out_dir.mkdir(parents=True, exist_ok=True)
    session = LipSyncSession(plan.audio, plan.options, text=plan.text, track_cache=plan.out_dir / ".cache")
    count = len(plan.videos)
    items: list[BatchItem] = []
    for i, video in enumerate(plan.videos, 1):
        if video.path is None:
            item = BatchItem(video.spec, None, "failed", error=video.error)
        else:
            label = video.path.name
            hook = (lambda p, i=i, label=label: reporter.progress(i, count, label, p)) if reporter else None
            out = session.output_path(video.path, plan.out_dir)
            item = BatchItem.of(session.run(video.path, out, score=score, plot=out.with_suffix(".sync.png"),
                                            on_progress=hook, should_stop=should_stop))
        items.append(item)
        if reporter:
            reporter.finished(i, count, item)
    return items


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
