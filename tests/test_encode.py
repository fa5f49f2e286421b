import struct

import av
import numpy as np
import pytest

import mediagen as mg
from heygem_core.media.audio import Audio, AudioStream, load_audio
from heygem_core.media.encode import VideoWriter, temp_path
from heygem_core.media.video import FrameReader, probe_video

FPS = 25


def top_level_boxes(path) -> list[str]:
    """The MP4 file's top-level box types, in file order."""
    data = open(path, "rb").read()
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        boxes.append(kind.decode("latin-1"))
        pos += size
    return boxes


def _tone(seconds, sr=44100, channels=2, freq=440.0):
    return Audio(mg.sine(freq, seconds, sr, channels), sr)


def _write(path, frames, fps=FPS, **kw):
    h, w = frames[0].shape[:2]
    with VideoWriter(path, w, h, fps, **kw) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def test_output_is_browser_ready_h264_aac_faststart(tmp_path):
    out = _write(tmp_path / "out.mp4", mg.level_frames(15, 64, 48), audio=_tone(0.6))
    with av.open(str(out)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert v.codec_context.name == "h264" and v.codec_context.pix_fmt == "yuv420p"
        assert a.codec_context.name == "aac" and a.codec_context.sample_rate == 44100
        assert a.codec_context.channels == 2
        assert c.format.name.startswith("mov,mp4")
        frame = next(c.decode(v))
        assert (frame.colorspace, frame.color_range) == (1, 1)  # tagged BT.709, limited range
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")
    assert not temp_path(out).exists()


def test_frames_come_back(tmp_path):
    out = _write(tmp_path / "out.mp4", mg.level_frames(15, 64, 48))
    info = probe_video(out)
    assert (info.width, info.height, info.fps, info.frame_count, info.has_audio) == (64, 48, 25.0, 15, False)
    with FrameReader(info) as reader:
        frames = [f for _, f in reader.frames(range(15))]
    assert [mg.frame_number(f) for f in frames] == list(range(15))
    for i, f in enumerate(frames):
        assert abs(float(f.mean()) - (16 + mg.LEVEL_STEP * i)) <= 1.0


def test_textured_frames_keep_their_detail(tmp_path):
    src = mg.textured_frames(10, 96, 64)
    out = _write(tmp_path / "tex.mp4", src, crf=12)
    with FrameReader(probe_video(out)) as reader:
        for i, f in reader.frames(range(10)):
            err = np.abs(f.astype(int) - src[i]).mean()
            assert err < 3.0, (i, err)


def test_longer_audio_is_cut_to_the_video(tmp_path):
    out = _write(tmp_path / "cut.mp4", mg.level_frames(10), audio=_tone(2.0))   # 0.4 s of picture
    audio = load_audio(out, sample_rate=None)
    assert abs(audio.duration - 10 / FPS) <= 1 / FPS
    assert mg.dominant_frequency(audio.samples[2000:-2000], 44100) == pytest.approx(440.0, abs=2.0)


def test_audio_length_matches_when_video_covers_it(tmp_path):
    # 1.0 s of sound, 26 frames (1.04 s): the sound keeps its own length.
    out = _write(tmp_path / "fit.mp4", mg.level_frames(13) * 2, audio=_tone(1.0, sr=48000, channels=1))
    audio = load_audio(out, sample_rate=None, mono=False)
    assert audio.sample_rate == 48000 and audio.channels == 1
    assert audio.duration == pytest.approx(1.0, abs=1 / FPS)


@pytest.mark.parametrize("channels", [1, 2])
def test_sound_streamed_from_the_file_matches_the_decoded_sound(tmp_path, channels):
    # the pipeline hands the writer the speech file itself; the result must be what the decoded sound gives
    src = mg.write_audio(tmp_path / "speech.flac", mg.sine(440.0, 1.0, 44100, channels=channels), 44100)
    frames = mg.level_frames(13) * 2
    a = _write(tmp_path / "decoded.mp4", frames, audio=load_audio(src, sample_rate=None, mono=False))
    b = _write(tmp_path / "streamed.mp4", frames, audio=AudioStream(src))
    got_a, got_b = (load_audio(p, sample_rate=None, mono=False) for p in (a, b))
    assert got_b.channels == channels
    np.testing.assert_array_equal(got_a.samples, got_b.samples)


def test_unusual_rate_and_surround_are_made_playable(tmp_path):
    surround = Audio(np.repeat(mg.sine(1000.0, 0.5, 20000), 6, axis=0), 20000)
    out = _write(tmp_path / "odd.mp4", mg.level_frames(13), audio=surround)
    with av.open(str(out)) as c:
        a = c.streams.audio[0]
        assert a.codec_context.sample_rate == 48000 and a.codec_context.channels == 1
    audio = load_audio(out, sample_rate=None)
    assert mg.dominant_frequency(audio.samples[2000:-2000], 48000) == pytest.approx(1000.0, abs=2.0)


def test_odd_size_is_padded_with_the_edge(tmp_path):
    src = mg.textured_frames(4, 65, 49)
    out = _write(tmp_path / "odd.mp4", src, crf=0)
    info = probe_video(out)
    assert (info.width, info.height) == (66, 50)
    with FrameReader(info) as reader:
        f = next(reader.frames([2]))[1].astype(int)
    assert np.abs(f[:49, :65] - src[2]).mean() < 2.0
    assert np.abs(f[:, 65] - f[:, 64]).mean() < 3.0 and np.abs(f[49] - f[48]).mean() < 3.0


def test_fractional_rate(tmp_path):
    out = _write(tmp_path / "ntsc.mp4", mg.level_frames(6), fps=30000 / 1001)
    assert probe_video(out).fps == pytest.approx(29.97, abs=0.001)


@pytest.mark.parametrize("threaded", [True, False])
def test_exception_in_with_block_leaves_no_file(tmp_path, threaded):
    out = tmp_path / "half.mp4"
    with pytest.raises(RuntimeError, match="synthesis failed"):
        with VideoWriter(out, 64, 48, FPS, audio=_tone(1.0), threaded=threaded) as writer:
            for frame in mg.level_frames(5):
                writer.write(frame)
            raise RuntimeError("synthesis failed")
    assert list(tmp_path.iterdir()) == []


def test_abort_keeps_an_existing_final_file(tmp_path):
    out = tmp_path / "result.mp4"
    out.write_bytes(b"previous result")
    writer = VideoWriter(out, 64, 48, FPS)
    for frame in mg.level_frames(10):
        writer.write(frame)
    writer.abort()
    assert out.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.mp4"]


def test_clean_close_replaces_an_existing_file(tmp_path):
    out = tmp_path / "result.mp4"
    out.write_bytes(b"previous result")
    _write(out, mg.level_frames(3))
    assert probe_video(out).frame_count == 3


def test_closing_without_frames_is_an_error(tmp_path):
    writer = VideoWriter(tmp_path / "none.mp4", 64, 48, FPS)
    with pytest.raises(ValueError, match="no frames"):
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_bad_settings_and_missing_folder_fail_at_once(tmp_path):
    with pytest.raises(ValueError, match="veryfast"):
        VideoWriter(tmp_path / "x.mp4", 64, 48, FPS, preset="warp-speed")
    with pytest.raises(ValueError):
        VideoWriter(tmp_path / "x.mp4", 64, 48, FPS, crf=60)
    with pytest.raises(OSError):
        VideoWriter(tmp_path / "no" / "such" / "folder.mp4", 64, 48, FPS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("threaded", [True, False])
def test_write_failure_on_the_encode_thread_reaches_the_caller(tmp_path, threaded):
    # A real write error (as on a full disk): cap this process's file size while the writer runs.
    resource = pytest.importorskip("resource")
    import signal

    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    noise = np.random.default_rng(0).integers(0, 256, (30, 48, 64, 3), dtype=np.uint8)
    writer = VideoWriter(tmp_path / "big.mp4", 64, 48, FPS, crf=0, threaded=threaded)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, hard))
    try:
        with pytest.raises(OSError, match="too large"):
            with writer:
                for _ in range(10):
                    for frame in noise:
                        writer.write(frame)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert list(tmp_path.iterdir()) == []


def test_wrong_frame_shape(tmp_path):
    with VideoWriter(tmp_path / "x.mp4", 64, 48, FPS) as writer:
        writer.write(mg.level_frames(1)[0])
        with pytest.raises(ValueError, match=r"\(48, 64, 3\)"):
            writer.write(np.zeros((48, 63, 3), np.uint8))
        with pytest.raises(ValueError):
            writer.write(np.zeros((48, 64, 3), np.float32))
    assert probe_video(tmp_path / "x.mp4").frame_count == 1


def test_caller_may_reuse_its_frame_buffer(tmp_path):
    buf = np.zeros((48, 64, 3), np.uint8)
    with VideoWriter(tmp_path / "reuse.mp4", 64, 48, FPS) as writer:
        for frame in mg.level_frames(8):
            buf[:] = frame
            writer.write(buf)
    with FrameReader(probe_video(tmp_path / "reuse.mp4")) as reader:
        assert [mg.frame_number(f) for _, f in reader.frames(range(8))] == list(range(8))
