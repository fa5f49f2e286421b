"""Viseme timelines kept on disk (beside the face tracks), so a speech is heard once: the next batch with the
same speech, a re-run with other options or other presenters reads its timeline instead of recognising the
speech again (about 0.1 s of CPU per second of speech).

A file is named by a digest of the 16 kHz samples, the script, and the code that makes timelines (this
package's modules, the loudness measure, the recogniser's version), so a changed speech, script or program
never reads an old timeline. Unreadable files are ignored; a cache that cannot be written costs the next run
time, not this one.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
from importlib.metadata import version
from pathlib import Path

import numpy as np

from ..atomic_file import write_atomic
from .recognise import Phone
from .timeline import VisemeTimeline

log = logging.getLogger("heygem_core.phonetic")

_code: str | None = None


def code_digest() -> str:
    """Digest of everything that makes a timeline from samples and a script."""
    global _code
    if _code is None:
        here = Path(__file__).parent
        h = hashlib.blake2b(digest_size=16)
        for path in sorted(here.glob("*.py")) + [here.parent / "speech.py"]:
            h.update(path.name.encode() + path.read_bytes())
        h.update(version("pocketsphinx").encode())
        _code = h.hexdigest()
    return _code


def timeline_path(cache_dir: str | Path, samples: np.ndarray, text: str | None) -> Path:
    h = hashlib.blake2b(digest_size=20)
    h.update(code_digest().encode())
    h.update((text or "").encode("utf-8") + b"\0")
    h.update(np.ascontiguousarray(samples, np.float32).data)
    return Path(cache_dir) / f"timeline-{h.hexdigest()}.npz"


def save_timeline(path: Path, tl: VisemeTimeline) -> None:
    data = io.BytesIO()
    arrays = {f.name: getattr(tl, f.name) for f in dataclasses.fields(tl)
              if isinstance(getattr(tl, f.name), np.ndarray)}          # every per-hop array it has
    np.savez_compressed(data, **arrays, names=np.array([p.name for p in tl.phones], dtype=str),
                        times=np.array([(p.start, p.end) for p in tl.phones], np.float64).reshape(-1, 2),
                        labels=np.array([tl.source, tl.language]), hop=np.float64(tl.hop_s))   # no field names
    try:
        write_atomic(path, data.getbuffer())
    except OSError as exc:
        log.warning("viseme timeline not cached in %s: %s", path.parent, exc)


def load_timeline(path: Path) -> VisemeTimeline | None:
    """The timeline in ``path``, or None when there is none or it cannot be read."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            phones = [Phone(str(n), float(a), float(b)) for n, (a, b) in zip(z["names"], z["times"])]
            source, language = (str(v) for v in z["labels"])
            arrays = {f.name: z[f.name] for f in dataclasses.fields(VisemeTimeline) if f.name in z.files}
            return VisemeTimeline(**arrays, phones=phones, source=source, language=language,
                                  hop_s=float(z["hop"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:     # TypeError: an array it needs is missing
        log.warning("ignoring unreadable viseme timeline %s: %s", path, exc)
        return None
