"""`LipSyncSession`: one speech track, loaded once, spoken by any number of face videos.

    session = LipSyncSession("talk.m4a", LipSyncOptions(), track_cache="cache/tracks")
    for video in videos:
        item = session.run(video, session.output_path(video, "results"))
        print(item.output, item.score.r if item.score else item.error)

The session holds what every video of a batch shares: the decoded speech and its features (and the script,
when the user has it), the engine with its weights, and the face-track cache. ``generate`` and ``score`` take
the same two hooks, ``on_progress`` and ``should_stop``. ``run`` is the one place that decides what a batch
item is: a result that could not be scored is still a result (the score's failure is noted beside it), a bad
file fails that item only, and a stop request stops everything. The CLI, the demo, papermill batches and the
queue's runner all go through here.
"""
from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import Cancelled, HeygemError
from .names import free_path, output_stem
from .options import LipSyncOptions
from .progress import Progress

log = logging.getLogger(__name__)
# Faults of the machine, not of an item (the CLI reports them in one line, exit 1).
_MACHINE_FAULTS = {errno.ENOSPC, errno.EDQUOT, errno.EIO}

ProgressHook = Callable[[Progress], None]
StopHook = Callable[[], bool]
SCORE_STAGE = "score"


@dataclass
class ItemResult:
    """One video of a session's run: ``status`` is ``"done"`` or ``"failed"`` (then ``error`` says why).

    A done item may still carry an ``error``: its result exists but could not be scored."""

    video: str
    output: Path | None
    status: str
    error: str | None = None
    result: Any = field(default=None, repr=False)     # GenerateResult
    score: Any = field(default=None, repr=False)      # SyncScore, when measured
    plot: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == "done"


def read_text(path: str | Path) -> str:
    """The script of a speech from a UTF-8 text file (``InputError`` naming the file when it cannot be read)."""
    from .errors import InputError

    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a text file") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None


class LipSyncSession:
    """Load once, call many: the speech (decoded, features memoised), the engine and the track cache.

    Raises ``InputError`` for an unusable speech track and ``CheckpointError``/``OptionsError`` for an engine
    that cannot load, before any video is touched. ``text`` is the script of the speech, when known.
    """

    def __init__(self, audio: str | Path, options: LipSyncOptions | None = None, *, text: str | None = None,
                 track_cache: str | Path | None = None, speech=None, engine=None):
        from .engines import get_engine
        from .pipeline import prepare_speech

        self.audio = str(audio)
        self.options = options or LipSyncOptions()
        self.track_cache = None if track_cache is None else Path(track_cache)
        self.speech = speech if speech is not None else prepare_speech(audio, cache_dir=track_cache)
        if text and text.strip():
            self.speech.text = text.strip()
        self.engine = engine if engine is not None else get_engine(self.options)
        self._claimed: set[Path] = set()

    @property
    def text(self) -> str | None:
        return getattr(self.speech, "text", None)

    def output_path(self, video: str | Path, out_dir: str | Path) -> Path:
        """``out_dir/<video>__<audio>.mp4``, made unique (``-2``, ``-3``, …) against the files already there
        and the names this session has handed out, so two videos called the same never overwrite anything."""
        path = free_path(Path(out_dir), output_stem(Path(video).name, Path(self.audio).name),
                         taken=self._claimed.__contains__)
        self._claimed.add(path)
        return path

    def generate(self, video: str | Path, out: str | Path, *, on_progress: ProgressHook | None = None,
                 should_stop: StopHook | None = None):
        """Make ``out``: the face in ``video`` speaking this session's speech. Returns a ``GenerateResult``."""
        from .pipeline import generate

        return generate(self.audio, video, out, self.options, on_progress=on_progress, should_stop=should_stop,
                        speech=self.speech, engine=self.engine, track_cache=self.track_cache)

    def score(self, video: str | Path, *, plot: str | Path | None = None, on_progress: ProgressHook | None = None,
              should_stop: StopHook | None = None):
        """The ``SyncScore`` of ``video`` against this session's speech (progress reported as stage ``score``)."""
        from .score import sync_score

        def progress(p: Progress) -> None:
            if should_stop is not None and should_stop():
                raise Cancelled("stopped while scoring")
            if on_progress is not None:
                on_progress(Progress(SCORE_STAGE, p.done, p.total))

        return sync_score(self.audio, video, speech=self.speech, plot=plot, on_progress=progress)

    def try_score(self, video: str | Path, **hooks) -> tuple[Any, str | None]:
        """``(score, None)``, or ``(None, reason)`` when it cannot be measured: a score describes a result, and
        failing to compute it never costs the result. A stop request still stops."""
        try:
            return self.score(video, **hooks), None
        except Cancelled:
            raise
        except Exception as exc:  # noqa: BLE001 - see above
            log.warning("sync score of %s not measured: %s", Path(video).name, exc, exc_info=True)
            return None, f"sync score not measured: {exc}"

    def run(self, video: str | Path, out: str | Path, *, score: bool = True, plot: str | Path | None = None,
            on_progress: ProgressHook | None = None, should_stop: StopHook | None = None) -> ItemResult:
        """Generate (and ``score``) one item. A bad file or a failure inside the pipeline becomes a failed
        ``ItemResult`` and the session stays usable; ``Cancelled`` (and Ctrl-C) propagate."""
        hooks = {"on_progress": on_progress, "should_stop": should_stop}
        try:
            result = self.generate(video, out, **hooks)
        except Cancelled:
            raise
        except HeygemError as exc:
            log.info("%s failed: %s", video, exc)
            return ItemResult(str(video), None, "failed", error=str(exc))
        except OSError as exc:
            if exc.errno in _MACHINE_FAULTS:    # a full disk fails every item after it too: stop the run
                raise
            log.error("%s failed unexpectedly: %r", video, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            return ItemResult(str(video), None, "failed", error=f"unexpected {type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - one broken item must not cost the rest of a batch
            log.error("%s failed unexpectedly: %r", video, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            return ItemResult(str(video), None, "failed", error=f"unexpected {type(exc).__name__}: {exc}")
        item = ItemResult(str(video), result.output, "done", result=result)
        if score:
            item.score, item.error = self.try_score(result.output, plot=plot, **hooks)
            item.plot = Path(plot) if plot and item.score is not None else None
        return item
