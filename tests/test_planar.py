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


def test_the_pipeline_on_yuv_planes_makes_the_video_the_bgr_path_makes(face_clip, speech_wav, tmp_path,
                                                                        monkeypatch):
    from heygem_core.face import landmarks as L
    from heygem_core.face.track import track_frames
    from heygem_core.media.audio import load_audio
    from heygem_core.pipeline import generate

    speech = mg.write_wav(tmp_path / "s.wav", load_audio(speech_wav).samples[: 2 * 16000])
    info = probe_video(face_clip)
    tagged = tmp_path / "bt709.mp4"     # the writer tags BT.709: these frames travel as planes
    with VideoWriter(tagged, info.width, info.height, info.fps, crf=12) as w:
        for _, f in FrameReader(info).frames(range(info.frame_count)):
            w.write(f)
    pasted = []
    paste = PlanarFrame.paste
    monkeypatch.setattr(PlanarFrame, "paste", lambda self, *a: (pasted.append(1), paste(self, *a))[1])
    planar = generate(speech, tagged, tmp_path / "planar.mp4", track_cache=tmp_path / "cache")
    assert len(pasted) > 20
    monkeypatch.setattr("heygem_core.media.video.planar_ok", lambda frame: False)
    bgr = generate(speech, tagged, tmp_path / "bgr.mp4", track_cache=tmp_path / "cache")

    def frames(path):
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]

    a, b = frames(planar.output), frames(bgr.output)
    ta, tb = track_frames(a, fps=info.fps), track_frames(b, fps=info.fps)
    assert ta.found.all() and tb.found.all()
    # the results tracked again: FaceMesh moves single points by a pixel or two for any change in the
    # encoded pixels, so the mean is what is held to half a pixel
    assert np.abs(ta.landmarks - tb.landmarks).mean() < 0.5
    gap_a, gap_b = L.mouth_opening(ta.landmarks), L.mouth_opening(tb.landmarks)
    assert abs(gap_a.mean() - gap_b.mean()) <= 0.05 * gap_b.mean()
    # the upper face, against the template: the planes pass it through, the BGR path converts it twice
    from bench.common import psnr
    template = frames(tagged)[: len(a)]
    masks = [L.upper_face_mask(lm, a[0].shape) for lm in tb.landmarks]
    via_planes = np.mean([psnr(x, t, m) for x, t, m in zip(a, template, masks)])
    via_bgr = np.mean([psnr(y, t, m) for y, t, m in zip(b, template, masks)])
    assert via_planes >= via_bgr - 0.05, (via_planes, via_bgr)
