"""The CUDA PatchMatch fill equals the CPU one bit for bit (skipped when no GPU is usable)."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt.compose.exemplar import ExemplarOptions, patchmatch_cuda

pytestmark = pytest.mark.skipif(_ext.gpu_count() == 0, reason="no usable CUDA GPU (or no CUDA kernels built)")


@pytest.mark.parametrize("seed,shape", [(0, (40, 56)), (1, (97, 131)), (2, (200, 150))])
@pytest.mark.parametrize("options", [ExemplarOptions(), ExemplarOptions(iterations=3, finest_iterations=2)])
def test_cuda_fill_equals_cpu(seed, shape, options):
    rng = np.random.default_rng(seed)
    h, w = shape
    image = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    image[:, ::5] //= 2  # some structure
    y, x = np.mgrid[0:h, 0:w]
    hole = (y - h // 2) ** 2 / (h / 4) ** 2 + (x - w // 3) ** 2 / (w / 5) ** 2 <= 1
    hole[: h // 6, -w // 6 :] = True  # a second hole on the border
    source = ~hole & (rng.random((h, w)) > 0.02)
    cpu = _ext.compiled().patchmatch_fill(
        image, hole, source, iterations=options.iterations, finest_iterations=options.finest_iterations,
        coarsest_side=options.coarsest_side, local_radius=options.local_radius, seed=options.seed,
    )
    gpu = patchmatch_cuda(image, hole, source, options)
    np.testing.assert_array_equal(gpu, cpu)


@pytest.mark.parametrize("seed", [0, 3])
def test_cuda_fill_of_the_shown_pixels_equals_cpu(seed):
    rng = np.random.default_rng(seed)
    h, w = 120, 160
    image = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[20:100, 40:120] = True
    shown = ~np.pad(np.ones((60, 60), bool), ((30, 30), (50, 50)))  # a ring of the hole is seen
    cpu = _ext.compiled().patchmatch_fill(image, hole, ~hole, shown=shown)
    gpu = patchmatch_cuda(image, hole, ~hole, shown=shown)
    np.testing.assert_array_equal(gpu, cpu)


def test_cuda_fill_without_source_reports_it():
    image = np.zeros((30, 30, 3), np.uint8)
    hole = np.ones((30, 30), bool)
    assert patchmatch_cuda(image, hole, ~hole) is None
