"""End to end: speech + face video → lip-synced MP4, on a real face photo animated into a clip."""
import av
import numpy as np
import pytest

from heygem_core.face import landmarks as L
from heygem_core.errors import Cancelled, NoFaceError
from heygem_core.options import LipSyncOptions
from heygem_core.pipeline import generate, prepare_speech
from heygem_core.score import sync_score
from heygem_core.face.track import track_frames
from mediagen import write_wav


@pytest.fixture(scope="module")
def speech3(speech_wav, tmp_path_factory):
    """The first 3.2 s of the packaged speech: longer than the 2 s clip, so the clip plays back and forth."""
    from heygem_core.media.audio import load_audio
    a = load_audio(speech_wav)
    return write_wav(tmp_path_factory.mktemp("a") / "speech3.wav", a.samples[: int(3.2 * 16000)])


@pytest.fixture(scope="module")
def result(speech3, face_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "face__speech3.mp4"
    events = []
    r = generate(speech3, face_clip, out, LipSyncOptions(), on_progress=events.append,
                 track_cache=out.parent / "cache")
    return r, events


def decode(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def test_output_is_browser_playable_and_as_long_as_the_audio(result):
    r, events = result
    with av.open(str(r.output)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert v.codec_context.name == "h264" and v.codec_context.pix_fmt == "yuv420p"
        assert a.codec_context.name == "aac"
        n = sum(1 for _ in c.decode(video=0))
    assert r.frames == n == pytest.approx(3.2 * 25, abs=1)
    head = r.output.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))
    # a cold track cache: faces are tracked during the synthesis pass, so there is no separate face stage
    assert [e.stage for e in events][0] == "decode" and events[-1].stage == "encode"
    synth = [e.done for e in events if e.stage == "synthesis"]
    assert synth == sorted(synth) and synth[-1] == r.frames
    assert r.face_ratio == 1.0
    assert not list(r.output.parent.glob("*.part*"))


def test_clip_plays_forward_then_backward(result, face_clip):
    r, _ = result
    src, out = decode(face_clip), decode(r.output)
    top = slice(0, 150)   # above the mouth: these rows only change by encoding
    def best(k):
        return int(np.argmin([np.abs(out[k][top].astype(int) - s[top]).mean() for s in src]))
    assert [best(k) for k in (45, 49, 55, 70)] == [45, 49, 43, 28]


def test_mouth_follows_the_speech(result, speech3):
    r, _ = result
    s = sync_score(speech3, r.output)
    assert s.r >= 0.6 and abs(s.lag_ms) <= 40
    assert 0.03 < s.opening_speech < 0.2


def test_second_audio_reuses_the_face_track(result, face_clip, tmp_path):
    r, _ = result
    y = np.zeros(16000, np.float32)
    audio = write_wav(tmp_path / "quiet.wav", y + 1e-4 * np.random.default_rng(0).standard_normal(16000))
    again = generate(audio, face_clip, tmp_path / "o.mp4", track_cache=r.output.parent / "cache")
    assert again.track_from_cache


def test_silence_keeps_the_mouth_closed(face_clip, tmp_path):
    audio = write_wav(tmp_path / "silence.wav", np.zeros(16000, np.float32))
    r = generate(audio, face_clip, tmp_path / "s.mp4")
    track = track_frames(decode(r.output), LipSyncOptions())
    assert np.nanmax(L.mouth_opening(track.landmarks)) < 0.05


def test_cancel_leaves_no_file(speech3, face_clip, tmp_path):
    calls = []
    def stop():
        calls.append(1)
        return len(calls) > 3
    with pytest.raises(Cancelled):
        generate(speech3, face_clip, tmp_path / "c.mp4", should_stop=stop)
    assert list(tmp_path.iterdir()) == []


def test_no_face_anywhere_is_a_clear_error(speech3, tmp_path):
    from heygem_core.demo import write_clip
    blank = write_clip(tmp_path / "wall.mp4", [np.full((64, 64, 3), 128, np.uint8)] * 10)
    with pytest.raises(NoFaceError, match="wall.mp4: no face"):
        generate(speech3, blank, tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_a_still_photo_speaks(speech3, tmp_path):
    import cv2
    from heygem_core.demo import face_photo
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), cv2.resize(face_photo(), (256, 300)))
    r = generate(speech3, photo, tmp_path / "p.mp4")
    frames = decode(r.output)
    assert len(frames) == pytest.approx(3.2 * 25, abs=1) and frames[0].shape[:2] == (300, 256)
    assert prepare_speech(speech3).duration == pytest.approx(3.2, abs=0.01)
