"""The compiled MaskSet ops equal the NumPy reference bit for bit, on many shapes and inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from interorder_rt import _ext
from interorder_rt.ops import MaskSet, growth_counts
from interorder_rt.ops import reference as ref

pytestmark = pytest.mark.skipif(_ext.compiled() is None, reason="interorder_rt._C is not built (test_build fails)")

WIDTHS = [1, 2, 7, 63, 64, 65, 127, 130]


def shapes(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """N overlapping instance-like masks: filled ellipses and polygons of varied sizes, some empty."""
    out = np.zeros((n, h, w), np.uint8)
    for k in range(n):
        if rng.random() < 0.1:
            continue  # an empty mask
        cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
        scale = rng.uniform(0.02, 0.5) * max(h, w)
        if rng.random() < 0.5:
            axes = (int(rng.uniform(0.2, 1) * scale), int(rng.uniform(0.2, 1) * scale))
            cv2.ellipse(out[k], (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 9))))
            radii = scale * rng.uniform(0.3, 1.0, angles.size)
            pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1)
            cv2.fillPoly(out[k], [pts.round().astype(np.int32)], 1)
    return out.astype(bool)


def assert_all_ops_match(masks: np.ndarray, rng: np.random.Generator) -> None:
    ms = MaskSet(masks)
    n, h, w = masks.shape
    assert ms.backend == "cpu"
    np.testing.assert_array_equal(ms.to_numpy(), masks.astype(bool))
    np.testing.assert_array_equal(ms.areas(), ref.areas(masks))
    np.testing.assert_array_equal(ms.boxes(), ref.boxes(masks))
    np.testing.assert_array_equal(ms.intersection_matrix(), ref.intersection_matrix(masks))
    np.testing.assert_array_equal(ms.bordering_matrix(), ref.bordering_matrix(masks))
    np.testing.assert_array_equal(ms.convex_hulls(), ref.convex_hull_masks(masks))
    for _ in range(3):
        a = rng.integers(0, n, size=int(rng.integers(0, 4)))
        b = rng.integers(0, n, size=int(rng.integers(0, 4)))
        np.testing.assert_array_equal(ms.union(a), ref.union(masks, a))
        np.testing.assert_array_equal(ms.intersection(a), ref.intersection(masks, a))
        np.testing.assert_array_equal(ms.difference(a, b), ref.difference(masks, a, b))
    index = rng.integers(0, n, size=6)
    boxes = rng.uniform(-0.3, 1.3, size=(6, 4)) * [w, h, w, h]
    for size in (1, 5, 16):
        np.testing.assert_array_equal(ms.crops(index, boxes, size), ref.crop_resize(masks, index, boxes, size))


@pytest.mark.parametrize("w", WIDTHS)
def test_widths_not_multiple_of_64(w):
    rng = np.random.default_rng(w)
    assert_all_ops_match(shapes(rng, 9, 37, w), rng)


@pytest.mark.parametrize("n,h,w", [(1, 1, 1), (2, 1, 5), (3, 64, 1), (16, 48, 96), (64, 40, 65), (64, 96, 127)])
def test_counts_and_sizes(n, h, w):
    rng = np.random.default_rng(n * 1000 + h + w)
    assert_all_ops_match(shapes(rng, n, h, w), rng)


def test_noise_masks_and_boxes_touching_the_frame():
    rng = np.random.default_rng(1)
    masks = rng.random((12, 33, 129)) < 0.05
    masks[3] = True  # full frame
    masks[4] = False
    masks[5, :, -1] = True  # last column only
    assert_all_ops_match(masks, rng)


def test_hull_degenerate_masks():
    masks = np.zeros((6, 20, 70), bool)
    masks[0, 5, 9] = True  # a point
    masks[1, 3, 2:60] = True  # a horizontal segment
    masks[2, 1:19, 66] = True  # a vertical segment
    masks[3, [2, 5, 8, 11], [3, 9, 15, 21]] = True  # collinear, slope 2: on-line pixels only
    masks[4, [0, 19], [0, 69]] = True  # two far corners: the exact lattice points of the segment
    masks[5, [0, 19, 10], [0, 0, 69]] = True  # a thin triangle
    np.testing.assert_array_equal(MaskSet(masks).convex_hulls(), ref.convex_hull_masks(masks))


def test_crop_edges_exact():
    rng = np.random.default_rng(2)
    masks = shapes(rng, 4, 50, 77)
    boxes = np.array([[0, 0, 77, 50], [10.5, 3.25, 11.5, 4.25], [-5, -5, 90, 60], [40, 40, 20, 20]], float)
    index = [0, 1, 2, 3]
    for size in (1, 3, 64, 100):
        expected = ref.crop_resize(masks, index, boxes, size)
        np.testing.assert_array_equal(MaskSet(masks).crops(index, boxes, size), expected)


def test_non_boolean_uint8_values_count_as_set():
    rng = np.random.default_rng(3)
    masks = shapes(rng, 5, 30, 70).astype(np.uint8) * rng.integers(1, 256, size=(5, 30, 70)).astype(np.uint8)
    ms = MaskSet(masks)
    np.testing.assert_array_equal(ms.to_numpy(), masks != 0)
    np.testing.assert_array_equal(ms.intersection_matrix(), ref.intersection_matrix(masks != 0))


def test_strided_views_are_read_in_place():
    rng = np.random.default_rng(4)
    big = shapes(rng, 10, 60, 140)
    views = [big[::2], big[:, ::3, 1::2], big[::-1, :, ::-1], np.transpose(big, (0, 2, 1)), np.asfortranarray(big)]
    for view in views:
        ms = MaskSet(view)
        np.testing.assert_array_equal(ms.to_numpy(), view)
        np.testing.assert_array_equal(ms.bordering_matrix(), ref.bordering_matrix(view))


def test_torch_dlpack_and_sequence_inputs():
    rng = np.random.default_rng(5)
    masks = shapes(rng, 6, 25, 66)
    expected = ref.intersection_matrix(masks)
    inputs = [torch.from_numpy(masks), torch.from_numpy(masks.astype(np.uint8)), list(masks)]
    for value in inputs:
        np.testing.assert_array_equal(MaskSet(value).intersection_matrix(), expected)

    class Producer:  # a bare DLPack producer
        def __dlpack__(self, **kwargs):
            return masks.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return masks.__dlpack_device__()

    np.testing.assert_array_equal(MaskSet(Producer()).intersection_matrix(), expected)


def test_index_forms():
    masks = shapes(np.random.default_rng(6), 5, 20, 40)
    ms = MaskSet(masks)
    np.testing.assert_array_equal(ms.union(-1), masks[4])
    np.testing.assert_array_equal(ms.union(np.int32(2)), masks[2])
    np.testing.assert_array_equal(ms.union([]), np.zeros((20, 40), bool))
    np.testing.assert_array_equal(ms.intersection(()), np.zeros((20, 40), bool))
    np.testing.assert_array_equal(ms.difference([0, 1], []), masks[0] | masks[1])
    np.testing.assert_array_equal(ms.union(torch.tensor([0, 3])), masks[0] | masks[3])


def test_zero_and_one_masks_and_empty_frames():
    for shape in [(0, 10, 10), (1, 10, 10), (3, 0, 5), (3, 5, 0), (0, 0, 0)]:
        masks = np.ones(shape, bool)
        ms = MaskSet(masks)
        assert (ms.n, ms.height, ms.width) == shape
        np.testing.assert_array_equal(ms.areas(), ref.areas(masks))
        np.testing.assert_array_equal(ms.boxes(), ref.boxes(masks))
        np.testing.assert_array_equal(ms.intersection_matrix(), ref.intersection_matrix(masks))
        np.testing.assert_array_equal(ms.bordering_matrix(), ref.bordering_matrix(masks))
        np.testing.assert_array_equal(ms.convex_hulls(), ref.convex_hull_masks(masks))
        assert ms.crops([], np.zeros((0, 4)), 8).shape == (0, 8, 8)


def test_crops_of_empty_frames_are_zero():
    ms = MaskSet(np.ones((2, 0, 7), bool))
    np.testing.assert_array_equal(ms.crops([0, 1], [[0, 0, 7, 3], [-1, -1, 2, 2]], 4), np.zeros((2, 4, 4), np.uint8))
    np.testing.assert_array_equal(ref.crop_resize(np.ones((2, 0, 7), bool), [0, 1], [[0, 0, 7, 3], [-1, -1, 2, 2]], 4),
                                  np.zeros((2, 4, 4), np.uint8))


def test_many_masks():
    rng = np.random.default_rng(7)
    masks = rng.random((1000, 4, 5)) < 0.3
    ms = MaskSet(masks)
    np.testing.assert_array_equal(ms.intersection_matrix(), ref.intersection_matrix(masks))
    np.testing.assert_array_equal(ms.bordering_matrix(), ref.bordering_matrix(masks))


def test_growth_counts_match_reference():
    rng = np.random.default_rng(8)
    a, t, p = rng.random((3, 7, 33, 33)) < 0.5
    expected = ref.growth_counts(a, t, p)
    np.testing.assert_array_equal(growth_counts(a, t, p), expected)
    np.testing.assert_array_equal(growth_counts(a.astype(np.uint8) * 3, t, torch.from_numpy(p)), expected)
    np.testing.assert_array_equal(growth_counts(a[:, ::-1, ::-1], t[:, ::-1, ::-1], p[:, ::-1, ::-1]), expected)
    assert growth_counts(a[:0], t[:0], p[:0]).shape == (0,)


def test_thread_counts_do_not_change_results():
    rng = np.random.default_rng(9)
    masks = shapes(rng, 24, 200, 300)
    before = _ext.num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            _ext.set_num_threads(threads)
            ms = MaskSet(masks)
            results.append((ms.intersection_matrix(), ms.bordering_matrix(), ms.convex_hulls()))
    finally:
        _ext.set_num_threads(before)
    for other in results[1:]:
        for x, y in zip(results[0], other):
            np.testing.assert_array_equal(x, y)


def test_reference_fallback_has_the_same_api(monkeypatch):
    masks = shapes(np.random.default_rng(10), 5, 21, 67)
    compiled = MaskSet(masks)
    monkeypatch.setattr(_ext, "compiled", lambda: None)
    fallback = MaskSet(masks)
    assert fallback.backend == "numpy"
    for op in ("areas", "boxes", "intersection_matrix", "bordering_matrix", "convex_hulls", "to_numpy"):
        np.testing.assert_array_equal(getattr(fallback, op)(), getattr(compiled, op)())
    np.testing.assert_array_equal(fallback.union([0, -1]), compiled.union([0, -1]))
    np.testing.assert_array_equal(fallback.crops([1], [[0, 0, 30, 30]], 9), compiled.crops([1], [[0, 0, 30, 30]], 9))
    a, t, p = masks[:3], masks[1:4], masks[2:5]
    np.testing.assert_array_equal(growth_counts(a, t, p), ref.growth_counts(a, t, p))


def test_the_packed_boxes_listed_equal_the_engines_mask_boxes():
    from interorder_rt.compose import listed_boxes, mask_boxes

    rng = np.random.default_rng(0)
    for _ in range(30):
        masks = rng.random((4, 37, 70)) < rng.random() * 0.02
        masks[rng.integers(4)] = False  # an empty mask has no box
        assert listed_boxes(MaskSet(masks).boxes()) == mask_boxes(masks)
