"""Speed of the heuristic order baselines on one synthetic scene (run: pytest benchmarks/bench_eval.py).

The three share a group, so pytest-benchmark prints each one's time as a ratio to the fastest.
Convex is bound by ``MaskSet.convex_hulls()``; the compiled kernel should close most of its gap.
"""

from __future__ import annotations

import pytest

from interorder_rt.eval.baselines import order_by_area, order_by_convex, order_by_yaxis
from interorder_rt.ops import MaskSet
from interorder_rt.synth import generate_scene


@pytest.fixture(scope="module")
def scene_masks() -> MaskSet:
    return MaskSet(generate_scene(0).modal)


@pytest.mark.benchmark(group="order-baselines")
@pytest.mark.parametrize("method", [order_by_area, order_by_yaxis, order_by_convex], ids=["area", "yaxis", "convex"])
def test_baseline_speed(benchmark, scene_masks, method):
    result = benchmark(method, scene_masks, None)
    assert result.order.shape == (scene_masks.n, scene_masks.n)
