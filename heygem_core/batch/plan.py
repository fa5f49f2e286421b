"""A batch's inputs: the speech, the videos (paths, glob patterns, built-in media), the options, the folder.

Media may be named ``builtin:speech``, ``builtin:clip`` or ``builtin:photo`` (the built-in demo media, written
to ``<out_dir>/media/``). Relative paths are relative to the working directory.
"""
from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import HeygemError, InputError, OptionsError
from ..media.files import IMAGE_EXTS, VIDEO_EXTS
from ..options import LipSyncOptions

#: The batch notebook's parameters, in the order its parameters cell lists them.
BATCH_KEYS = ("audio", "videos", "text", "params", "out_dir", "engine", "checkpoint")
DEFAULT_OUT_DIR = "batch_output"
BUILTIN_SPEECH, BUILTIN_CLIP, BUILTIN_PHOTO = "builtin:speech", "builtin:clip", "builtin:photo"
BUILTINS = (BUILTIN_SPEECH, BUILTIN_CLIP, BUILTIN_PHOTO)
_GLOB_CHARS = set("*?[")


def resolve_media(spec: str | Path, media_dir: str | Path) -> Path:
    """The file for ``spec``: a path as given, or a built-in medium written into ``media_dir`` once."""
    text = str(spec).strip()
    if text not in BUILTINS:
        if text.startswith("builtin:"):
            raise InputError(text, f"unknown built-in medium; use one of {', '.join(BUILTINS)}")
        return Path(text).expanduser()
    from .. import demo

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


@dataclass
class BatchPlan:
    """What a batch will do: the resolved speech track, videos, options and output folder."""

    audio: Path
    audio_spec: str
    videos: list[BatchVideo]
    options: LipSyncOptions
    out_dir: Path
    text: str | None = None        # the script of the speech, when known

    def describe(self) -> str:
        """A few lines for the top of a report: the speech, the videos and the options that differ."""
        changed = {k: v for k, v in self.options.to_dict().items() if LipSyncOptions().to_dict()[k] != v}
        lines = [f"speech: {self.audio}" + (f"  ({self.audio_spec})" if self.audio_spec != str(self.audio) else ""),
                 f"videos: {len(self.videos)}", f"output folder: {self.out_dir}",
                 f"script: {len(self.text.split())} words" if self.text else "script: none (mouth shapes from the sound)",
                 "options: defaults" if not changed else
                 "options (differing from the defaults): " + ", ".join(f"{k}={v}" for k, v in changed.items())]
        lines += [f"  {i}. {v.path or v.spec}" + (f"  [{v.error}]" if v.error else "")
                  for i, v in enumerate(self.videos, 1)]
        return "\n".join(lines)


def plan_batch(audio: str | Path, videos, params: str | Path | None = None,
               out_dir: str | Path = DEFAULT_OUT_DIR, engine: str | None = None,
               checkpoint: str | None = None, text: str | None = None) -> BatchPlan:
    """Resolve a batch's parameters (the batch notebook's parameters cell) into a `BatchPlan`.

    Raises ``OptionsError`` for bad options and ``InputError`` for an unknown built-in medium; a missing
    or unusable video is not an error here but a failed item later. ``text`` is the script of the speech,
    or the path of a UTF-8 text file holding it.
    """
    if not audio:
        raise OptionsError("audio", "give a speech track (a path or builtin:speech)")
    out_dir = Path(out_dir or DEFAULT_OUT_DIR).expanduser()
    options = LipSyncOptions.load(params, engine=engine or None, checkpoint=str(checkpoint) if checkpoint else None)
    media_dir = out_dir / "media"
    return BatchPlan(audio=resolve_media(audio, media_dir), audio_spec=str(audio),
                     videos=expand_videos(videos, media_dir), options=options, out_dir=out_dir,
                     text=script_text(text))


def script_text(value: str | Path | None) -> str | None:
    """The script: ``value`` itself, or the contents of the text file it names."""
    from ..session import read_text

    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if "\n" not in text and len(text) < 4096 and text.lower().endswith(".txt"):
        return read_text(Path(text).expanduser())
    return text
