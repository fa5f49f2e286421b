"""Where notebooks' relative paths point: the current folder, then the project; outputs in the workspace."""
from __future__ import annotations

from pathlib import Path

import pytest

from heygem_core import project
from heygem_core.errors import InputError, OptionsError


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A project (marked by its pyproject.toml) with media, and its notebooks/ folder as the current one."""
    root = tmp_path / "proj"
    for folder in ("notebooks", "media/clips", "sets"):
        (root / folder).mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for name in ("media/talk.wav", "media/clips/a.mp4", "media/clips/b.mp4", "sets/mine.yaml", "notebooks/here.wav"):
        (root / name).write_bytes(b"x")
    monkeypatch.chdir(root / "notebooks")
    monkeypatch.delenv("HEYGEM_PROJECT", raising=False)
    monkeypatch.delenv("HEYGEM_WORKSPACE", raising=False)
    return root


def test_the_project_is_the_nearest_folder_up_with_a_marker(tree, monkeypatch):
    assert project.project_dir() == tree
    assert project.workspace_dir() == tree / "workspace"
    monkeypatch.setenv("HEYGEM_WORKSPACE", str(tree / "elsewhere"))
    assert project.workspace_dir() == tree / "elsewhere"


def test_a_notebook_inside_the_installed_package_never_makes_the_package_its_project(monkeypatch):
    package = Path(project.__file__).resolve().parent
    monkeypatch.delenv("HEYGEM_PROJECT", raising=False)
    found = project.project_dir(package / "notebooks")
    assert found != package and package not in found.parents


def test_relative_paths_the_current_folder_first_then_the_project(tree):
    assert project.find_file("here.wav") == tree / "notebooks" / "here.wav"
    assert project.find_file("media/talk.wav") == tree / "media" / "talk.wav"
    with pytest.raises(InputError, match=rf"nope.wav: no such file \(looked in {tree / 'notebooks'} and {tree}\)"):
        project.find_file("nope.wav")


def test_a_batchs_paths_resolve_against_the_project_and_its_output_goes_to_the_workspace(tree, monkeypatch):
    monkeypatch.setenv("HEYGEM_PARAMS_DIR", str(tree / "no-user-sets"))
    paths = project.resolve_batch(audio="media/talk.wav", videos=["media/clips/*.mp4", "gone.mp4", "builtin:photo"],
                                  params="sets/mine.yaml", text="hello there")
    assert paths == {"audio": tree / "media" / "talk.wav",
                     "videos": [str(tree / "media" / "clips" / "*.mp4"), "gone.mp4", "builtin:photo"],
                     "params": tree / "sets" / "mine.yaml", "text": "hello there",
                     "out_dir": tree / "workspace" / "batch_output"}
    assert project.resolve_batch(audio="media/talk.wav", videos="x.mp4", params="news",
                                 out_dir="results")["out_dir"] == tree / "workspace" / "results"
    assert project.resolve_batch(audio="media/talk.wav", videos="x.mp4",
                                 out_dir=tree / "abs")["out_dir"] == tree / "abs"
    assert project.resolve_batch(audio="media/talk.wav", videos="x.mp4", params="news")["params"].name == "news.yaml"
    with pytest.raises(OptionsError, match="no parameter set of that name"):
        project.resolve_batch(audio="media/talk.wav", videos="x.mp4", params="nope")
    with pytest.raises(InputError, match="looked in"):
        project.resolve_batch(audio="media/nope.wav", videos="x.mp4")
