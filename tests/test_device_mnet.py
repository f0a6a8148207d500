"""MNet's instance completion on tensors (``backends.device_mnet``) against the host's
``ContentCompletion.complete_many``, on CPU tensors with the CPU kernels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from interorder_rt.backends import device_mnet
from interorder_rt.completion import ContentCompletion


@pytest.fixture(scope="module")
def completion() -> ContentCompletion:
    return ContentCompletion(instance="mnet")


def _scene(seed: int, n: int = 2, border: bool = False):
    """A shaded, noisy image and ``n`` rectangular instances whose amodal masks reach further."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(80, 300)), int(rng.integers(80, 300))
    rows = np.mgrid[0:h, 0:w][0]
    image = (rng.integers(0, 60, (h, w, 3)) + (rows[..., None] * 150 // h)).astype(np.uint8)
    visible = np.zeros((n, h, w), bool)
    for k in range(n):
        y0 = 0 if border else int(rng.integers(0, h - 40))
        x0 = 0 if border else int(rng.integers(0, w - 40))
        visible[k, y0 : y0 + int(rng.integers(20, 60)), x0 : x0 + int(rng.integers(15, 50))] = True
    amodal = visible | np.roll(visible, int(rng.integers(3, 12)), axis=1)
    return image, visible, amodal


def _device(completion, image, visible, amodal) -> np.ndarray:
    out = device_mnet.complete_many(completion, torch.from_numpy(image), torch.from_numpy(visible),
                                    torch.from_numpy(amodal))
    return torch.stack(out).numpy()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("border", [False, True], ids=["inside", "at-the-border"])
def test_the_completion_on_tensors_matches_the_host(completion, seed, border):
    image, visible, amodal = _scene(seed, border=border)
    host = completion.complete_many(image, visible, amodal)
    device = _device(completion, image, visible, amodal)
    difference = np.abs(host.astype(int) - device.astype(int)).max(axis=-1)
    holes = amodal & ~visible
    np.testing.assert_array_equal(device[~holes], host[~holes])  # only hole pixels are written
    assert difference.max() <= 4 and (difference[holes] > 0).mean() <= 0.05


def test_an_instance_without_a_hole_comes_back_unchanged(completion):
    image, visible, amodal = _scene(0)
    amodal[1] = visible[1]
    device = _device(completion, image, visible, amodal)
    np.testing.assert_array_equal(device[1], image)


@pytest.mark.parametrize("side, size", [(128, 64), (200, 64), (97, 64), (64, 64), (40, 64)])
def test_resize_is_opencvs(side, size):
    planes = np.random.default_rng(side).random((side, side, 3)).astype(np.float32)
    method = cv2.INTER_AREA if side >= size else cv2.INTER_LINEAR
    expected = cv2.resize(planes, (size, size), interpolation=method)
    got = device_mnet.resize(torch.from_numpy(planes), size).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)
