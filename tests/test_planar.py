import av
import numpy as np
import pytest

import mediagen as mg
from heygem_core import composite
from heygem_core.composite import Patch
from heygem_core.media.encode import VideoWriter
from heygem_core.media.planar import PlanarFrame, planar_ok
from heygem_core.media.video import FrameReader, probe_video
from heygem_core.media.yuv import frame_to_bgr


def _frame(w=96, h=64, seed=1, colorspace=1):
    rng = np.random.default_rng(seed)
    vf = av.VideoFrame.from_ndarray(rng.integers(16, 236, (h * 3 // 2, w), dtype=np.uint8), format="yuv420p")
    vf.colorspace, vf.color_range = colorspace, 1
    return vf


@pytest.mark.parametrize("box", [(0, 0, 96, 64), (5, 3, 40, 31), (1, 1, 2, 2), (60, 20, 96, 64),
                                 (0, 33, 17, 64), (10, 0, 95, 63)])
def test_a_region_is_exactly_what_the_whole_frame_conversion_gives_there(box):
    vf = _frame()
    whole = frame_to_bgr(vf)
    x0, y0, x1, y1 = box
    planar = PlanarFrame.from_video_frame(vf)
    np.testing.assert_array_equal(planar[y0:y1, x0:x1], whole[y0:y1, x0:x1])
    np.testing.assert_array_equal(np.asarray(planar), whole)
    assert planar.shape == whole.shape


def test_only_bt709_limited_even_420_travels_planar():
    assert planar_ok(_frame())
    assert not planar_ok(_frame(colorspace=5))              # BT.601: converted as before
    assert not planar_ok(_frame(w=64, h=48, colorspace=2))  # untagged SD reads as BT.601
    assert planar_ok(_frame(w=1280, h=720, colorspace=2))   # untagged HD reads as BT.709


def test_paste_changes_only_what_the_mask_touches():
    bgr = mg.textured_frames(1, 96, 64)[0]
    vf = av.VideoFrame.from_ndarray(bgr, format="bgr24").reformat(
        format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
    planar = PlanarFrame.from_video_frame(vf)
    before = planar.yuv.copy()
    mask = np.zeros((20, 30), np.float32)
    mask[6:14, 9:21] = 1.0
    pixels = np.full((20, 30, 3), (40, 60, 200), np.uint8)
    composite.apply(planar, Patch((31, 17, 61, 37), pixels, mask))
    y_new, y_old = planar.yuv[:64], before[:64]
    changed = np.argwhere(y_new != y_old)
    assert changed.size and changed[:, 0].min() >= 17 + 6 and changed[:, 0].max() < 17 + 14
    assert changed[:, 1].min() >= 31 + 9 and changed[:, 1].max() < 31 + 21
    # the blended pixels read back as the patch's colour, within a level or two of rounding
    got = planar[17 + 8:17 + 12, 31 + 11:31 + 19].astype(int)
    assert np.abs(got - (40, 60, 200)).max() <= 3
    # chroma: only the 2x2 blocks under the mask
    u_old = PlanarFrame(before, 96, 64).planes[1]
    rows, cols = np.nonzero(planar.planes[1] != u_old)
    assert rows.size and rows.min() >= (17 + 6) // 2 and rows.max() <= (17 + 13) // 2


def test_planar_frames_go_through_the_writer_untouched(tmp_path):
    src = mg.write_video(tmp_path / "src.mp4", mg.textured_frames(6, 1280, 720), codec="libx264")
    info = probe_video(src)
    with FrameReader(info, planar=True) as reader:
        frames = [f for _, f in reader.frames(range(6))]
    assert all(isinstance(f, PlanarFrame) for f in frames)
    out = tmp_path / "out.mp4"
    with VideoWriter(out, info.width, info.height, info.fps, crf=0, preset="ultrafast") as w:
        for f in frames:
            w.write(f)
    with av.open(str(out)) as c:
        for f, got in zip(frames, c.decode(video=0)):
            np.testing.assert_array_equal(PlanarFrame.from_video_frame(got).yuv, f.yuv)   # lossless x264
