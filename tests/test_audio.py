import numpy as np
import pytest

import mediagen as mg
from heygem_core.media.audio import AUDIO_EXTS, Audio, AudioStream, load_audio
from heygem_core.errors import InputError

# (extension, sample rate, how far the decoded length may stray from the true length in seconds)
ROUND_TRIPS = [
    (".wav", 44100, 1e-4), (".wav", 8000, 1e-4), (".flac", 48000, 1e-4), (".mp3", 44100, 0.005),
    (".mp3", 22050, 0.005), (".m4a", 44100, 0.002), (".m4a", 48000, 0.002), (".ogg", 44100, 0.005),
    (".opus", 48000, 0.005),
    # Raw ADTS AAC states no length: encoder priming and padding (~1-2 codec blocks) stay in.
    (".aac", 44100, 0.07),
]


@pytest.mark.parametrize("ext,sr,tol", ROUND_TRIPS)
def test_tone_comes_back_at_16k_with_its_length_and_pitch(tmp_path, ext, sr, tol):
    path = mg.write_audio(tmp_path / f"tone{ext}", mg.sine(440.0, 1.2, sr, channels=2), sr)
    audio = load_audio(path)
    assert audio.sample_rate == 16000
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.duration == pytest.approx(1.2, abs=tol)
    assert mg.dominant_frequency(audio.samples, 16000) == pytest.approx(440.0, abs=1.0)
    # Mono is the mean of the channels: (0.5 + 0.25) / 2 peak, so RMS 0.375 / sqrt(2).
    middle = audio.samples[3000:-3000]
    assert np.sqrt(np.mean(middle ** 2)) == pytest.approx(0.375 / np.sqrt(2), rel=0.06)
    assert audio.path == path


def test_native_rate_and_channels_are_kept(tmp_path):
    path = mg.write_audio(tmp_path / "st.flac", mg.sine(1000.0, 0.5, 44100, channels=2), 44100)
    audio = load_audio(path, sample_rate=None, mono=False)
    assert audio.sample_rate == 44100 and audio.channels == 2
    assert audio.samples.shape == (2, 22050)
    rms = np.sqrt(np.mean(audio.samples ** 2, axis=1))
    assert rms[0] / rms[1] == pytest.approx(2.0, rel=1e-3)  # channel order survives


def test_mono_file_without_downmix_has_one_row(tmp_path):
    path = mg.write_audio(tmp_path / "m.wav", mg.sine(300.0, 0.25, 16000), 16000)
    audio = load_audio(path, mono=False)
    assert audio.samples.shape == (1, 4000)


def test_resampling_to_another_rate(tmp_path):
    path = mg.write_audio(tmp_path / "t.wav", mg.sine(2500.0, 1.0, 44100), 44100)
    audio = load_audio(path, sample_rate=22050)
    assert audio.samples.shape == (22050,)
    assert mg.dominant_frequency(audio.samples, 22050) == pytest.approx(2500.0, abs=1.0)


@pytest.mark.parametrize("ext,sr,tol", ROUND_TRIPS)
def test_streamed_sound_is_the_decoded_sound(tmp_path, ext, sr, tol):
    # the output's sound track is read piece by piece: the same samples, padding cut the same way
    path = mg.write_audio(tmp_path / f"tone{ext}", mg.sine(440.0, 1.2, sr, channels=2), sr)
    whole = load_audio(path, sample_rate=None, mono=False)
    stream = AudioStream(path)
    pieces = list(stream.chunks())
    assert (stream.sample_rate, stream.channels) == (whole.sample_rate, 2)
    assert len(pieces) > 1 and all(p.dtype == np.float32 and p.shape[0] == 2 for p in pieces)
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole.samples)
    np.testing.assert_array_equal(np.concatenate(list(stream.chunks()), axis=1), whole.samples)  # again


def test_streamed_sound_checks_the_file_first(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        AudioStream(tmp_path / "missing.wav")
    video = mg.write_video(tmp_path / "silent.mp4", mg.level_frames(5))
    with pytest.raises(InputError, match="no audio stream"):
        AudioStream(video)


def test_aac_padding_is_cut_to_the_stream_length(tmp_path):
    # 0.3 s is not a whole number of 1024-sample AAC blocks: the decoder returns padding after it.
    path = mg.write_audio(tmp_path / "short.m4a", mg.sine(440.0, 0.3, 48000), 48000)
    audio = load_audio(path, sample_rate=None)
    assert audio.samples.shape == (14400,)


def test_sound_of_a_video_container(tmp_path):
    frames = mg.level_frames(10)
    path = mg.write_video(tmp_path / "clip.mp4", frames, 25, audio=(mg.sine(660.0, 0.4, 44100), 44100))
    audio = load_audio(path)
    assert audio.duration == pytest.approx(0.4, abs=0.002)
    assert mg.dominant_frequency(audio.samples, 16000) == pytest.approx(660.0, abs=1.5)


def test_audio_object():
    a = Audio(np.zeros(8000), 16000)
    assert a.samples.dtype == np.float32 and a.duration == 0.5 and a.channels == 1 and a.path is None
    assert Audio(np.zeros((2, 100), np.float32), 100).channels == 2
    with pytest.raises(ValueError):
        Audio(np.zeros((1, 2, 3)), 16000)
    with pytest.raises(ValueError):
        Audio(np.zeros(10), 0)
    with pytest.raises(ValueError):
        load_audio("x.wav", sample_rate=-1)


def test_extension_list():
    for ext in (".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus", ".mp4", ".mov", ".mkv", ".webm"):
        assert ext in AUDIO_EXTS


# -- bad input: every case is an InputError that names the file and says why


def _fails(path, *words):
    with pytest.raises(InputError) as info:
        load_audio(path)
    err = info.value
    assert err.path == str(path) and str(err).startswith(str(path))
    for word in words:
        assert word in err.reason, err.reason
    return err


def test_missing_file(tmp_path):
    _fails(tmp_path / "nope.wav", "no such file")


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    _fails(tmp_path / "empty.mp3", "empty")


def test_folder(tmp_path):
    (tmp_path / "dir.wav").mkdir()
    _fails(tmp_path / "dir.wav", "folder")


def test_unsupported_extension_lists_the_supported_ones(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    err = _fails(tmp_path / "notes.txt", ".txt", ".wav", ".mp3", ".m4a", ".flac")
    (tmp_path / "face.png").write_bytes(b"\x89PNG....")
    _fails(tmp_path / "face.png", "picture")
    assert "expected an audio file" in err.reason


def test_renamed_garbage(tmp_path):
    _fails(mg.write_garbage(tmp_path / "noise.m4a"), "not a readable media file")


@pytest.mark.parametrize("ext", [".wav", ".mp3"])
def test_garbage_with_a_permissive_demuxer(tmp_path, ext):
    # Some demuxers accept nearly anything; it still has to end in an InputError, never in noise.
    _fails(mg.write_garbage(tmp_path / f"noise{ext}", nbytes=3000, seed=3))


def test_truncated_m4a(tmp_path):
    full = mg.write_audio(tmp_path / "full.m4a", mg.sine(440.0, 1.0, 44100), 44100)
    _fails(mg.write_truncated(full, tmp_path / "cut.m4a", 0.5), "truncated")


@pytest.mark.parametrize("ext", [".wav", ".flac", ".m4a"])
def test_truncated_file_whose_header_states_its_length(tmp_path, ext):
    full = mg.write_audio(tmp_path / f"full{ext}", mg.sine(440.0, 1.0, 16000), 16000)
    _fails(mg.write_truncated(full, tmp_path / f"cut{ext}", 0.6), "truncated")


def test_truncated_m4a_with_its_index_first(tmp_path):
    # With the index at the front the file opens, but the samples run out early.
    full = mg.write_audio(tmp_path / "full.m4a", mg.sine(440.0, 2.0, 44100), 44100,
                          container_options={"movflags": "+faststart"})
    _fails(mg.write_truncated(full, tmp_path / "cut.m4a", 0.6), "truncated", "of the 2.00 s")


def test_wav_with_open_ended_size_is_read_whole(tmp_path):
    # Streaming writers leave the data size at 0xFFFFFFFF; that is not a truncated file.
    path = mg.write_audio(tmp_path / "live.wav", mg.sine(440.0, 0.5, 16000), 16000)
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[at + 4:at + 8] = (0xFFFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    assert load_audio(path).duration == pytest.approx(0.5, abs=1e-3)


def test_video_without_sound(tmp_path):
    path = mg.write_video(tmp_path / "silent.mp4", mg.level_frames(5), 25)
    _fails(path, "no audio stream", "only video")


def test_zero_length_audio(tmp_path):
    import wave

    path = tmp_path / "zero.wav"
    with wave.open(str(path), "wb") as w:  # a valid header and no samples
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    _fails(path, "no samples")
