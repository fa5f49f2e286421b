"""What the job store hands out: plain, immutable snapshots of jobs, items and history entries.

Times are seconds since the epoch (``time.time()`` floats); ``None`` until the event happened. Paths are
absolute strings.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Item states. ``interrupted``: the worker died while the item ran; the next worker runs it again.
QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "done", "failed", "cancelled", "interrupted")
ITEM_STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED)
PENDING = (QUEUED, INTERRUPTED)          # waiting for the worker
FINISHED = (DONE, FAILED, CANCELLED)     # final

# Stages of an item in the order they start: the pipeline's four, then the sync score of the result (it
# tracks the face of the output again). Each has the share of an item's time it usually takes (measured on
# the procedural engine), so "stage + frame i of n" becomes one percentage that only moves forward.
SCORE_STAGE = "score"
STAGES = ("decode", "face", "synthesis", "encode", SCORE_STAGE)
# face tracking normally runs inside the synthesis pass (or comes from the cache): "face" is rarely seen
STAGE_WEIGHTS = {"decode": 0.02, "face": 0.03, "synthesis": 0.62, "encode": 0.03, SCORE_STAGE: 0.30}


@dataclass(frozen=True)
class ItemRecord:
    """One video of a job and everything known about its run."""

    id: str
    job_id: str
    index: int
    video: str
    video_name: str
    status: str
    stage: str | None = None
    done: int = 0
    total: int = 0
    percent: float = 0.0
    eta_s: float | None = None
    error: str | None = None
    output: str | None = None
    thumbnail: str | None = None
    duration: float | None = None
    engine: str | None = None
    score: dict | None = None
    result: dict | None = None
    started: float | None = None
    finished: float | None = None
    attempts: int = 0
    host: str | None = None         # the machine that runs / ran it, when known (cluster runs)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JobRecord:
    """One audio + N videos + the options; its status is derived from its items."""

    id: str
    status: str
    created: float
    started: float | None
    finished: float | None
    audio: str
    audio_name: str
    options: dict
    items: list[ItemRecord] = field(default_factory=list)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_done(self) -> int:
        """Items that reached a final state (done, failed or cancelled)."""
        return sum(item.is_finished for item in self.items)

    @property
    def current_item(self) -> ItemRecord | None:
        return next((item for item in self.items if item.status == RUNNING), None)

    @property
    def percent(self) -> float:
        """The job's progress, 0..100: finished items count whole, the running one by its own percent."""
        if not self.items:
            return 100.0
        total = sum(100.0 if item.is_finished else item.percent if item.status == RUNNING else 0.0
                    for item in self.items)
        return total / len(self.items)

    @property
    def errors(self) -> list[str]:
        return [f"{item.video_name}: {item.error}" for item in self.items if item.error]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(n_items=self.n_items, n_done=self.n_done, percent=round(self.percent, 1))
        return data


@dataclass(frozen=True)
class HistoryEntry:
    """A finished output. ``created`` is when it finished (epoch seconds)."""

    item_id: str
    job_id: str
    output: str
    thumbnail: str | None
    duration: float | None
    audio_name: str
    video_name: str
    engine: str | None
    options: dict
    score: dict | None
    created: float
    host: str | None = None
    video: str | None = None        # the template it was made from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def job_status(items: list[ItemRecord]) -> str:
    """queued → running → done / failed / cancelled, from the items' states."""
    states = {item.status for item in items}
    if not states:
        return CANCELLED
    if RUNNING in states:
        return RUNNING
    if states & set(PENDING):
        # Some items final and some waiting: the job is under way (the worker is between two items).
        return RUNNING if states & set(FINISHED) else QUEUED
    if states == {DONE}:
        return DONE
    return FAILED if FAILED in states else CANCELLED


def item_percent(stage: str, done: int, total: int) -> float:
    """Overall percent of an item from its stage and the frame count within it."""
    if stage not in STAGE_WEIGHTS:
        return 0.0
    before = sum(STAGE_WEIGHTS[s] for s in STAGES[:STAGES.index(stage)])
    frac = min(1.0, max(0.0, done / total)) if total else 0.0
    return 100.0 * (before + STAGE_WEIGHTS[stage] * frac)


@dataclass(frozen=True)
class WorkItem:
    """Everything one run of one item needs, as plain values (it can be pickled to another machine)."""

    id: str
    job_id: str
    index: int
    audio: str
    video: str
    audio_name: str
    video_name: str
    options: dict
    output: str
    attempts: int
    text: str | None = None      # the script of the speech, when the user gave it
