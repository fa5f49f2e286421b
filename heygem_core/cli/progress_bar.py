"""A tqdm bar that follows `Progress` events and names the current stage."""
from __future__ import annotations

from tqdm import tqdm

from ..progress import Progress


class StageBar:
    """Appears with the first progress event (an input rejected up front prints only its error line) and
    clears itself when the item fails."""

    def __init__(self, label: str, *, disable: bool | None = None):
        """``disable=None``: a bar only when stderr is a terminal (logs and pipes get clean lines)."""
        self.label = label
        self.disable = disable
        self.bar: tqdm | None = None
        self.stage = None

    def update(self, p: Progress) -> None:
        if self.bar is None:
            # disable=None: no bar when stderr is not a terminal (a log file, a pipe), so an error line
            # is never preceded by bar fragments there
            self.bar = tqdm(total=1, desc=self.label, unit="frame", disable=True if self.disable else None,
                            leave=True, dynamic_ncols=True)
        if p.stage != self.stage:
            self.stage = p.stage
            self.bar.reset(total=max(1, p.total))
            self.bar.set_description(f"{self.label} · {p.stage}", refresh=False)
        self.bar.n = min(p.done, max(1, p.total))
        self.bar.refresh()

    def close(self, ok: bool = True) -> None:
        if self.bar is not None:
            self.bar.leave = ok
            self.bar.close()


class BarReporter:
    """A batch `Reporter` (see ``heygem_core.batch.run``) that shows one `StageBar` per item."""

    def __init__(self, *, disable: bool | None = None):
        self.disable = disable
        self._bars: dict[int, StageBar] = {}

    def progress(self, index: int, count: int, label: str, progress: Progress) -> None:
        if index not in self._bars:
            self._bars[index] = StageBar(f"[{index}/{count}] {label}", disable=self.disable)
        self._bars[index].update(progress)

    def finished(self, index: int, count: int, item) -> None:
        bar = self._bars.pop(index, None)
        if bar is not None:
            bar.close(ok=item.ok)
