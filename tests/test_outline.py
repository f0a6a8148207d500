"""The compiled outline kernel (``_C.foreign_outline``, used by ``compose.outline``) gives the
pixels of its NumPy reference (its CUDA twin: ``tests/test_device_path_cuda.py``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt.compose import outline

core = _ext.compiled()
needs_core = pytest.mark.skipif(core is None, reason="interorder_rt._C is not built")


def scene(seed: int, h: int, w: int, reach: int, noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, region, background): up to three boxes as the region, a rim of one colour beyond
    it on 70 % of its pixels (what a loose mask misses), a noisy background of one colour."""
    rng = np.random.default_rng(seed)
    region = np.zeros((h, w), bool)
    for _ in range(rng.integers(1, 4)):
        y, x = rng.integers(0, h), rng.integers(0, w)
        region[y : y + rng.integers(1, h + 1), x : x + rng.integers(1, w + 1)] = True
    image = np.clip(rng.integers(0, 256, 3) + rng.normal(0, noise, (h, w, 3)), 0, 255).astype(np.uint8)
    square = np.ones((2 * max(reach, 0) + 1,) * 2, np.uint8)
    rim = cv2.dilate(region.view(np.uint8), square).astype(bool) & ~region
    image[rim & (rng.random((h, w)) < 0.7)] = rng.integers(0, 256, 3)
    background = ~region & (rng.random((h, w)) < 0.95)  # some pixels belong to other instances
    return image, region, background


@needs_core
@pytest.mark.parametrize("seed", range(40))
def test_the_kernel_gives_the_reference_pixels(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 90, 2))
    reach = int(rng.integers(0, 7))
    image, region, background = scene(seed, h, w, reach, noise=float(rng.choice([2, 8, 40])))
    expected = outline.foreign_outline_reference(image, region, background, reach)
    got = core.foreign_outline(image, region, background, reach, outline.SNAP_SIGMAS, outline.SNAP_LEVELS)
    assert got.dtype == bool and got.shape == (h, w)
    np.testing.assert_array_equal(got, expected)


@needs_core
def test_the_kernel_takes_a_rim_and_only_what_joins_the_region():
    image = np.full((40, 40, 3), 120, np.uint8)
    region = np.zeros((40, 40), bool)
    region[10:30, 0:12] = True  # on the frame's left edge
    image[10:30, 12:15] = (20, 200, 40)  # a 3 px rim the mask misses
    image[2:5, 30:33] = (20, 200, 40)  # the same colour, far from the region
    got = outline.foreign_outline(image, region, ~region, 4)
    expected = np.zeros_like(region)
    expected[10:30, 12:15] = True
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got, outline.foreign_outline_reference(image, region, ~region, 4))
    assert not outline.foreign_outline(image, region, ~region, 0).any()
    assert not outline.foreign_outline(image, np.zeros_like(region), ~region, 4).any()


@needs_core
def test_the_kernel_names_bad_input():
    image, region, background = scene(0, 20, 30, 2, 4.0)
    snap = lambda *planes, reach=2: core.foreign_outline(*planes, reach, 3.0, 12.0)  # noqa: E731
    with pytest.raises(ValueError, match=r"image must have 3 dimensions"):
        snap(image[..., 0], region, background)
    with pytest.raises(ValueError, match=r"image must have shape \(H, W, 3\)"):
        snap(image[..., :2].copy(), region, background)
    with pytest.raises(TypeError, match="image must have dtype uint8"):
        snap(image.astype(np.float32), region, background)
    with pytest.raises(ValueError, match=r"region must have shape \(20, 30\) like the image"):
        snap(image, region[:10], background)
    with pytest.raises(TypeError, match="background must have dtype bool or uint8"):
        snap(image, region, background.astype(np.float32))
    with pytest.raises(ValueError, match="background must be C-contiguous"):
        snap(image, region, np.asfortranarray(background))
    with pytest.raises(TypeError, match="image must be a numpy.ndarray"):
        snap(image.tolist(), region, background)
    with pytest.raises(ValueError, match="reach must be at most"):
        snap(image, region, background, reach=10**6)


def test_without_the_core_the_reference_runs(monkeypatch):
    image, region, background = scene(3, 50, 60, 3, 4.0)
    expected = outline.foreign_outline_reference(image, region, background, 3)
    assert expected.any()
    monkeypatch.setattr(_ext, "compiled", lambda: None)
    np.testing.assert_array_equal(outline.foreign_outline(image, region, background, 3), expected)
