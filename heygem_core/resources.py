"""Files that ship inside the package: the notebooks, the dashboard page and the parameter sets.

They are found with ``importlib.resources``, so an installed wheel is the whole product: nothing is looked up
relative to a source checkout or the working directory. (In the source tree, the top-level ``notebooks/``,
``dashboards/`` and ``params/`` are links to these folders.)
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource(*parts: str) -> Path:
    """The path of a file shipped inside ``heygem_core`` (installed packages are plain folders, not zips)."""
    return Path(str(files(__package__).joinpath(*parts)))


def notebook(name: str) -> Path:
    """``tune.ipynb`` or ``batch.ipynb``."""
    return resource("notebooks", name)


def dashboard_notebook() -> Path:
    return resource("dashboards", "heygem.ipynb")


def shipped_params_dir() -> Path:
    """The parameter sets that ship with the product (``default``, ``news``, ``ads``) and the example batch."""
    return resource("params")


def user_params_dir() -> Path:
    """Where the user's own parameter sets live: ``$HEYGEM_PARAMS_DIR``, else ``heygem/params`` in the user's
    configuration folder (``$XDG_CONFIG_HOME``, ``~/.config``). Outside the package, so saving a set can
    never change a shipped one, and any folder's batch file or command finds it by name."""
    import os

    if os.environ.get("HEYGEM_PARAMS_DIR"):
        return Path(os.environ["HEYGEM_PARAMS_DIR"]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config).expanduser() / "heygem" / "params"


def parameter_set(name: str | Path) -> Path:
    """The YAML file of a parameter set: an existing path, or the name of a shipped set (``news``) or of one
    of the user's own (in ``user_params_dir()``)."""
    from .errors import OptionsError

    path = Path(name).expanduser()
    if path.is_file():
        return path
    text = str(name)
    folders = (shipped_params_dir(), user_params_dir())
    if "/" not in text and "\\" not in text:
        file = text if text.endswith((".yaml", ".yml")) else f"{text}.yaml"
        for folder in folders:
            if (folder / file).is_file():
                return folder / file
    names = sorted(p.stem for p in shipped_params_dir().glob("*.yaml") if p.stem != "example_batch")
    raise OptionsError("params", f"{name}: no such file (looked in {Path.cwd()}), and no parameter set of that "
                                 f"name in {folders[0]} or {folders[1]}; the shipped sets are {', '.join(names)}")
