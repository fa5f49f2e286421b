"""The `heygem` command line: results, JSON, and one-line errors with exit code 2."""
import json

import numpy as np
import pytest

from heygem_core.cli import main
from mediagen import write_wav


@pytest.fixture(scope="module")
def short_audio(tmp_path_factory):
    t = np.arange(int(1.2 * 16000)) / 16000
    y = (0.4 * np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)
    return write_wav(tmp_path_factory.mktemp("a") / "talk.wav", y)


def run(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def test_generate_json_for_several_videos_with_one_bad(capsys, tmp_path, short_audio, face_clip):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x01 not a video" * 100)
    code, out, err = run(capsys, "generate", "--audio", short_audio, "--video", face_clip, bad,
                         "--out-dir", tmp_path / "o", "--json", "--quiet")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(f"heygem: error: {bad}:")
    results = json.loads(out)
    assert len(results) == 1
    item = results[0]
    assert item["output"].endswith("face__talk.mp4") and item["frames"] == 30 and item["face_ratio"] == 1.0
    assert {"fps", "duration", "seconds"} <= set(item)
    assert sorted(p.name for p in (tmp_path / "o").glob("*.mp4")) == ["face__talk.mp4"]


def make_bad_inputs(tmp, face_clip):
    from heygem_core.demo import write_clip
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    garbage = tmp / "garbage.mp3"
    garbage.write_bytes(b"ID3" + bytes(range(256)) * 20)
    silent_video = write_clip(tmp / "novoice.mp4", [np.zeros((32, 32, 3), np.uint8)] * 3)
    zero = write_wav(tmp / "zero.wav", np.zeros(0, np.float32))
    from mediagen import sine, write_audio
    sound_only = write_audio(tmp / "sound_only.m4a", sine(440, 0.5, 16000), 16000)   # an MP4 container
    sound_only = sound_only.rename(tmp / "sound_only.mp4")
    truncated = tmp / "truncated.mp4"
    truncated.write_bytes(face_clip.read_bytes()[:3000])
    return {
        "missing audio": (["--audio", tmp / "nope.wav", "--video", face_clip], "nope.wav: no such file"),
        "empty audio": (["--audio", empty, "--video", face_clip], "empty.wav: empty file (0 bytes)"),
        "garbage audio": (["--audio", garbage, "--video", face_clip], "garbage.mp3:"),
        "no audio stream": (["--audio", silent_video, "--video", face_clip], "novoice.mp4:"),
        "zero-length audio": (["--audio", zero, "--video", face_clip], "zero.wav:"),
        "no video stream": (["--audio", zero.with_name("ok.wav"), "--video", sound_only], "sound_only.mp4:"),
        "unsupported type": (["--audio", zero.with_name("ok.wav"), "--video", tmp / "notes.txt"],
                             "notes.txt: unsupported file type .txt; expected a video or an image"),
        "truncated video": (["--audio", zero.with_name("ok.wav"), "--video", truncated], "truncated.mp4:"),
    }


def test_bad_input_one_line_exit_2_nothing_left(capsys, tmp_path, face_clip):
    write_wav(tmp_path / "ok.wav", 0.1 * np.ones(8000, np.float32))
    (tmp_path / "notes.txt").write_text("hello")
    for name, (args, expect) in make_bad_inputs(tmp_path, face_clip).items():
        out_dir = tmp_path / ("out_" + name.replace(" ", "_"))
        code, out, err = run(capsys, "generate", *args, "--out-dir", out_dir, "--quiet")
        lines = err.strip().splitlines()
        assert code == 2, name
        assert len(lines) == 1 and lines[0].startswith("heygem: error: ") and expect in lines[0], (name, err)
        assert "Traceback" not in err
        assert not list(out_dir.glob("*.mp4")) if out_dir.exists() else True


def test_debug_shows_the_traceback(capsys, tmp_path, face_clip):
    with pytest.raises(Exception):
        main(["--debug", "generate", "--audio", str(tmp_path / "nope.wav"), "--video", str(face_clip)])


def test_bad_option_value_is_named(capsys, short_audio, face_clip, tmp_path):
    code, _, err = run(capsys, "generate", "--audio", short_audio, "--video", face_clip, "--mouth-gain", "9",
                       "--out-dir", tmp_path)
    assert code == 2 and "mouth_gain" in err
