"""Order recovery of one 256 x 256 frame with 8 instances: batched ORNet against a per-pair loop.

All use the shipped ORNet weights on the same frame. ``OrderRecovery`` crops every bordering
pair with the mask kernels into one batch and runs one forward pass (batch norm folded), with
each backend: ONNX Runtime (the default on the CPU) and torch (channels-last). The baseline is the
published de-occlusion code's way: plain NumPy mask ops, and for each ordered pair a crop, one
eager forward of the model as trained on a batch of one, a threshold and a count. The run ends
with the speed-up of each batched route over the loop; the batched tests also check that they
give the loop's order. Run:
``python -m pytest benchmarks/bench_order_recovery.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interorder_rt.backends import onnx_runtime
from interorder_rt.models.ornet import build_input, load_ornet
from interorder_rt.ops import MaskSet, order_from_growth, reference
from interorder_rt.order_recovery import SHIPPED_WEIGHTS, OrderRecovery, target_crop_boxes

pytestmark = pytest.mark.usefixtures("torch_threads")


def naive_order(model: torch.nn.Module, masks: np.ndarray) -> np.ndarray:
    """NumPy mask ops and one crop and eager forward per ordered bordering pair; same order rule."""
    config = model.config
    growth = np.zeros((len(masks), len(masks)))
    boxes = reference.boxes(masks)
    for i, j in zip(*np.nonzero(reference.bordering_matrix(masks))):
        box = target_crop_boxes(boxes[i], config.enlarge, config.max_aspect)
        target, partner = reference.crop_resize(masks, [i, j], np.repeat(box, 2, axis=0), config.size).astype(bool)
        with torch.no_grad():
            logits = model(build_input(target[None], partner[None]))
        count = reference.growth_counts(logits.numpy() > 0, target[None], partner[None])[0]
        growth[i, j] = count * (box[0, 2] - box[0, 0]) * (box[0, 3] - box[0, 1]) / config.size**2
    return order_from_growth(growth)


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
@pytest.mark.benchmark(group="order-recovery-n8-256", min_rounds=50)
def test_ornet_batched(benchmark, eight_instances, torch_threads, backend):
    if backend == "onnxruntime" and not onnx_runtime.available():
        pytest.skip("onnx / onnxruntime not installed")
    recovery = OrderRecovery(backend=backend, threads=torch_threads)
    maskset = MaskSet(eight_instances)
    benchmark.extra_info.update(
        ratio_group="order recovery, N=8 at 256², 2 threads", route=f"batched {backend}",
        target={"vs": "naive loop", "min": 5},
    )
    result = benchmark(recovery, maskset)
    np.testing.assert_array_equal(result.order, naive_order(load_ornet(SHIPPED_WEIGHTS), eight_instances))


@pytest.mark.benchmark(group="order-recovery-n8-256", min_rounds=50)
def test_ornet_naive_loop(benchmark, eight_instances):
    model = load_ornet(SHIPPED_WEIGHTS)
    benchmark.extra_info.update(ratio_group="order recovery, N=8 at 256², 2 threads", route="naive loop", baseline=True)
    benchmark(naive_order, model, eight_instances)
