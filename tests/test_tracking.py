"""Face tracking on a real face photo moved by known motion; gaps, smoothing, choice of face, cache, hooks."""
import numpy as np
import pytest
import cv2

from heygem_core.face import landmarks as L
from heygem_core.demo import animate_photo, face_photo
from heygem_core.errors import Cancelled, InputError
from heygem_core.options import LipSyncOptions
from heygem_core.progress import Progress
from heygem_core.face.detector import choose_face, smoothing_filter, square_crop
from heygem_core.face.track import FaceTrack, _fit_length, track_frames

N = 24
SIZE = (240, 270)
RAW = LipSyncOptions(track_smoothing=0.0)


def animation_matrix(i: int, n: int, photo_shape, size=SIZE, zoom=0.04, drift=0.025) -> np.ndarray:
    """The 2×3 photo → frame matrix of frame ``i`` of ``animate_photo`` (same formula, default motion)."""
    w, h = size
    ih, iw = photo_shape[:2]
    base = max(w / iw, h / ih) * 1.08
    s = base * (1.0 + zoom * i / max(1, n - 1))
    dx = drift * w * np.sin(2 * np.pi * 0.35 * i / 25.0)
    dy = drift * 0.5 * h * np.sin(2 * np.pi * 0.22 * i / 25.0 + 1.0)
    return np.array([[s, 0, w / 2 - s * iw / 2 + dx], [0, s, h / 2 - s * ih / 2 + dy]])


@pytest.fixture(scope="module")
def photo():
    return face_photo()


@pytest.fixture(scope="module")
def clip(photo):
    return animate_photo(photo, N, size=SIZE)


@pytest.fixture(scope="module")
def raw_track(clip):
    return track_frames(clip, RAW)


def test_every_frame_found_and_landmarks_follow_the_motion(photo, clip, raw_track):
    assert raw_track.found.all() and raw_track.face_ratio == 1.0
    assert raw_track.landmarks.shape == (N, 478, 2) and raw_track.landmarks.dtype == np.float32
    assert (raw_track.width, raw_track.height, raw_track.fps) == (240, 270, 25.0)
    # landmarks of the still photo, carried into each frame by the animation's own matrix
    ref = track_frames([photo], RAW).landmarks[0]
    points = [L.NOSE_TIP, L.CHIN, L.RIGHT_IRIS_CENTER, L.LEFT_IRIS_CENTER, *L.MOUTH_CORNERS]
    for i in range(N):
        m = animation_matrix(i, N, photo.shape)
        expected = ref[points] @ m[:, :2].T + m[:, 2]
        err = np.linalg.norm(raw_track.landmarks[i, points] - expected, axis=1)
        assert err.max() < 3.0, (i, err)  # the face is ~100 px wide here
    # the motion is real: the nose travels several pixels over the clip
    nose = raw_track.landmarks[:, L.NOSE_TIP]
    assert np.ptp(nose[:, 0]) > 4


def test_closed_mouth_measures_small(raw_track):
    opening = L.mouth_opening(raw_track.landmarks)
    assert np.all((opening >= 0) & (opening < 0.06))
    width = L.mouth_width(raw_track.landmarks)
    assert 15 < width.min() and width.max() < 60


def test_a_still_face_gives_still_landmarks(clip):
    # the crop must not chase the mesh's own noise: identical frames, identical landmarks
    track = track_frames([clip[5]] * 5, RAW)
    assert np.abs(np.diff(track.landmarks, axis=0)).max() == 0.0


def test_frames_without_a_face_are_nan_and_the_rest_still_found(clip):
    frames = list(clip)
    gray = np.full_like(frames[0], 128)
    for i in (10, 11, 12):
        frames[i] = gray
    opts = LipSyncOptions(track_smoothing=0.5)
    track = track_frames(frames, opts)
    assert track.found.tolist() == [i not in (10, 11, 12) for i in range(N)]
    assert np.isnan(track.landmarks[10:13]).all() and track.face(11) is None
    assert np.isfinite(track.landmarks[track.found]).all()
    # the filter restarts after the gap: the first face after it is the raw one (as when the clip starts
    # there), not pulled towards frame 9
    fresh = track_frames(frames[13:14], RAW)
    np.testing.assert_allclose(track.face(13), fresh.face(0), atol=1e-3)


def test_no_face_at_all_gives_an_empty_track():
    rng = np.random.default_rng(1)
    frames = [np.full((120, 160, 3), 90, np.uint8), rng.integers(0, 255, (120, 160, 3), np.uint8)]
    track = track_frames(frames, RAW)
    assert not track.found.any() and track.face_ratio == 0.0 and np.isnan(track.landmarks).all()
    empty = track_frames([], RAW)
    assert len(empty) == 0 and empty.face_ratio == 0.0


def _shifted(photo, dx, dy, size=(280, 300)):
    small = cv2.resize(photo, (256, 300), interpolation=cv2.INTER_AREA)
    m = np.float32([[1, 0, 12 + dx], [0, 1, dy]])
    return cv2.warpAffine(small, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def test_smoothing_reduces_jitter_and_follows_a_step(photo):
    rng = np.random.default_rng(0)
    jitter = rng.normal(0, 1.0, (30, 2))
    jitter[20:, 0] += 20  # the head jumps 20 px right at frame 20
    frames = [_shifted(photo, dx, dy) for dx, dy in jitter]
    raw = track_frames(frames, RAW).landmarks
    smooth = track_frames(frames, LipSyncOptions(track_smoothing=0.5)).landmarks
    steady = slice(2, 20)

    def wobble(lm):  # frame-to-frame movement of the steady stretch, px
        return np.linalg.norm(np.diff(lm[steady], axis=0), axis=-1).mean()

    assert wobble(smooth) < 0.6 * wobble(raw)
    nose_raw, nose = raw[:, L.NOSE_TIP, 0], smooth[:, L.NOSE_TIP, 0]
    assert nose[20] - nose[19] > 0.6 * 20   # most of the jump on the frame it happens
    assert np.abs(nose[22:] - nose_raw[22:]).max() < 2.0  # caught up within two frames
    # the smoothed face stays on the raw one: no lag in the steady stretch either
    assert np.abs(smooth[steady] - raw[steady]).mean() < 1.0


def _filtered(f, signal, scale=200.0):
    return np.array([f(np.array([x]), 1 / 25, scale=scale)[0] for x in signal])


def test_one_euro_filter_on_known_signals():
    rng = np.random.default_rng(3)
    noisy = 100 + rng.normal(0, 0.5, 200)  # jitter of 0.25 % of a 200 px face
    ratios = [_filtered(smoothing_filter(s), noisy)[50:].std() / noisy[50:].std() for s in (0.25, 0.5, 1.0)]
    assert ratios[0] > ratios[1] > ratios[2] and ratios[1] < 0.7 and ratios[2] < 0.55
    step = np.r_[np.zeros(10), np.full(10, 30.0)]  # a 30 px jump
    f = smoothing_filter(1.0)
    out = _filtered(f, step)
    assert out[0] == 0 and out[10] > 0.6 * 30 and abs(out[12] - 30) < 0.1 * 30
    f.reset()
    assert _filtered(f, [7.0])[0] == 7.0
    assert smoothing_filter(0.0) is None


def _two_faces(photo, big_left: bool, dx: float = 0.0):
    big = cv2.resize(photo, (205, 240), interpolation=cv2.INTER_AREA)
    small = cv2.resize(photo, (120, 141), interpolation=cv2.INTER_AREA)
    canvas = np.full((260, 420, 3), 200, np.uint8)
    bx, sx = (10, 280) if big_left else (205, 20)
    bx, sx = int(bx + dx), int(sx - dx)
    canvas[10:250, bx:bx + 205] = big
    canvas[60:201, sx:sx + 120] = small
    return canvas, (bx + 102, sx + 60)


@pytest.mark.parametrize("big_left", [True, False])
def test_the_larger_face_is_chosen_and_kept(photo, big_left):
    frames, centres = zip(*[_two_faces(photo, big_left, dx) for dx in range(0, 8, 1)])
    track = track_frames(frames, RAW)
    assert track.found.all()
    for lm, (big_x, small_x) in zip(track.landmarks, centres):
        nose_x = lm[L.NOSE_TIP, 0]
        assert abs(nose_x - big_x) < 15 and abs(nose_x - small_x) > 60


def test_small_face_in_a_wide_frame_is_found(photo):
    # ~40 px face in a 1280×360 strip: too small for detection on the whole frame, found in its tiles
    small = cv2.resize(photo, None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA)
    frame = np.full((360, 1280, 3), 100, np.uint8)
    frame[100:100 + small.shape[0], 900:900 + small.shape[1]] = small
    track = track_frames([frame, frame], RAW)
    assert track.found.all()
    nose = track.landmarks[0, L.NOSE_TIP]
    assert 900 < nose[0] < 900 + small.shape[1] and 100 < nose[1] < 100 + small.shape[0]


def test_choose_face_prefers_the_last_face_over_a_larger_one():
    boxes = np.array([[10, 10, 110, 110], [200, 20, 240, 60]], np.float32)
    assert choose_face(boxes, (200, 300), None).tolist() == boxes[0].tolist()
    last = np.array([195, 25, 245, 65], np.float32)
    assert choose_face(boxes, (200, 300), last).tolist() == boxes[1].tolist()
    # same size: the one nearer the centre wins
    even = np.array([[0, 0, 40, 40], [130, 80, 170, 120]], np.float32)
    assert choose_face(even, (200, 300), None).tolist() == even[1].tolist()


def test_square_crop_maps_back_to_the_frame_even_past_the_edge():
    frame = np.full((100, 160, 3), 60, np.uint8)
    frame[90, 5] = 255  # a dot near the bottom-left corner
    crop, x0, y0, scale = square_crop(frame, (10.0, 95.0), 60.0, 120)  # reaches 20 px left, 25 px below
    assert crop.shape == (120, 120, 3) and scale == pytest.approx(0.5)
    ys, xs = np.nonzero(crop[..., 0] > 150)
    # pixel centres: frame pixel 5 spans [5, 6); the mapping (x0, y0) + crop point · scale is continuous
    assert (x0 + (xs.mean() + 0.5) * scale, y0 + (ys.mean() + 0.5) * scale) == pytest.approx((5.5, 90.5), abs=0.3)
    assert crop[:, :38].max() == 0 and crop[72:].max() == 0  # outside the frame: black
    assert crop[:68, 42:].min() == 60


def test_progress_is_reported_and_stop_cancels(clip):
    seen = []
    track_frames(clip[:12], RAW, total=12, on_progress=seen.append)
    assert all(isinstance(p, Progress) and p.stage == "face" and p.total == 12 for p in seen)
    assert [p.done for p in seen] == sorted(p.done for p in seen) and seen[-1].done == 12
    assert 2 <= len(seen) <= 4 and seen[-1].fraction == 1.0
    calls = []
    with pytest.raises(Cancelled):
        track_frames(clip, RAW, should_stop=lambda: calls.append(1) or len(calls) > 3)
    assert len(calls) == 4  # polled once per frame, stopped at the fourth
    assert Progress("face", 3, 0).fraction == 0.0


def test_track_file_round_trip_and_bad_files(tmp_path, raw_track):
    path = raw_track.save(tmp_path / "sub" / "t.npz")
    back = FaceTrack.load(path)
    np.testing.assert_array_equal(back.landmarks, raw_track.landmarks)
    np.testing.assert_array_equal(back.found, raw_track.found)
    assert (back.fps, back.width, back.height) == (25.0, 240, 270) and not back.from_cache
    assert [p.name for p in path.parent.iterdir()] == ["t.npz"]  # no temp file left behind
    bad = tmp_path / "bad.npz"
    bad.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InputError, match="bad.npz: not a face track file"):
        FaceTrack.load(bad)
    np.savez(tmp_path / "other.npz", landmarks=np.zeros((2, 5, 2), np.float32), found=np.ones(2, bool),
             meta=np.zeros(4))
    with pytest.raises(InputError, match="unexpected array shapes"):
        FaceTrack.load(tmp_path / "other.npz")
    with pytest.raises(InputError, match="no such file"):
        FaceTrack.load(tmp_path / "missing.npz")


def test_a_track_is_fitted_to_the_frame_count(raw_track):
    longer = _fit_length(raw_track, N + 3)
    assert len(longer) == N + 3 and not longer.found[N:].any() and np.isnan(longer.landmarks[N:]).all()
    np.testing.assert_array_equal(longer.landmarks[:N], raw_track.landmarks)
    assert len(_fit_length(raw_track, 5)) == 5 and _fit_length(raw_track, 5).found.all()


# -- whole videos (need heygem_core.media.video)

@pytest.fixture(scope="module")
def short_clip(tmp_path_factory, clip):
    from heygem_core.demo import write_clip

    return write_clip(tmp_path_factory.mktemp("clips") / "face.mp4", clip[:10], 25.0, options={"crf": "18"})


def test_track_video_caches_by_content_and_settings(tmp_path, short_clip, monkeypatch):
    video = pytest.importorskip("heygem_core.media.video")
    from heygem_core.face import track as tracking

    cache = tmp_path / "cache"
    info = video.probe_video(short_clip)
    first = tracking.track_video(info, RAW, cache_dir=cache)
    assert not first.from_cache and first.found.all() and len(first) == info.frame_count == 10
    assert len(list(cache.glob("*.npz"))) == 1

    # the same bytes under another name hit the cache, and the tracker does not run
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(short_clip.read_bytes())

    def no_tracking(*args, **kwargs):
        raise AssertionError("tracker ran on a cached video")

    with monkeypatch.context() as m:
        m.setattr(tracking, "track_frames", no_tracking)
        again = tracking.track_video(video.probe_video(copy), RAW, cache_dir=cache)
    assert again.from_cache
    np.testing.assert_array_equal(again.landmarks, first.landmarks)
    np.testing.assert_array_equal(again.found, first.found)

    # a setting that changes the landmarks misses the cache
    other = tracking.track_video(info, RAW.replace(track_smoothing=0.5), cache_dir=cache)
    assert not other.from_cache and len(list(cache.glob("*.npz"))) == 2

    # a corrupt cache file is ignored and written anew
    for f in cache.glob("*.npz"):
        f.write_bytes(b"not a zip")
    redo = tracking.track_video(info, RAW, cache_dir=cache)
    assert not redo.from_cache
    np.testing.assert_allclose(redo.landmarks, first.landmarks, atol=1e-4)
    assert tracking.track_video(info, RAW, cache_dir=cache).from_cache


def test_track_video_without_any_face_raises(tmp_path):
    video = pytest.importorskip("heygem_core.media.video")
    from heygem_core.demo import write_clip
    from heygem_core.errors import NoFaceError
    from heygem_core.face.track import track_video

    rng = np.random.default_rng(2)
    frames = [np.clip(120 + rng.normal(0, 20, (96, 128, 3)), 0, 255).astype(np.uint8) for _ in range(6)]
    path = write_clip(tmp_path / "empty.mp4", frames, 25.0)
    with pytest.raises(NoFaceError, match=r"empty\.mp4: no face found in any of 6 frames") as err:
        track_video(video.probe_video(path), RAW, cache_dir=tmp_path / "cache")
    assert err.value.path == str(path)
    assert not list(tmp_path.glob("cache/*.npz"))  # nothing cached for a video without a face


def test_tracker_skips_mediapipe_top_level_yet_mediapipe_still_imports_whole():
    """The tracker loads only MediaPipe's face solutions (no matplotlib, no Tasks API); any later
    ``import mediapipe`` in the same process still gets the whole package."""
    import subprocess
    import sys

    code = """
import sys
from heygem_core.face.detector import FaceTracker
FaceTracker().close()
assert "matplotlib" not in sys.modules and "mediapipe.tasks" not in sys.modules, sorted(sys.modules)
import mediapipe as mp
from mediapipe.python.solutions import drawing_styles
assert mp.__version__ and mp.solutions.drawing_utils and drawing_styles and mp.tasks.__name__ == "mediapipe.tasks.python"
assert mp.solutions.face_mesh.FaceMesh
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
