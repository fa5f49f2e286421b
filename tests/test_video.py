import random

import cv2
import numpy as np
import pytest

import mediagen as mg
from heygem_core.errors import InputError
from heygem_core.media.timeline import template_indices
from heygem_core.media.video import IMAGE_EXTS, VIDEO_EXTS, FrameReader, probe_video

FPS = 25
N = 15

CONTAINERS = [
    ("mp4", "libx264", "yuv420p", "h264"),
    ("mkv", "libx264", "yuv420p", "h264"),
    ("mov", "libx264", "yuv420p", "h264"),
    ("avi", "mjpeg", "yuvj420p", "mjpeg"),
    ("avi", "mpeg4", "yuv420p", "mpeg4"),
    ("webm", "libvpx-vp9", "yuv420p", "vp9"),
    ("mp4", "libx265", "yuv420p", "hevc"),
]


def _read_all(info, indices=None, **kw):
    with FrameReader(info, **kw) as reader:
        return [f for _, f in reader.frames(range(info.frame_count) if indices is None else indices)]


@pytest.mark.parametrize("ext,codec,pix_fmt,name", CONTAINERS, ids=[f"{c[0]}-{c[3]}" for c in CONTAINERS])
def test_containers_and_codecs(tmp_path, ext, codec, pix_fmt, name):
    if not mg.encoder_available(codec):
        pytest.skip(f"this FFmpeg build has no {codec} encoder")
    options = {"x265-params": "log-level=error"} if codec == "libx265" else None
    path = mg.write_video(tmp_path / f"clip.{ext}", mg.level_frames(N, 64, 48), FPS, codec=codec,
                          pix_fmt=pix_fmt, options=options)
    info = probe_video(path)
    assert (info.width, info.height, info.fps, info.frame_count) == (64, 48, 25.0, N)
    assert info.codec == name and not info.is_image and not info.has_audio and info.rotation == 0
    assert info.duration == pytest.approx(N / FPS, abs=1e-3)
    frames = _read_all(info)
    assert [mg.frame_number(f) for f in frames] == list(range(N))
    assert all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in frames)


def test_grey_levels_survive_decoding(tmp_path):
    # Catches a wrong YUV matrix or range: flat greys must come back within one level.
    path = mg.write_video(tmp_path / "grey.mp4", mg.level_frames(N), FPS, options={"crf": "0"})
    for i, frame in enumerate(_read_all(probe_video(path))):
        assert abs(float(frame.mean()) - (16 + mg.LEVEL_STEP * i)) <= 1.0  # limited-range rounding


@pytest.mark.parametrize("ext", ["mkv", "mp4"])
def test_variable_frame_rate_reads_as_constant_rate(tmp_path, ext):
    # Ten frames averaging 25 fps, irregularly spaced: 20 ms gaps, an 80 ms hold, a 60 ms hold.
    times_ms = [0, 20, 40, 120, 160, 200, 260, 300, 340, 360]
    path = mg.write_video(tmp_path / f"vfr.{ext}", mg.level_frames(10), FPS,
                          times=[t / 1000 for t in times_ms])
    info = probe_video(path)
    assert info.fps == pytest.approx(25.0)
    assert info.frame_count == 10
    # Timeline frame j is what is on screen at j * 40 ms.
    expected = [max(i for i, t in enumerate(times_ms) if t <= 40 * j) for j in range(10)]
    assert expected == [0, 2, 2, 3, 4, 5, 5, 6, 7, 9]
    assert [mg.frame_number(f) for f in _read_all(info)] == expected
    backward = _read_all(info, range(9, -1, -1))
    assert [mg.frame_number(f) for f in backward] == expected[::-1]


# Display matrices as phones write them (16.16 fixed point, last entry 2.30), independent of any helper
# that builds them from an angle. The first is a portrait iPhone clip stored sideways.
ROTATIONS = {
    90: [0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30],
    180: [-65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30],
    270: [0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30],
}


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_metadata_is_applied(tmp_path, degrees):
    coded = np.zeros((32, 64, 3), np.uint8)
    coded[:8, :8] = (255, 255, 255)          # a white block in the stored top-left corner
    coded[24:, 48:] = (0, 0, 255)            # a red block in the stored bottom-right corner
    path = mg.write_video(tmp_path / "rot.mp4", [coded] * 3, FPS, options={"crf": "0"},
                          display_matrix=ROTATIONS[degrees])
    info = probe_video(path)
    assert info.rotation == degrees
    assert (info.width, info.height) == ((32, 64) if degrees in (90, 270) else (64, 32))
    frame = _read_all(info)[0]
    code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[degrees]
    want = cv2.rotate(coded, code)
    assert frame.shape == want.shape
    assert np.abs(frame.astype(int) - want).mean() < 3
    if degrees == 90:  # turned clockwise: the stored top-left corner is now top-right
        assert frame[:8, -8:].mean() > 240 and frame[:8, :8].mean() < 15


@pytest.mark.parametrize("ext", IMAGE_EXTS)
def test_still_image_is_a_one_frame_video(tmp_path, ext):
    image = np.zeros((40, 30, 3), np.uint8)
    image[:, :15] = (200, 100, 50)
    path = tmp_path / f"face{ext}"
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if ext == ".webp" else []
    assert cv2.imwrite(str(path), image, params)
    info = probe_video(path, image_fps=30.0)
    assert info.is_image and info.frame_count == 1 and info.fps == 30.0 and (info.width, info.height) == (30, 40)
    with FrameReader(info) as reader:
        frames = list(reader.frames([0, 0, 0]))
    assert [i for i, _ in frames] == [0, 0, 0]
    assert np.abs(frames[0][1].astype(int) - image).mean() < 4
    frames[0][1][:] = 0  # each frame is the caller's own copy
    assert frames[1][1].any()


def test_jpeg_exif_orientation_is_applied(tmp_path):
    from PIL import Image

    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:6, :6] = 255                                  # marker in the stored top-left corner
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6                                      # "rotate 90 degrees clockwise to display"
    image.save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    info = probe_video(tmp_path / "phone.jpg")
    assert (info.width, info.height) == (20, 40)
    with FrameReader(info) as reader:
        frame = next(reader.frames([0]))[1]
    assert frame[:6, -6:].mean() > 200 and frame[:6, :6].mean() < 30


@pytest.fixture(scope="module")
def gop_clip(tmp_path_factory):
    """40 frames of moving texture, a keyframe every 8 frames, B-frames: what a real clip looks like."""
    path = tmp_path_factory.mktemp("gop") / "gop.mp4"
    mg.write_video(path, mg.textured_frames(40, 64, 48), FPS,
                   options={"g": "8", "keyint_min": "8", "sc_threshold": "0", "bf": "2"})
    info = probe_video(path)
    return info, _read_all(info)


def test_backward_run_gives_the_forward_frames_reversed(gop_clip):
    info, forward = gop_clip
    with FrameReader(info) as reader:
        backward = list(reader.frames(range(39, -1, -1)))
        # The whole clip fits the default budget: one forward pass, then handed out in reverse.
        assert (reader.stats.seeks, reader.stats.decoded, reader.stats.peak_buffered) == (1, 40, 40)
    assert [i for i, _ in backward] == list(range(39, -1, -1))
    for i, frame in backward:
        assert np.array_equal(frame, forward[i]), i


@pytest.mark.parametrize("budget_frames,seeks", [(8, 5), (12, 5), (3, 15), (1, 40)])
def test_backward_blocks_shrink_to_the_memory_budget(gop_clip, budget_frames, seeks):
    info, forward = gop_clip
    with FrameReader(info) as reader:
        list(reader.frames([0]))
        frame_bytes = reader.frame_bytes
    assert 64 * 48 * 3 // 2 <= frame_bytes <= 64 * 48 * 4   # 4:2:0 planes with row padding
    with FrameReader(info, memory_budget=budget_frames * frame_bytes) as reader:
        list(reader.frames([0]))
        backward = list(reader.frames(range(39, -1, -1)))
        assert reader.stats.block_frames == budget_frames
        assert reader.stats.peak_buffered <= budget_frames
        # Blocks start on keyframes (every 8th frame) where the budget allows, so 8 and 12 need the
        # same five passes; smaller budgets split a GOP and pay for it in seeks.
        assert reader.stats.seeks - 1 == seeks
    for i, frame in backward:
        assert np.array_equal(frame, forward[i]), i


def test_all_intra_clip_reads_backward_in_budget_sized_blocks(tmp_path):
    path = mg.write_video(tmp_path / "intra.avi", mg.level_frames(12), FPS, codec="mjpeg", pix_fmt="yuvj420p")
    info = probe_video(path)
    with FrameReader(info) as reader:
        list(reader.frames([0]))
        budget = 4 * reader.frame_bytes
    with FrameReader(info, memory_budget=budget) as reader:
        got = [mg.frame_number(f) for _, f in reader.frames(range(11, -1, -1))]
        assert reader.stats.seeks == 3 and reader.stats.decoded <= 12 + 3
    assert got == list(range(11, -1, -1))


def test_pingpong_order_matches_forward_frames(gop_clip):
    info, forward = gop_clip
    order = template_indices(130, info.frame_count)
    with FrameReader(info) as reader:
        got = list(reader.frames(order))
    assert [i for i, _ in got] == order.tolist()
    for i, frame in got:
        assert np.array_equal(frame, forward[i]), i


def test_arbitrary_jumps_and_repeats(gop_clip):
    info, forward = gop_clip
    rnd = random.Random(7)
    order = [rnd.randrange(40) for _ in range(30)] + [5, 5, 5, 39, 0, 38, 1]
    with FrameReader(info) as reader:
        got = list(reader.frames(order))
        again = list(reader.frames([3, 3]))
    assert [i for i, _ in got] == order
    for i, frame in got + again:
        assert np.array_equal(frame, forward[i]), i
    again[0][1][:] = 0  # repeated frames are separate arrays
    assert again[1][1].any()


def test_forward_run_decodes_once_without_seeking_back(gop_clip):
    info, _ = gop_clip
    with FrameReader(info) as reader:
        list(reader.frames(range(40)))
        assert reader.stats.seeks == 1 and reader.stats.decoded == 40
        list(reader.frames(range(30, 40)))       # a jump ahead to a keyframe seeks there
        assert reader.stats.seeks == 2 and reader.stats.decoded <= 40 + 16


def test_index_out_of_range(gop_clip):
    info, _ = gop_clip
    with FrameReader(info) as reader, pytest.raises(IndexError):
        list(reader.frames([0, 40]))


def test_audio_track_is_reported(tmp_path):
    path = mg.write_video(tmp_path / "talk.mkv", mg.level_frames(5), FPS,
                          audio=(mg.sine(440.0, 0.2, 16000), 16000))
    assert probe_video(path).has_audio


def test_extension_lists():
    assert {".mp4", ".mov", ".mkv", ".webm", ".avi"} <= set(VIDEO_EXTS)
    assert IMAGE_EXTS == (".jpg", ".jpeg", ".png", ".bmp", ".webp")


# -- bad input


def _fails(path, *words):
    with pytest.raises(InputError) as info:
        probe_video(path)
    err = info.value
    assert err.path == str(path) and str(err).startswith(str(path))
    for word in words:
        assert word in err.reason, err.reason
    return err


def test_missing_and_empty(tmp_path):
    _fails(tmp_path / "nope.mp4", "no such file")
    (tmp_path / "empty.mp4").write_bytes(b"")
    _fails(tmp_path / "empty.mp4", "empty")


@pytest.mark.parametrize("ext", [".mp4", ".mkv", ".avi", ".webm", ".png", ".jpg"])
def test_garbage(tmp_path, ext):
    _fails(mg.write_garbage(tmp_path / f"noise{ext}"), "not a readable")


def test_truncated_mp4(tmp_path):
    full = mg.write_video(tmp_path / "full.mp4", mg.textured_frames(20), FPS)
    _fails(mg.write_truncated(full, tmp_path / "cut.mp4", 0.6), "truncated")


def test_truncated_image(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "full.png"), image)
    _fails(mg.write_truncated(tmp_path / "full.png", tmp_path / "cut.png", 0.3), "not a readable image")


def test_sound_only_container(tmp_path):
    path = tmp_path / "voice.mp4"
    mg.write_audio(tmp_path / "voice.m4a", mg.sine(440.0, 0.3, 16000), 16000).rename(path)
    _fails(path, "no video stream", "only sound")


def test_audio_file_given_as_video(tmp_path):
    path = mg.write_audio(tmp_path / "speech.wav", mg.sine(440.0, 0.3, 16000), 16000)
    _fails(path, "unsupported file type .wav (a sound file)", ".mp4", ".png")


def test_unknown_extension(tmp_path):
    (tmp_path / "clip.xyz").write_bytes(b"1234")
    _fails(tmp_path / "clip.xyz", ".xyz", ".mp4")


@pytest.mark.parametrize("ext,codec", [("mpg", "mpeg2video"), ("ts", "libx264"), ("avi", "mpeg4")])
def test_formats_with_awkward_seeking_read_backward_correctly(tmp_path, ext, codec):
    # MPEG program streams land off-target and mislabel timestamps after a seek; transport streams land
    # late. The reader must notice and still return exactly the frames a straight decode gives.
    path = mg.write_video(tmp_path / f"clip.{ext}", mg.textured_frames(40), FPS, codec=codec,
                          options={"g": "8", "bf": "2"})
    info = probe_video(path)
    assert info.frame_count == 40
    forward = _read_all(info)
    with FrameReader(info, memory_budget=10 * info.width * info.height * 2) as reader:
        backward = list(reader.frames(range(39, -1, -1)))
    for i, frame in backward:
        assert np.array_equal(frame, forward[i]), i
    src = mg.textured_frames(40)
    assert max(np.abs(f.astype(int) - src[i]).mean() for i, f in enumerate(forward)) < 12


def test_truncated_matroska(tmp_path):
    full = mg.write_video(tmp_path / "full.mkv", mg.textured_frames(40), FPS)
    _fails(mg.write_truncated(full, tmp_path / "cut.mkv", 0.8), "truncated", "of 1.60 s")


def test_builtin_face_clip(face_clip):
    info = probe_video(face_clip)
    assert (info.width, info.height, info.fps, info.frame_count, info.codec) == (480, 540, 25.0, 50, "h264")
    with FrameReader(info) as reader:
        forward = dict(reader.frames([47, 48, 49]))
        backward = dict(reader.frames([49, 48, 47]))
    assert all(np.array_equal(forward[i], backward[i]) for i in (47, 48, 49))
    assert forward[49].shape == (540, 480, 3) and forward[49].std() > 20  # a real picture, not a flat fill


def test_reading_at_another_rate(tmp_path):
    # A 30 fps clip read on a 25 fps timeline shows, at each 40 ms tick, the frame then on screen.
    import dataclasses

    info = probe_video(mg.write_video(tmp_path / "thirty.mp4", mg.level_frames(15), 30))
    at25 = dataclasses.replace(info, fps=25.0, frame_count=round(info.duration * 25))
    got = [mg.frame_number(f) for _, f in FrameReader(at25).frames(range(at25.frame_count))]
    assert got == [(j * 30) // 25 for j in range(12)] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13]
