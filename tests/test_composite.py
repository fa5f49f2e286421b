import numpy as np

from heygem_core.composite import Patch, apply, feathered_mask, match_color


def test_zero_mask_keeps_pixels_exact_and_one_takes_the_patch():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    before = frame.copy()
    mask = np.zeros((10, 20), np.float32)
    mask[3:7, 5:15] = 1.0
    mask[0, 0] = 0.5
    new = np.full((10, 20, 3), 200, np.uint8)
    apply(frame, Patch((10, 5, 30, 15), new, mask))
    region, old = frame[5:15, 10:30], before[5:15, 10:30]
    assert np.array_equal(region[mask == 0], old[mask == 0])
    assert np.all(region[mask == 1] == 200)
    assert np.all(np.abs(region[0, 0].astype(int) - (old[0, 0].astype(int) + 200) / 2) <= 1)
    outside = np.ones(frame.shape[:2], bool)
    outside[5:15, 10:30] = False
    assert np.array_equal(frame[outside], before[outside])


def test_feathered_mask_is_soft_and_zero_at_the_polygon_edge():
    poly = np.array([[10, 10], [50, 10], [50, 40], [10, 40]], np.float32)
    m = feathered_mask(poly, (0, 0, 60, 50), feather_px=8)
    assert m[25, 30] > 0.95 and m[25, 8] == 0.0 and m[25, 9] < 0.05 and m[5, 30] == 0.0  # 1 px of edge anti-aliasing
    ramp = m[25, 8:30]
    assert np.all(np.diff(ramp) >= -1e-6) and 0.1 < m[25, 14] < 0.9


def test_match_color_moves_the_mean_to_the_reference():
    rng = np.random.default_rng(1)
    ref = np.clip(rng.normal(120, 20, (30, 30, 3)), 0, 255).astype(np.uint8)
    src = np.clip(ref.astype(int) + 40, 0, 255).astype(np.uint8)
    out = match_color(src, ref, np.ones((30, 30), np.float32))
    assert abs(out.mean() - ref.mean()) < 3 < abs(src.mean() - ref.mean())
