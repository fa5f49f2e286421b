"""Mouth synthesis engines. Each turns template frames + face landmarks + speech into mouth-region patches.

    engine = get_engine(options)
    engine.prepare(speech, fps, n_frames)          # once per (speech, video)
    patches = engine.synthesize(frames, faces, indices)
"""
from __future__ import annotations

import importlib
from typing import Protocol

import numpy as np

from ..composite import Patch
from ..options import LipSyncOptions
from ..speech import Speech

_ENGINES = {"procedural": ("procedural", "ProceduralEngine"), "wav2lip": ("wav2lip.engine", "Wav2LipEngine")}


class Engine(Protocol):
    name: str
    batch_size: int      # frames per ``synthesize`` call

    def prepare(self, speech: Speech, fps: float, n_frames: int) -> None: ...

    def synthesize(self, frames: list[np.ndarray], faces: list[np.ndarray | None],
                   indices: list[int]) -> list[Patch | None]: ...


def get_engine(options: LipSyncOptions) -> Engine:
    """The engine named by ``options.engine``, loaded (weights included) and ready to ``prepare``."""
    module, cls = _ENGINES[options.engine]
    return getattr(importlib.import_module(f".{module}", __name__), cls)(options)
