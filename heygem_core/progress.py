"""The progress report every long-running stage hands to its ``on_progress`` hook."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units of ``stage`` (``decode``, ``face``, ``synthesis``, ``encode``) are finished.

    ``total`` is 0 when it is not known in advance.
    """

    stage: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        """Share finished, in [0, 1]; 0 when the total is unknown."""
        if self.total <= 0:
            return 0.0
        return min(1.0, max(0.0, self.done / self.total))
