"""The compiled Telea fill (csrc/core/telea.cpp) gives OpenCV's bytes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from interorder_rt import _ext

core = _ext.compiled()
pytestmark = pytest.mark.skipif(core is None, reason="the compiled core is not built")


def cases(count: int, seed: int = 0):
    """Random images (noise or smooth) and unknown masks (scattered or grown into blobs), >= 2 px a side."""
    rng = np.random.default_rng(seed)
    for k in range(count):
        h, w = (int(v) for v in rng.integers(2, 60, 2))
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        if k % 2:
            image = cv2.GaussianBlur(image, (7, 7), 3)
        unknown = rng.random((h, w)) < rng.random() * 0.8
        if k % 3:
            unknown = cv2.dilate(unknown.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
        if unknown.any() and not unknown.all():
            yield image, unknown


@pytest.mark.parametrize("radius", [1, 3, 5])
def test_the_fill_equals_opencv_telea_byte_for_byte(radius):
    for image, unknown in cases(60, seed=radius):
        expected = cv2.inpaint(image, unknown.view(np.uint8), radius, cv2.INPAINT_TELEA)
        out = image.copy()
        core.telea_inpaint(out, unknown, radius)
        np.testing.assert_array_equal(out, expected)


def test_a_crop_sized_fill_equals_opencv():
    image = cv2.GaussianBlur(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8), (9, 9), 4)
    unknown = np.ones((64, 64), bool)
    cv2.ellipse(unknown.view(np.uint8), (30, 34), (14, 24), 20, 0, 360, 0, -1)  # known: an instance's shape
    out = image.copy()
    core.telea_inpaint(out, unknown, 3)
    np.testing.assert_array_equal(out, cv2.inpaint(image, unknown.view(np.uint8), 3, cv2.INPAINT_TELEA))


def test_bad_arguments_are_refused_by_name():
    image, unknown = np.zeros((8, 9, 3), np.uint8), np.zeros((8, 9), bool)
    with pytest.raises(ValueError, match="unknown must have shape"):
        core.telea_inpaint(image, unknown[:, :4], 3)
    with pytest.raises(TypeError, match="unknown must have dtype"):
        core.telea_inpaint(image, unknown.astype(np.float32), 3)
    with pytest.raises(TypeError, match="image must have dtype"):
        core.telea_inpaint(image.astype(np.float32), unknown, 3)
    with pytest.raises(ValueError, match="writeable"):
        image.flags.writeable = False
        core.telea_inpaint(image, unknown, 3)

