"""HeyGem Workbench: one speech track drives many face videos to speak it, locally.

    from heygem_core import LipSyncOptions, generate
    result = generate("speech.wav", "presenter.mp4", "out.mp4", LipSyncOptions())
"""
from __future__ import annotations

import importlib
import logging

from .errors import Cancelled, CheckpointError, HeygemError, InputError, NoFaceError, OptionsError
from .options import LipSyncOptions

__version__ = "0.1.0"
logging.getLogger(__name__).addHandler(logging.NullHandler())

# Heavy names load on first use, so `heygem --help` and the dashboard start quickly.
_LAZY = {
    "generate": "pipeline", "prepare_speech": "pipeline", "GenerateResult": "pipeline", "Progress": "pipeline",
    "sync_score": "score", "SyncScore": "score",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


__all__ = ["LipSyncOptions", "HeygemError", "InputError", "NoFaceError", "OptionsError", "CheckpointError",
           "Cancelled", *_LAZY]
