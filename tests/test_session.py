"""`LipSyncSession`: one speech, many videos; output names never collide; the score-failure policy."""
import shutil

import numpy as np
import pytest

from heygem_core.cli import main
from heygem_core.errors import Cancelled, InputError
from heygem_core.media.video import probe_video
from heygem_core.session import LipSyncSession, read_text
from mediagen import write_wav


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    t = np.arange(int(1.0 * 16000)) / 16000
    y = (0.4 * np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)
    return write_wav(tmp_path_factory.mktemp("talk") / "talk.wav", y)


@pytest.fixture()
def twins(tmp_path, face_clip):
    """The same file name in two folders: a/face.mp4 and b/face.mp4."""
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copy(face_clip, tmp_path / d / "face.mp4")
    return tmp_path / "a" / "face.mp4", tmp_path / "b" / "face.mp4"


def test_output_paths_are_unique_against_the_disk_and_each_other(tmp_path, talk, twins):
    session = LipSyncSession(talk)
    out = tmp_path / "out"
    out.mkdir()
    (out / "face__talk.mp4").write_bytes(b"an earlier result")
    names = [session.output_path(v, out).name for v in (*twins, twins[0])]
    assert names == ["face__talk-2.mp4", "face__talk-3.mp4", "face__talk-4.mp4"]
    assert (out / "face__talk.mp4").read_bytes() == b"an earlier result"


def test_one_session_serves_many_videos_and_keeps_every_result(tmp_path, talk, twins):
    session = LipSyncSession(talk, track_cache=tmp_path / "cache")
    stages = []
    items = [session.run(v, session.output_path(v, tmp_path / "o"), on_progress=lambda p: stages.append(p.stage))
             for v in twins]
    assert [i.status for i in items] == ["done", "done"]
    assert [i.output.name for i in items] == ["face__talk.mp4", "face__talk-2.mp4"]
    for item in items:
        assert probe_video(item.output).frame_count == 25 and item.score is not None and item.error is None
    assert {"decode", "synthesis", "score"} <= set(stages)
    assert items[1].result.track_from_cache            # same content: the second video reuses the face track


def test_a_bad_video_fails_its_item_only(tmp_path, talk, face_clip):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00 not a video" * 100)
    session = LipSyncSession(talk)
    failed = session.run(bad, tmp_path / "o" / "x.mp4")
    assert failed.status == "failed" and failed.error.startswith(str(bad)) and failed.output is None
    done = session.run(face_clip, tmp_path / "o" / "y.mp4", score=False)
    assert done.ok and done.score is None and done.error is None


def test_a_result_that_cannot_be_scored_is_kept(tmp_path, talk, face_clip, monkeypatch):
    import heygem_core.score as score

    def broken(*a, **k):
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(score, "mouth_openings", broken)
    item = LipSyncSession(talk).run(face_clip, tmp_path / "kept.mp4")
    assert item.ok and item.output.exists() and item.score is None
    assert "sync score not measured" in item.error and "scorer exploded" in item.error


def test_stop_hook_stops_generate_and_score(tmp_path, talk, face_clip):
    session = LipSyncSession(talk)
    with pytest.raises(Cancelled):
        session.run(face_clip, tmp_path / "c.mp4", should_stop=lambda: True)
    assert not (tmp_path / "c.mp4").exists() and not list(tmp_path.glob(".*part*"))
    done = session.generate(face_clip, tmp_path / "d.mp4")
    with pytest.raises(Cancelled):
        session.score(done.output, should_stop=lambda: True)


def test_script_text_rides_on_the_speech(tmp_path, talk):
    script = tmp_path / "script.txt"
    script.write_text("\ufeffPeter bought a map.\n", encoding="utf-8")
    session = LipSyncSession(talk, text=read_text(script))
    assert session.text == "Peter bought a map." and session.speech.text == session.text
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "missing.txt")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_text(tmp_path / "latin1.txt")


def test_cli_same_names_in_two_folders_give_two_outputs(tmp_path, talk, twins, capsys):
    code = main(["generate", "--audio", str(talk), "--video", str(twins[0]), "--video", str(twins[1]),
                 "--out-dir", str(tmp_path / "o"), "--quiet"])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "o").glob("*.mp4")) == ["face__talk-2.mp4", "face__talk.mp4"]
    assert list((tmp_path / "o" / ".cache").glob("*.npz"))       # the default track cache is used
