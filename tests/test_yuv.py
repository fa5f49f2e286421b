import av
import cv2
import numpy as np
import pytest

from heygem_core.media.yuv import SWS_FLAGS, frame_to_bgr

# Saturated skin, sky and foliage tones: where a wrong YUV matrix shows most.
COLOURS = [(60, 110, 220), (230, 160, 40), (40, 190, 70), (128, 128, 128), (16, 16, 16), (250, 250, 250)]


def _patches(width=96, height=64) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    for i, colour in enumerate(COLOURS):
        image[:, i * width // len(COLOURS):(i + 1) * width // len(COLOURS)] = colour
    return image


def _encode_frame(bgr, fmt="yuv420p", colorspace="ITU709", color_range="MPEG"):
    frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
    return frame.reformat(format=fmt, dst_colorspace=colorspace, dst_color_range=color_range,
                          interpolation=SWS_FLAGS)


@pytest.mark.parametrize("colorspace", ["ITU709", "ITU601"])
@pytest.mark.parametrize("color_range", ["MPEG", "JPEG"])
def test_tagged_matrix_and_range_are_honoured(colorspace, color_range):
    src = _patches()
    frame = _encode_frame(src, colorspace=colorspace, color_range=color_range)
    got = frame_to_bgr(frame)
    assert got.shape == src.shape and got.dtype == np.uint8 and got.flags.c_contiguous
    # Compare away from the patch borders, where 4:2:0 chroma blurs two colours together.
    w = src.shape[1] // len(COLOURS)
    for i in range(len(COLOURS)):
        inner = np.s_[:, i * w + 4:(i + 1) * w - 4]
        assert np.abs(got[inner].astype(int) - src[inner]).max() <= 2, (colorspace, color_range, COLOURS[i])


def test_the_wrong_matrix_would_be_caught():
    # Guard for the test above: decoding BT.709 data as BT.601 misses these colours by far more than 2.
    src = _patches()
    frame = _encode_frame(src, colorspace="ITU709")
    wrong = frame.to_ndarray(format="bgr24", src_colorspace="ITU601", interpolation=SWS_FLAGS)
    assert np.abs(wrong.astype(int) - src).max() > 10


def test_full_range_jpeg_format():
    src = _patches()
    got = frame_to_bgr(_encode_frame(src, fmt="yuvj420p", colorspace="ITU601", color_range="JPEG"))
    assert np.abs(got[:, 4:12].astype(int) - src[:, 4:12]).max() <= 2


def test_untagged_frames_follow_player_conventions():
    # No tag: BT.601 below 720 lines, BT.709 from 720 up.
    for height, colorspace in ((64, "ITU601"), (720, "ITU709")):
        src = np.zeros((height, 64, 3), np.uint8)
        src[:] = COLOURS[0]
        frame = av.VideoFrame.from_ndarray(src, format="bgr24").reformat(
            format="yuv420p", dst_colorspace=colorspace, interpolation=SWS_FLAGS)
        frame.colorspace = 2  # strip the tag
        assert np.abs(frame_to_bgr(frame).astype(int) - src).max() <= 2, height


@pytest.mark.parametrize("fmt", ["yuv444p", "yuv420p10le", "yuv422p", "nv12"])
def test_other_pixel_formats(fmt):
    src = cv2.resize(_patches(), (96, 64), interpolation=cv2.INTER_NEAREST)
    got = frame_to_bgr(_encode_frame(src, fmt=fmt))
    assert got.shape == src.shape and got.flags.c_contiguous
    assert np.abs(got[:, 4:12].astype(int) - src[:, 4:12]).max() <= 2


def test_fast_path_agrees_with_swscale_on_texture():
    rng = np.random.default_rng(1)
    src = cv2.resize(rng.integers(0, 256, (16, 24, 3), dtype=np.uint8), (192, 128), interpolation=cv2.INTER_CUBIC)
    frame = _encode_frame(src)
    reference = frame.to_ndarray(format="bgr24", interpolation=SWS_FLAGS).astype(int)
    diff = frame_to_bgr(frame).astype(int) - reference
    assert abs(diff.mean()) < 0.1 and np.abs(diff).mean() < 0.5
