"""The compiled compositing kernel (``_C.paint_layers``) against its NumPy reference, and its CUDA twin
against the CPU kernel (skipped without a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt.compose.painter import Layer, paint, paint_image, paint_reference, shown_pixels

pytestmark = pytest.mark.skipif(_ext.compiled() is None, reason="the compiled core is not built")


def random_layers(seed: int, h: int = 37, w: int = 53, count: int = 5) -> tuple[np.ndarray, list[Layer]]:
    """A base and layers with and without alpha (partial coverage at every level), some boxed."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    layers = []
    for k in range(count):
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        mask = rng.random((h, w)) < 0.4
        alpha = None
        if k % 2:
            alpha = np.where(rng.random((h, w)) < 0.5, rng.integers(0, 256, (h, w)), 0).astype(np.uint8)
        box = None
        if k >= 2:
            x0, y0 = (int(v) for v in rng.integers(-5, 20, 2))
            box = (x0, y0, x0 + int(rng.integers(0, w)), y0 + int(rng.integers(0, h)))
        layers.append(Layer(rgb, mask, alpha, box))
    return base, layers


@pytest.mark.parametrize("seed", range(6))
def test_kernel_equals_numpy_reference(seed):
    base, layers = random_layers(seed)
    out, owner = paint(base, layers)
    ref_out, ref_owner = paint_reference(base, layers)
    np.testing.assert_array_equal(owner, ref_owner)
    np.testing.assert_array_equal(out, ref_out)


@pytest.mark.parametrize("seed", range(6))
def test_painting_without_an_owner_map_gives_the_image_and_each_layer_where_it_shows(seed):
    base, layers = random_layers(seed)
    out, owner = paint(base, layers)
    np.testing.assert_array_equal(paint_image(base, layers), out)
    for k in range(len(layers)):
        np.testing.assert_array_equal(shown_pixels(layers, k), owner == k)
    canvas = base.copy()
    _ext.compiled().paint_layers(canvas, None, [lr.rgb for lr in layers], [lr.mask for lr in layers],
                                 [lr.alpha for lr in layers], [lr.box or (0, 0, 53, 37) for lr in layers])
    np.testing.assert_array_equal(canvas, out)


def test_blend_matches_numpy_float32_at_every_alpha():
    rgb = np.broadcast_to(np.arange(256, dtype=np.uint8)[:, None, None], (256, 256, 3)).copy()
    base = np.ascontiguousarray(rgb.transpose(1, 0, 2))
    alpha = np.broadcast_to(np.arange(256, dtype=np.uint8)[None, :], (256, 256)).copy()
    layers = [Layer(rgb, np.zeros((256, 256), bool), alpha)]
    for a, b in zip(paint(base, layers), paint_reference(base, layers)):
        np.testing.assert_array_equal(a, b)


def test_kernel_checks_its_arrays():
    C = _ext.compiled()
    canvas, owner = np.zeros((4, 5, 3), np.uint8), np.full((4, 5), -1, np.int32)
    rgb, mask = np.zeros((4, 5, 3), np.uint8), np.ones((4, 5), bool)
    with pytest.raises(ValueError, match="layer 0 mask must have shape"):
        C.paint_layers(canvas, owner, [rgb], [mask[:3]], [None], [(0, 0, 5, 4)])
    with pytest.raises(TypeError, match="layer 0 alpha must have dtype"):
        C.paint_layers(canvas, owner, [rgb], [mask], [np.ones((4, 5), np.float32)], [(0, 0, 5, 4)])
    with pytest.raises(ValueError, match="one entry per layer"):
        C.paint_layers(canvas, owner, [rgb], [], [None], [(0, 0, 5, 4)])
    with pytest.raises(ValueError, match="owner must have"):
        C.paint_layers(canvas, owner[:2], [rgb], [mask], [None], [(0, 0, 5, 4)])


@pytest.mark.skipif(_ext.gpu_count() == 0, reason="no usable CUDA GPU (or no CUDA kernels built)")
@pytest.mark.parametrize("seed", range(3))
def test_cuda_equals_cpu(seed):
    C = _ext.compiled()
    base, layers = random_layers(seed, h=301, w=419)
    cpu_out, cpu_owner = paint(base, layers)
    h, w = base.shape[:2]

    def upload(array):
        buffer = C.DeviceBuffer(list(array.shape), array.dtype.str, 0, 0)
        buffer.copy_from(np.ascontiguousarray(array))
        return buffer

    canvas, owner = upload(base), upload(np.full((h, w), -1, np.int32))
    kept = [(upload(lr.rgb), upload(lr.mask.astype(np.uint8)), None if lr.alpha is None else upload(lr.alpha))
            for lr in layers]
    C.cuda_paint_layers(canvas.ptr, owner.ptr, h, w, [r.ptr for r, _, _ in kept], [m.ptr for _, m, _ in kept],
                        [0 if a is None else a.ptr for _, _, a in kept],
                        [lr.box or (0, 0, w, h) for lr in layers], 0, 0)
    np.testing.assert_array_equal(owner.to_numpy(), cpu_owner)
    np.testing.assert_array_equal(canvas.to_numpy(), cpu_out)
    bare = upload(base)  # no owner map kept: the same image
    C.cuda_paint_layers(bare.ptr, 0, h, w, [r.ptr for r, _, _ in kept], [m.ptr for _, m, _ in kept],
                        [0 if a is None else a.ptr for _, _, a in kept],
                        [lr.box or (0, 0, w, h) for lr in layers], 0, 0)
    np.testing.assert_array_equal(bare.to_numpy(), cpu_out)
