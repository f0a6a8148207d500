"""The compiled triangle rasterizer: against its NumPy twin, watertight meshes, depth, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt.pose.raster import internal_edges, rasterize, rasterize_reference

pytestmark = pytest.mark.skipif(_ext.compiled() is None, reason="interorder_rt._C is not built")


def grid_mesh(rng: np.random.Generator, n: int, size: float, jitter: float):
    """(target, source, triangles) of an n x n grid of squares split in two, vertices jittered."""
    ys, xs = np.mgrid[0 : n + 1, 0 : n + 1].astype(np.float32) * (size / n) + 3
    points = np.stack([xs.ravel(), ys.ravel()], axis=1)
    inner = (xs.ravel() > 3) & (xs.ravel() < size + 3) & (ys.ravel() > 3) & (ys.ravel() < size + 3)
    points[inner] += rng.uniform(-jitter, jitter, (int(inner.sum()), 2)).astype(np.float32)
    idx = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    triangles = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)]).astype(np.int32)
    return points, triangles


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    target, triangles = grid_mesh(rng, 7, 40.0, 1.5)
    source = target * rng.uniform(0.5, 1.5) + rng.uniform(-5, 5, 2).astype(np.float32)
    texture = rng.integers(0, 256, (3, 50, 60, 3), dtype=np.uint8)
    planes = rng.integers(0, 3, len(triangles)).astype(np.int32)
    depth = rng.integers(0, 3, len(triangles)).astype(np.float32)
    internal = internal_edges(triangles) if seed % 2 else np.zeros(len(triangles), np.uint8)
    return texture, target, source.astype(np.float32), triangles, planes, depth, 48, 50, internal


@pytest.mark.parametrize("seed", range(4))
def test_compiled_equals_numpy_twin(seed):
    case = random_case(seed)
    *args, h, w, internal = case
    compiled, reference = rasterize(*case), rasterize_reference(*args, internal, h, w)
    np.testing.assert_array_equal(compiled.owner, reference.owner)
    np.testing.assert_array_equal(compiled.alpha, reference.alpha)
    np.testing.assert_array_equal(compiled.rgb, reference.rgb)
    np.testing.assert_array_equal(compiled.source_xy, reference.source_xy)


@pytest.mark.parametrize("centre_only_inside", [False, True])
def test_a_jittered_grid_has_no_holes_and_a_soft_edge(centre_only_inside):
    rng = np.random.default_rng(3)
    target, triangles = grid_mesh(rng, 12, 40.0, 1.4)
    texture = np.full((1, 50, 50, 3), 200, np.uint8)
    internal = internal_edges(triangles) if centre_only_inside else None
    raster = rasterize(texture, target, target, triangles, np.zeros(len(triangles), np.int32),
                       np.zeros(len(triangles), np.float32), 50, 50, internal)
    inside = raster.alpha[4:43, 4:43]
    assert (inside == 255).all() and (raster.owner[4:43, 4:43] >= 0).all()
    edge = raster.alpha[3, 4:43]  # the edge y = 3 runs through pixel centres: half covered
    if centre_only_inside:  # a pixel holding a vertex of triangles with centre-only edges reads as whole
        assert set(np.unique(edge)) <= {128, 255} and (edge == 128).mean() > 0.6
    else:
        assert set(np.unique(edge)) == {128}
    assert (raster.alpha[:2] == 0).all() and (raster.owner[:2] == -1).all()
    assert np.isnan(raster.source_xy[0, 0]).all()


def test_nearer_layer_wins_and_texture_follows_the_map():
    square = np.float32([[0, 0], [20, 0], [20, 20], [0, 20]])
    target = np.concatenate([square + 2, square + 10])
    source = np.concatenate([square, square])
    triangles = np.int32([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]])
    texture = np.stack([np.full((21, 21, 3), 10, np.uint8), np.full((21, 21, 3), 250, np.uint8)])
    for near in (0, 1):
        depth = np.float32([1, 1, 0, 0]) if near == 0 else np.float32([0, 0, 1, 1])
        raster = rasterize(texture, target, source, triangles, np.int32([0, 0, 1, 1]), depth, 40, 40)
        assert raster.rgb[15, 15, 0] == (10 if near == 0 else 250)
    np.testing.assert_allclose(raster.source_xy[15, 15], [5, 5])


def test_degenerate_and_non_finite_triangles_are_skipped():
    target = np.float32([[1, 1], [10, 1], [1, 10], [5, 5], [np.nan, 3]])
    triangles = np.int32([[0, 1, 2], [0, 3, 3], [0, 1, 4]])
    raster = rasterize(np.zeros((1, 4, 4, 3), np.uint8), target, target, triangles, np.zeros(3, np.int32),
                       np.zeros(3, np.float32), 12, 12)
    assert set(np.unique(raster.owner)) == {-1, 0}


def test_bad_arguments_raise_clear_errors():
    target = np.float32([[1, 1], [10, 1], [1, 10]])
    good = (np.zeros((1, 4, 4, 3), np.uint8), target, target, np.int32([[0, 1, 2]]), np.int32([0]),
            np.float32([0]), np.uint8([0]), 8, 8)
    C = _ext.compiled()
    with pytest.raises(ValueError, match="triangles holds 3"):
        C.rasterize(*good[:3], np.int32([[0, 1, 3]]), *good[4:])
    with pytest.raises(ValueError, match="planes holds 1"):
        C.rasterize(*good[:4], np.int32([1]), *good[5:])
    with pytest.raises(TypeError, match="dtype"):
        C.rasterize(*good[:1], target.astype(np.float64), *good[2:])
    with pytest.raises(ValueError, match="source must have shape"):
        C.rasterize(*good[:2], target[:2], *good[3:])


@pytest.mark.skipif(_ext.gpu_count() == 0, reason="no usable CUDA GPU (or no CUDA kernels built)")
@pytest.mark.parametrize("seed", range(3))
def test_cuda_equals_cpu(seed):
    C = _ext.compiled()
    texture, target, source, triangles, planes, depth, h, w, internal = random_case(seed)
    cpu = rasterize(texture, target, source, triangles, planes, depth, h, w, internal)

    def upload(array):
        buffer = C.DeviceBuffer(list(array.shape), array.dtype.str, 0, 0)
        buffer.copy_from(np.ascontiguousarray(array))
        return buffer

    inputs = [upload(a) for a in (texture, target, source, triangles, planes, depth, internal)]
    outputs = [C.DeviceBuffer(shape, typestr, 0, 0)
               for shape, typestr in (([h, w, 3], "|u1"), ([h, w], "|u1"), ([h, w], "<i4"), ([h, w, 2], "<f4"))]
    C.cuda_rasterize(inputs[0].ptr, list(texture.shape[:3]), inputs[1].ptr, inputs[2].ptr, len(target),
                     inputs[3].ptr, inputs[4].ptr, inputs[5].ptr, inputs[6].ptr, len(triangles), h, w,
                     *(o.ptr for o in outputs), 0, 0)
    rgb, alpha, owner, source_xy = (o.to_numpy() for o in outputs)
    np.testing.assert_array_equal(owner, cpu.owner)
    np.testing.assert_array_equal(alpha, cpu.alpha)
    np.testing.assert_array_equal(rgb, cpu.rgb)
    np.testing.assert_array_equal(source_xy, cpu.source_xy)
