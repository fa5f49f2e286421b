"""Repeated flags add up (`--video a --video b` is both) or are refused (`--audio a --audio b`): never silently
reduced to the last one."""
from __future__ import annotations

import pytest

from heygem_core.cli import build_parser, main


@pytest.mark.parametrize("command", ["generate", "submit"])
def test_repeated_video_flags_add_up(command):
    args = build_parser().parse_args([command, "--audio", "s.wav", "--video", "a.mp4", "--video", "b.mp4", "c.mp4"])
    assert args.video == ["a.mp4", "b.mp4", "c.mp4"]


@pytest.mark.parametrize("argv", [
    ["generate", "--audio", "a.wav", "--audio", "b.wav", "--video", "v.mp4"],
    ["generate", "--audio", "a.wav", "--video", "v.mp4", "--out-dir", "x", "--out-dir=y"],
    ["score", "--audio", "a.wav", "--video", "a.mp4", "--video", "b.mp4"],
    ["submit", "--audio", "a.wav", "--video", "v.mp4", "--root-path", "w1", "--root-path", "w2"],
    ["generate", "--audio", "a.wav", "--video", "v.mp4", "--mouth-gain", "1", "--mouth-gain", "2"],
])
def test_repeated_single_flags_are_refused(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()[-1]
    flag = next(w for w in argv if argv.count(w) > 1 or w == "--out-dir")
    assert f"error: {flag} was given 2 times; give it once" in err
    assert list(tmp_path.iterdir()) == []                       # refused before anything was made
