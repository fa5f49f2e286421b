"""Parameter sets: the options saved under a name, for the CLI (``--params mine``), batches (``params: mine``),
the dashboard and the tuning notebook.

    save_params(options, "mine", media={"speech": "talk.wav", "face": "anna.mp4"})   # the user's folder
    save_params(options, "mine")             # ParamsExist: it is there already; replace=True replaces it
    load_params("news")                      # a shipped set, or one of the user's
    list_params()                            # parameter sets only: shipped first, then the user's
    rename_params("mine", "promo"); delete_params("promo")

The shipped sets (``default``, ``news``, ``ads``) live inside the package and are never written: their names
are refused. The user's sets live in ``resources.user_params_dir()`` (or a folder given explicitly).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import OptionsError, ParamsExist
from ..options import LipSyncOptions, option_fields
from ..resources import shipped_params_dir, user_params_dir

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[^\W_][\w.-]{0,63}$")        # letters of any script, digits, '_', '-', '.'
_TUNED_ON = "# tuned on: "


@dataclass(frozen=True)
class ParamSet:
    """A parameter set on disk: its name, its file, and whether it ships with the product."""

    name: str
    path: Path
    shipped: bool

    @property
    def label(self) -> str:
        return f"{self.name} (shipped)" if self.shipped else self.name


def _folder(folder: str | Path | None) -> Path:
    return Path(folder).expanduser() if folder is not None else user_params_dir()


def check_name(name: str) -> str:
    """``name`` without a ``.yaml`` suffix, checked: one plain file name (no folders, no hidden files)."""
    text = str(name).strip()
    if text.endswith((".yaml", ".yml")):
        text = text.rsplit(".", 1)[0]
    if not _NAME.match(text):
        raise OptionsError("name", f"{text!r}: use letters, digits, '_', '-' or '.' (at most 64), starting "
                                   "with a letter or digit")
    return text


def shipped_names() -> list[str]:
    """Every name the product ships a file under (the example batch too): none of them can be saved over."""
    return sorted(p.stem for p in shipped_params_dir().glob("*.y*ml"))


def is_parameter_set(path: str | Path) -> bool:
    """Whether the YAML file holds options only (a batch file, with ``audio`` and ``videos``, does not)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    known = {f.name for f in option_fields()}
    return data is None or (isinstance(data, dict) and set(data) <= known)


def _sets(folder: Path, shipped: bool) -> list[ParamSet]:
    if not folder.is_dir():
        return []
    return [ParamSet(p.stem, p, shipped) for p in sorted(folder.glob("*.yaml"))
            if not p.name.startswith(".") and is_parameter_set(p)]


def list_params(folder: str | Path | None = None) -> list[ParamSet]:
    """The parameter sets one can load: the shipped ones, then the user's (in ``folder``); batch files and
    other YAML files are left out."""
    shipped = _sets(shipped_params_dir(), shipped=True)
    taken = {s.name for s in shipped}
    return shipped + [s for s in _sets(_folder(folder), shipped=False) if s.name not in taken]


def find_params(name: str | Path, folder: str | Path | None = None) -> ParamSet:
    """The set called ``name`` (shipped or in ``folder``), or the file ``name``; ``OptionsError`` saying where
    it looked otherwise."""
    path = Path(name).expanduser()
    if path.suffix in (".yaml", ".yml") and (path.is_file() or len(path.parts) > 1):
        from ..project import find_file

        path = find_file(path)              # the current folder, then the project; says where it looked
        return ParamSet(path.stem, path, path.parent.resolve() == shipped_params_dir().resolve())
    text = check_name(str(name))
    for s in list_params(folder):
        if s.name == text:
            return s
    user = _folder(folder) / f"{text}.yaml"
    if user.is_file():
        raise OptionsError("params", f"{user} is not a parameter set (a batch file?): it holds more than options")
    raise OptionsError("params", f"no parameter set {text!r} in {shipped_params_dir()} or {_folder(folder)}")


def load_params(name: str | Path, folder: str | Path | None = None) -> LipSyncOptions:
    """The options of the set ``name`` (see ``find_params``)."""
    return LipSyncOptions.from_yaml(find_params(name, folder).path)


def save_params(options: LipSyncOptions, name: str, folder: str | Path | None = None, *, replace: bool = False,
                media: dict[str, str] | None = None) -> Path:
    """Write ``options`` as ``folder/<name>.yaml`` (every option with its help as a comment; a header saying
    what differs from the defaults and the ``media`` it was tuned on). A shipped set's name is refused; an
    existing set raises ``ParamsExist`` unless ``replace``."""
    name = check_name(name)
    if name in shipped_names():
        raise OptionsError("name", f"{name!r} is a shipped parameter set and cannot be replaced; save under "
                                   "another name")
    path = _folder(folder) / f"{name}.yaml"
    if path.exists() and not replace:
        raise ParamsExist(path, "a parameter set of this name exists; confirm to replace it")
    defaults = LipSyncOptions().to_dict()
    changed = [k for k, v in options.to_dict().items() if defaults[k] != v]
    head = (f"# {name}: a parameter set saved from the tuning notebook.\n"
            f"# Differs from the defaults in: {', '.join(changed) if changed else 'nothing'}.\n")
    if media:
        head += _TUNED_ON + "; ".join(f"{k}={v}" for k, v in media.items() if v is not None) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(head + "\n" + options.to_yaml(), encoding="utf-8")
    tmp.replace(path)
    log.info("saved options to %s", path)
    return path


def tuned_on(path: str | Path) -> dict[str, str]:
    """The media a saved set was tuned on, as recorded by ``save_params`` (empty when not recorded)."""
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(_TUNED_ON):
            return dict(part.split("=", 1) for part in line[len(_TUNED_ON):].split("; ") if "=" in part)
        if line and not line.startswith("#"):
            break
    return {}


def _own(name: str, folder: str | Path | None) -> Path:
    name = check_name(name)
    if name in shipped_names():
        raise OptionsError("name", f"{name!r} is a shipped parameter set and cannot be changed")
    path = _folder(folder) / f"{name}.yaml"
    if not path.is_file():
        raise OptionsError("params", f"no parameter set {name!r} in {_folder(folder)}")
    return path


def delete_params(name: str, folder: str | Path | None = None) -> Path:
    """Remove the user's set ``name`` (shipped sets cannot be deleted)."""
    path = _own(name, folder)
    path.unlink()
    log.info("deleted %s", path)
    return path


def rename_params(name: str, new: str, folder: str | Path | None = None, *, replace: bool = False) -> Path:
    """Rename the user's set ``name`` to ``new`` (its header follows); ``ParamsExist`` when ``new`` is taken."""
    path = _own(name, folder)
    options, media = LipSyncOptions.from_yaml(path), tuned_on(path)
    target = save_params(options, new, folder, replace=replace, media=media or None)
    if target != path:
        path.unlink()
    return target
