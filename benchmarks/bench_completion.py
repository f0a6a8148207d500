"""Content completion per call at 256 x 256: MNet against OpenCV Telea in the same run.

One occluded instance (``complete``) and one freed background hole (``fill_background``); each
group holds MNet and the Telea baseline given the same pixels, so pytest-benchmark's table shows
their ratio. Run: ``python -m pytest benchmarks/bench_completion.py``.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from interorder_rt.completion import ContentCompletion
from interorder_rt.eval.completion import background_cases, inpaint_instance, instance_cases
from interorder_rt.synth import generate_scene

SEED = 7


@pytest.fixture(scope="module")
def completer():
    torch.set_num_threads(1)  # per-call latency on one core, as in a real-time loop with other work
    return ContentCompletion()


@pytest.fixture(scope="module")
def instance_case():
    image, visible, amodal, _ = max(instance_cases(generate_scene(SEED)), key=lambda c: (c[2] & ~c[1]).sum())
    return image, visible, amodal


@pytest.fixture(scope="module")
def background_case():
    image, hole, _ = max(background_cases(generate_scene(SEED)), key=lambda c: c[1].sum())
    return image, hole


@pytest.mark.benchmark(group="completion-instance-256")
def test_mnet_instance(benchmark, completer, instance_case):
    out = benchmark(completer.complete, *instance_case)
    assert out.shape == instance_case[0].shape


@pytest.mark.benchmark(group="completion-instance-256")
def test_telea_instance(benchmark, instance_case):
    benchmark(inpaint_instance, *instance_case, cv2.INPAINT_TELEA)


@pytest.mark.benchmark(group="completion-background-256")
def test_mnet_background(benchmark, completer, background_case):
    out = benchmark(completer.fill_background, *background_case)
    assert out.shape == background_case[0].shape


@pytest.mark.benchmark(group="completion-background-256")
def test_telea_background(benchmark, background_case):
    image, hole = background_case
    benchmark(cv2.inpaint, image, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)
