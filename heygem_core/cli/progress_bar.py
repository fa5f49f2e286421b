"""A tqdm bar that follows `Progress` events and names the current stage."""
from __future__ import annotations

from tqdm import tqdm

from ..progress import Progress


class StageBar:
    def __init__(self, label: str, *, disable: bool = False):
        self.label = label
        self.bar = tqdm(total=1, desc=label, unit="frame", disable=disable, leave=True, dynamic_ncols=True)
        self.stage = None

    def update(self, p: Progress) -> None:
        if p.stage != self.stage:
            self.stage = p.stage
            self.bar.reset(total=max(1, p.total))
            self.bar.set_description(f"{self.label} · {p.stage}", refresh=False)
        self.bar.n = min(p.done, max(1, p.total))
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
