import numpy as np
import pytest

from heygem_core.media.timeline import output_frame_count, template_index, template_indices


def test_pingpong_goes_back_and_forth_without_jumping():
    got = [template_index(k, 4) for k in range(14)]
    assert got == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1]
    steps = np.diff(template_indices(1000, 7))
    assert set(np.abs(steps).tolist()) == {1}  # never a jump, never a pause


def test_loop_wraps():
    assert [template_index(k, 3, "loop") for k in range(7)] == [0, 1, 2, 0, 1, 2, 0]


@pytest.mark.parametrize("mode", ["pingpong", "loop"])
def test_single_frame_template_is_always_frame_zero(mode):
    assert template_index(0, 1, mode) == 0
    assert template_index(12345, 1, mode) == 0
    assert template_indices(5, 1, mode).tolist() == [0] * 5


@pytest.mark.parametrize("mode", ["pingpong", "loop"])
@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_array_form_matches_scalar_form(mode, n):
    arr = template_indices(57, n, mode)
    assert arr.dtype == np.int64 and arr.shape == (57,)
    assert arr.tolist() == [template_index(k, n, mode) for k in range(57)]


def test_two_frames_alternate():
    assert template_indices(6, 2).tolist() == [0, 1, 0, 1, 0, 1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="loop mode"):
        template_index(0, 3, "bounce")
    with pytest.raises(ValueError, match="at least one frame"):
        template_indices(3, 0)
    with pytest.raises(ValueError):
        template_index(-1, 3)


def test_output_frame_count_covers_the_audio():
    assert output_frame_count(5.0, 25) == 125          # exact, despite float rounding
    assert output_frame_count(5.001, 25) == 126         # a sliver more sound needs one more frame
    assert output_frame_count(0.01, 25) == 1
    assert output_frame_count(10.0, 30000 / 1001) == 300
    for d in (0.37, 1.0, 2.999, 7.123):
        n = output_frame_count(d, 24)
        assert (n - 1) / 24 < d <= n / 24 + 1e-9
    with pytest.raises(ValueError):
        output_frame_count(0.0, 25)
    with pytest.raises(ValueError):
        output_frame_count(1.0, 0)
