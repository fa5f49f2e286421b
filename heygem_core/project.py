"""Where a notebook's relative paths point: the project folder and its workspace, not the notebook's folder.

JupyterLab starts a notebook's kernel in the notebook's own folder (``notebooks/``), so ``params/news.yaml``
or ``talk.wav`` typed into a notebook would be looked for there. The notebooks resolve what they are given
here instead:

    project_dir()                      # $HEYGEM_PROJECT, else the nearest folder up with pyproject.toml or a
                                       # workspace/, else the current folder
    workspace_dir()                    # $HEYGEM_WORKSPACE, else <project>/workspace (as `heygem serve`)
    find_file("params/news.yaml")      # the current folder, then the project; the error names both

A notebook inside the installed package never makes the package folder its project.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError

_MARKERS = ("pyproject.toml", "workspace")


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def project_dir(start: str | Path | None = None) -> Path:
    """The project folder (see the module's docstring)."""
    if os.environ.get("HEYGEM_PROJECT"):
        return Path(os.environ["HEYGEM_PROJECT"]).expanduser().absolute()
    here = Path(start or Path.cwd()).absolute()
    package = _package_dir()
    for folder in (here, *here.parents):
        if folder == package or package in folder.parents:
            continue
        if any((folder / m).exists() for m in _MARKERS):
            return folder
    return Path.home() if here == package or package in here.parents else here


def workspace_dir(start: str | Path | None = None) -> Path:
    """The workspace the notebooks write into (the one ``heygem serve`` shows by default)."""
    if os.environ.get("HEYGEM_WORKSPACE"):
        return Path(os.environ["HEYGEM_WORKSPACE"]).expanduser().absolute()
    return project_dir(start) / "workspace"


def places(start: str | Path | None = None) -> list[Path]:
    """The folders a relative path is looked up in, in order: the current folder (where ``heygem batch`` runs
    the notebook: the batch file's folder), then the project (for Lab, which runs it in ``notebooks/``)."""
    out = [Path(start or Path.cwd()).absolute(), project_dir(start)]
    return [p for i, p in enumerate(out) if p not in out[:i]]


def find_file(path: str | Path, *, start: str | Path | None = None) -> Path:
    """``path`` as given when absolute, else the first of ``places()`` that has it; ``InputError`` naming
    every folder looked in when none has it."""
    p = Path(path).expanduser()
    if p.is_absolute():
        if not p.exists():
            raise InputError(p, "no such file")
        return p
    where = places(start)
    for folder in where:
        if (folder / p).exists():
            return folder / p
    raise InputError(path, "no such file (looked in " + " and ".join(str(f) for f in where) + ")")


def resolve(path: str | Path | None, *, start: str | Path | None = None, must_exist: bool = True):
    """``find_file`` for a file to read; for a file or folder to write (``must_exist=False``), a relative
    path is put under the project. ``None``, ``builtin:…`` media and glob patterns with no match as they are
    left for the caller."""
    if path is None or str(path).startswith("builtin:"):
        return path
    text = str(path)
    if set("*?[") & set(text):
        import glob

        p = Path(text).expanduser()
        if p.is_absolute():
            return text
        for folder in places(start):
            if glob.glob(str(folder / p)):
                return str(folder / p)
        return str(project_dir(start) / p)         # matches nothing: the batch reports it
    if not must_exist:
        p = Path(text).expanduser()
        return p if p.is_absolute() else project_dir(start) / p
    return find_file(text, start=start)


def resolve_batch(*, audio, videos, params=None, text=None, out_dir=None, start=None) -> dict:
    """The batch notebook's parameters with their paths resolved (see ``find_file``): ``params`` may also
    name a parameter set (``news``, or one of the user's); ``text`` may be the words themselves; a relative
    ``out_dir`` (by default ``batch_output``) is a folder of the workspace."""
    from .batch import DEFAULT_OUT_DIR
    from .resources import parameter_set

    out: dict = {"audio": resolve(audio, start=start)}
    entries = [videos] if isinstance(videos, (str, Path)) else list(videos or [])
    out["videos"] = []
    for v in entries:
        try:
            out["videos"].append(resolve(v, start=start))
        except InputError:                  # a missing video is a failed item in the report, not a failed batch
            out["videos"].append(str(v))
    out["params"] = None
    if params:
        try:
            out["params"] = find_file(params, start=start)
        except InputError:
            if "/" in str(params) or "\\" in str(params):
                raise
            out["params"] = parameter_set(params)       # a set's name; its error says where it looked
    if text is not None and str(text).endswith(".txt"):
        out["text"] = find_file(text, start=start)
    else:
        out["text"] = text
    out_dir = Path(out_dir or DEFAULT_OUT_DIR).expanduser()
    out["out_dir"] = out_dir if out_dir.is_absolute() else workspace_dir(start) / out_dir
    return out
