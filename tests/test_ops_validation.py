"""Bad input gives a ValueError / TypeError naming the problem, from Python and from C++."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interorder_rt import _ext
from interorder_rt.ops import MaskSet, growth_counts
from interorder_rt.ops import reference as ref

C = _ext.compiled()
needs_c = pytest.mark.skipif(C is None, reason="interorder_rt._C is not built (test_build fails)")


@pytest.fixture
def masks() -> np.ndarray:
    out = np.zeros((4, 16, 70), bool)
    out[0, 2:9, 3:30] = True
    out[1, 5:15, 25:69] = True
    out[2, 0, 0] = True
    return out


@pytest.mark.parametrize(
    "value, error, words",
    [
        (np.zeros((16, 70), bool), ValueError, "(N, H, W)"),
        (np.zeros((1, 2, 16, 70), bool), ValueError, "(N, H, W)"),
        (np.zeros((2, 16, 70), np.float32), TypeError, "float32"),
        (np.zeros((2, 16, 70), np.int64), TypeError, "int64"),
        (torch.zeros((2, 16, 70), dtype=torch.float16), TypeError, "float16"),
        ([[[0, 1], [1, 0]]], TypeError, "int64"),
        ([], ValueError, "(N, H, W)"),
        (np.array(["masks"] * 8).reshape(2, 2, 2), TypeError, "<U5"),
    ],
)
def test_bad_masks(value, error, words):
    with pytest.raises(error) as info:
        MaskSet(value)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda ms: ms.union(4), ValueError, "out of range"),
        (lambda ms: ms.union([0, -5]), ValueError, "out of range"),
        (lambda ms: ms.intersection([1.5]), TypeError, "integer"),
        (lambda ms: ms.union([True, False]), TypeError, "integer"),
        (lambda ms: ms.difference(0, [[1]]), ValueError, "1-D"),
        (lambda ms: ms.crops([0, 1], [[0, 0, 5, 5]], 8), ValueError, "one (x0, y0, x1, y1) box per index"),
        (lambda ms: ms.crops([0], [[0, 0, 5, 5]], -1), ValueError, ">= 0"),
        (lambda ms: ms.crops([0], [[0, 0, 5, 5]], 2.5), TypeError, "integer"),
        (lambda ms: ms.crops([9], [[0, 0, 5, 5]], 4), ValueError, "out of range"),
    ],
)
def test_bad_queries(masks, call, error, words):
    with pytest.raises(error) as info:
        call(MaskSet(masks))
    assert words in str(info.value)


def test_bad_growth_inputs():
    a = np.zeros((2, 8, 8), bool)
    with pytest.raises(ValueError, match="same shape"):
        growth_counts(a, a, np.zeros((2, 8, 9), bool))
    with pytest.raises(TypeError, match="float64"):
        growth_counts(a, a, np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="amodal"):
        growth_counts(a[0], a, a)


def test_huge_crop_boxes_sample_like_the_reference(masks):
    boxes = [[-1e300, -1e300, 1e300, 1e300], [1e18, 1e18, 1e18 + 5, 1e18 + 5]]
    out = MaskSet(masks).crops([1, 0], boxes, 6)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(out, ref.crop_resize(masks, [1, 0], boxes, 6))


@pytest.mark.parametrize("box", [[np.nan, 0, 5, 5], [0, 0, np.inf, 5], [0, -np.inf, 5, 5]])
def test_non_finite_crop_boxes_are_refused(masks, box):
    with pytest.raises(ValueError, match="crop_boxes must be finite; box 1"):
        MaskSet(masks).crops([0, 1], [[0, 0, 5, 5], box], 6)


@needs_c
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda m, b, a, x: C.pack([[[1]]]), TypeError, "numpy.ndarray"),
        (lambda m, b, a, x: C.pack(m.astype(np.int16)), TypeError, "bool or uint8"),
        (lambda m, b, a, x: C.pack(m[0]), ValueError, "(N, H, W)"),
        (lambda m, b, a, x: C.unpack(b, 200), ValueError, "words per row"),
        (lambda m, b, a, x: C.unpack(b, -1), ValueError, "width"),
        (lambda m, b, a, x: C.unpack(b.astype(np.int64), 70), TypeError, "uint64"),
        (lambda m, b, a, x: C.unpack(b[:, :, ::-1], 70), ValueError, "C-contiguous"),
        (lambda m, b, a, x: C.union(b, 70, np.array([0, 4])), ValueError, "out of range"),
        (lambda m, b, a, x: C.union(b, 70, np.array([0, -1])), ValueError, "out of range"),
        (lambda m, b, a, x: C.union(b, 70, [0]), TypeError, "numpy.ndarray"),
        (lambda m, b, a, x: C.intersection_matrix(b, 70, x[:2], a), ValueError, "boxes must have shape"),
        (lambda m, b, a, x: C.intersection_matrix(b, 70, x + 100, a), ValueError, "outside the frame"),
        (lambda m, b, a, x: C.intersection_matrix(b, 70, x, a[:1]), ValueError, "areas"),
        (lambda m, b, a, x: C.bordering_matrix(b, 70, x.astype(np.int64)), TypeError, "int32"),
        (lambda m, b, a, x: C.crop_resize(b, 70, np.array([0]), np.zeros((2, 4)), 3), ValueError, "crop_boxes"),
        (lambda m, b, a, x: C.crop_resize(b, 70, np.array([0]), np.zeros((1, 4)), -3), ValueError, "size"),
        (lambda m, b, a, x: C.growth_counts(m, m, m[:2]), ValueError, "same shape"),
        (lambda m, b, a, x: C.set_num_threads(0), ValueError, ">= 1"),
    ],
)
def test_compiled_core_checks_its_arguments(masks, call, error, words):
    bits, areas, boxes = C.pack(masks)
    with pytest.raises(error) as info:
        call(masks, bits, areas, boxes)
    assert words in str(info.value)


def test_thread_setting_checks_its_argument():
    with pytest.raises(ValueError, match=">= 1"):
        _ext.set_num_threads(0)
    with pytest.raises(TypeError, match="int"):
        _ext.set_num_threads(2.0)


def test_cuda_arrays_without_usable_cuda_kernels_are_refused_clearly():
    if _ext.gpu_count() > 0:
        pytest.skip("a GPU is usable here: CUDA arrays are accepted")

    class DeviceOnly:  # device memory that only CUDA code can read
        __cuda_array_interface__ = {"shape": (1, 2, 2), "typestr": "|b1", "data": (0, False), "version": 3}

    with pytest.raises(TypeError, match="CUDA"):
        MaskSet(DeviceOnly())
    with pytest.raises(TypeError, match="CUDA"):
        growth_counts(DeviceOnly(), DeviceOnly(), DeviceOnly())
