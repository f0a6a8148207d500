"""CUDA kernels equal the CPU kernels bit for bit (skipped when no GPU is usable)."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt.ops import MaskSet, growth_counts

pytestmark = pytest.mark.skipif(_ext.gpu_count() == 0, reason="no usable CUDA GPU (or no CUDA kernels built)")

SHAPES = [(1, 1, 1), (3, 17, 63), (9, 40, 65), (16, 33, 127), (64, 50, 200), (5, 0, 7), (0, 4, 4)]


def random_masks(seed: int, shape: tuple[int, int, int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, h, w = shape
    masks = rng.random(shape) < 0.02
    for k in range(n):
        if k % 7 == 6:
            masks[k] = False
            continue
        y, x = rng.integers(0, max(h, 1)), rng.integers(0, max(w, 1))
        masks[k, y : y + rng.integers(1, h + 2), x : x + rng.integers(1, w + 2)] ^= True
    return masks


def host(result) -> np.ndarray:
    """A CUDA result (torch tensor or DeviceBuffer) or NumPy array on the host."""
    if isinstance(result, np.ndarray):
        return result
    if hasattr(result, "to_numpy"):
        return result.to_numpy()
    return result.cpu().numpy()


def compare(gpu: MaskSet, cpu: MaskSet, seed: int) -> None:
    assert gpu.backend == "cuda" and cpu.backend == "cpu"
    n, h, w = cpu.n, cpu.height, cpu.width
    assert (gpu.n, gpu.height, gpu.width) == (n, h, w)
    np.testing.assert_array_equal(gpu.to_numpy(), cpu.to_numpy())
    np.testing.assert_array_equal(gpu.areas(), cpu.areas())
    np.testing.assert_array_equal(gpu.boxes(), cpu.boxes())
    np.testing.assert_array_equal(gpu.intersection_matrix(), cpu.intersection_matrix())
    np.testing.assert_array_equal(gpu.bordering_matrix(), cpu.bordering_matrix())
    np.testing.assert_array_equal(host(gpu.convex_hulls()), cpu.convex_hulls())
    rng = np.random.default_rng(seed)
    for count in (0, 1, 3, 300):  # 300 > one kernel launch worth of indices
        a = rng.integers(0, max(n, 1), size=count if n else 0)
        b = rng.integers(0, max(n, 1), size=min(count, 2) if n else 0)
        np.testing.assert_array_equal(host(gpu.union(a)), cpu.union(a))
        np.testing.assert_array_equal(host(gpu.intersection(a)), cpu.intersection(a))
        np.testing.assert_array_equal(host(gpu.difference(a, b)), cpu.difference(a, b))
    if n:
        index = rng.integers(0, n, size=5)
        boxes = rng.uniform(-0.3, 1.3, size=(5, 4)) * [w, h, w, h]
        boxes[0] = [10.5, 3.25, 11.5, 4.25]
        for size in (1, 7, 64):
            np.testing.assert_array_equal(host(gpu.crops(index, boxes, size)), cpu.crops(index, boxes, size))


@pytest.mark.parametrize("shape", SHAPES)
def test_torch_cuda_masks(shape):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    masks = random_masks(sum(shape), shape)
    gpu = MaskSet(torch.from_numpy(masks).cuda())
    compare(gpu, MaskSet(masks), sum(shape))
    assert isinstance(gpu.union([0] if shape[0] else []), torch.Tensor)


def test_torch_cuda_strided_uint8_and_side_stream():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    masks = random_masks(1, (12, 90, 260)).astype(np.uint8) * 7
    device = torch.from_numpy(masks).cuda()
    views = [(device[::2, ::3, 1::2], masks[::2, ::3, 1::2]), (device.transpose(1, 2), masks.transpose(0, 2, 1))]
    for view, host_view in views:
        compare(MaskSet(view), MaskSet(host_view), 2)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        compare(MaskSet(device), MaskSet(masks), 3)


def test_cuda_array_interface_masks():
    C = _ext.require_cuda()
    for shape in SHAPES[:5]:
        masks = random_masks(7, shape)
        buffer = C.DeviceBuffer(list(shape), "|b1", 0, 1)
        buffer.copy_from(np.ascontiguousarray(masks))
        gpu = MaskSet(buffer)
        compare(gpu, MaskSet(masks), 7)
        assert hasattr(gpu.convex_hulls(), "__cuda_array_interface__")


def test_growth_counts_on_the_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    rng = np.random.default_rng(4)
    a, t, p = rng.random((3, 9, 64, 64)) < 0.5
    expected = growth_counts(a, t, p)
    cuda = [torch.from_numpy(x).cuda() for x in (a, t, p)]
    np.testing.assert_array_equal(growth_counts(*cuda), expected)
    flipped = [x.flip(-1) for x in cuda]
    np.testing.assert_array_equal(growth_counts(*flipped), growth_counts(a[..., ::-1], t[..., ::-1], p[..., ::-1]))
    with pytest.raises(ValueError, match="must all be on the host or all on the GPU"):
        growth_counts(cuda[0], t, p)
