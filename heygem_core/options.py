"""`LipSyncOptions`: every tunable in one frozen, validated dataclass.

The CLI flags, the widget panel and papermill/YAML parameter files are three views of this one object, and
a copy of it is stored with every result. Each field's metadata carries its help text and its allowed range
or choices, so the views can be generated instead of written three times.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import OptionsError

ENGINES = ("procedural", "wav2lip")
DEVICES = ("auto", "cpu", "cuda")
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow")
LOOP_MODES = ("pingpong", "loop")


def _opt(default, help, *, lo=None, hi=None, choices=None, group="general"):
    return field(default=default, metadata={"help": help, "min": lo, "max": hi, "choices": choices,
                                            "group": group})


@dataclass(frozen=True)
class LipSyncOptions:
    # -- engine
    engine: str = _opt("procedural", "Mouth synthesis engine.", choices=ENGINES, group="engine")
    checkpoint: str | None = _opt(None, "Wav2Lip checkpoint: a file path or a name from `heygem weights list`.",
                                  group="engine")
    device: str = _opt("auto", "Where the Wav2Lip generator runs (auto = CUDA fp16 when present).",
                       choices=DEVICES, group="engine")
    batch_size: int = _opt(32, "Frames per Wav2Lip generator batch.", lo=1, hi=512, group="engine")

    # -- mouth motion (procedural engine)
    mouth_gain: float = _opt(1.0, "Scales how far the mouth opens for a given loudness.", lo=0.0, hi=3.0,
                             group="mouth")
    max_opening: float = _opt(0.32, "Widest inner-lip opening (an open 'a'), as a fraction of mouth width.", lo=0.02,
                              hi=0.6,
                              group="mouth")
    attack_ms: float = _opt(20.0, "How quickly the mouth opens when speech starts (ms).", lo=0.0, hi=500.0,
                            group="mouth")
    release_ms: float = _opt(60.0, "How quickly it closes again (ms).", lo=0.0, hi=1000.0, group="mouth")
    silence_db: float = _opt(-38.0, "Below this loudness (dB under the speech peak) the mouth is closed.",
                             lo=-80.0, hi=-6.0, group="mouth")
    rounding: float = _opt(0.5, "How much vowel colour rounds or spreads the lips (0 = never).", lo=0.0,
                           hi=1.0, group="mouth")
    jaw_follow: float = _opt(0.7, "How much of the opening the jaw and chin follow.", lo=0.0, hi=1.5,
                             group="mouth")
    teeth: float = _opt(0.55, "Visibility of the upper teeth inside an open mouth (0 = none).", lo=0.0, hi=1.0,
                        group="mouth")

    # -- face tracking and compositing
    face_confidence: float = _opt(0.5, "Minimum face-detection confidence.", lo=0.05, hi=0.99, group="face")
    track_smoothing: float = _opt(0.5, "Landmark smoothing over time (0 = raw, 1 = very smooth).", lo=0.0,
                                  hi=1.0, group="face")
    pad_top: int = _opt(0, "Wav2Lip face box padding above (pixels).", lo=-200, hi=400, group="face")
    pad_bottom: int = _opt(10, "Wav2Lip face box padding below; keep the chin inside (pixels).", lo=-200,
                           hi=400, group="face")
    pad_left: int = _opt(0, "Wav2Lip face box padding left (pixels).", lo=-200, hi=400, group="face")
    pad_right: int = _opt(0, "Wav2Lip face box padding right (pixels).", lo=-200, hi=400, group="face")
    mask_feather: float = _opt(0.06, "Softness of the mouth mask edge, as a fraction of face width.", lo=0.0,
                               hi=0.3, group="face")
    color_match: bool = _opt(True, "Match the synthesised region's colour to the frame.", group="face")

    # -- timing and output
    loop_mode: str = _opt("pingpong", "Template shorter than the audio: play forward-backward, or loop.",
                          choices=LOOP_MODES, group="output")
    image_fps: float = _opt(25.0, "Frame rate of the output when the template is a still image.", lo=1.0,
                            hi=120.0, group="output")
    crf: int = _opt(20, "H.264 quality (lower = better and larger).", lo=0, hi=51, group="output")
    preset: str = _opt("veryfast", "H.264 encoder speed preset.", choices=PRESETS, group="output")
    audio_bitrate: int = _opt(160_000, "AAC bit rate (bits/s).", lo=32_000, hi=512_000, group="output")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check(f, getattr(self, f.name))
            if type(f.default) is int:  # 20.0 from a YAML file or a slider is stored as 20
                object.__setattr__(self, f.name, int(getattr(self, f.name)))
        if self.engine == "wav2lip" and not self.checkpoint:
            raise OptionsError("checkpoint", "the wav2lip engine needs a checkpoint (a path or a weights name)")

    # -- views
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "LipSyncOptions":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "LipSyncOptions":
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise OptionsError(unknown[0], f"unknown option; valid options: {', '.join(sorted(known))}")
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "LipSyncOptions":
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OptionsError("params", f"{path}: no such file") from None
        except yaml.YAMLError as exc:
            raise OptionsError("params", f"{path}: not valid YAML ({exc.__class__.__name__})") from None
        if data is not None and not isinstance(data, dict):
            raise OptionsError("params", f"{path}: expected a mapping of option: value")
        return cls.from_dict(data)

    @classmethod
    def load(cls, params: str | Path | None = None, **overrides: Any) -> "LipSyncOptions":
        """A parameter set (a YAML file, or a shipped set's name such as ``news``) or the defaults, then
        ``overrides``; ``None`` overrides are ignored.

        The one "file, then flags" merge: the CLI, batches and the dashboard all build their options here."""
        from .resources import parameter_set

        data = cls.from_yaml(parameter_set(params)).to_dict() if params else {}
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(data)

    def to_yaml(self, path: str | Path | None = None, *, comments: bool = True) -> str:
        text = options_yaml(self, comments=comments)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def options_yaml(opts: LipSyncOptions, *, comments: bool = True) -> str:
    """YAML for ``opts``, one option per line, each preceded by its help text as a comment."""
    lines: list[str] = []
    group = None
    for f in dataclasses.fields(opts):
        meta = f.metadata
        if comments and meta["group"] != group:
            group = meta["group"]
            lines.append(f"{'' if not lines else chr(10)}# --- {group}")
        if comments:
            rng = _describe_range(meta)
            lines.append(f"# {meta['help']}{'  ' + rng if rng else ''}")
        lines.append(yaml.safe_dump({f.name: getattr(opts, f.name)}, sort_keys=False).rstrip())
    return "\n".join(lines) + "\n"


def option_fields() -> list[dataclasses.Field]:
    """The option fields in declaration order (for building CLI flags and widgets)."""
    return list(dataclasses.fields(LipSyncOptions))


def _describe_range(meta) -> str:
    if meta["choices"]:
        return "[" + " | ".join(meta["choices"]) + "]"
    if meta["min"] is not None:
        return f"[{meta['min']} .. {meta['max']}]"
    return ""


def _check(f: dataclasses.Field, value: Any) -> None:
    meta, name = f.metadata, f.name
    default = f.default
    if default is None:
        if value is not None and not isinstance(value, str):
            raise OptionsError(name, f"expected text or null, got {value!r}")
        return
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise OptionsError(name, f"expected true or false, got {value!r}")
        return
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OptionsError(name, f"expected a number, got {value!r}")
        if isinstance(default, int) and not isinstance(default, bool) and int(value) != value:
            raise OptionsError(name, f"expected a whole number, got {value!r}")
        if meta["min"] is not None and not (meta["min"] <= value <= meta["max"]):
            raise OptionsError(name, f"{value!r} is outside [{meta['min']}, {meta['max']}]")
        return
    if meta["choices"] and value not in meta["choices"]:
        raise OptionsError(name, f"{value!r} is not one of: {', '.join(meta['choices'])}")
