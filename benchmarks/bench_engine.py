"""``Engine.run`` per 256 x 256 frame, with per-stage timings, against an order-blind baseline.

Both entries of the group work on the same transfer pair with the shipped weights: the full
pipeline (ORNet order, part warp, MNet completion, layered merge), and the naive transfer (the
same part warp, pasted on top). pytest-benchmark's table shows their ratio: the price of
order-awareness. The full pipeline's per-stage medians (ms) are stored in ``extra_info``.
Run: ``python -m pytest benchmarks/bench_engine.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt.compose import paste_on_top
from interorder_rt.engine import Engine
from interorder_rt.frame import Frame
from interorder_rt.result import STAGES
from interorder_rt.synth import make_transfer_pair

SEED = 0

pytestmark = pytest.mark.usefixtures("torch_threads")


@pytest.fixture(scope="module")
def setup() -> tuple[Engine, Frame]:
    pair = make_transfer_pair(SEED, setting="persons", height=256, width=256)
    engine = Engine()
    src = pair.source
    engine.set_source(src.image, keypoints=src.instances[pair.source_index].keypoints, masks=src.modal,
                      index=pair.source_index)
    ref, y = pair.reference, pair.reference_index
    return engine, Frame(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)


@pytest.mark.benchmark(group="engine-run-256")
def test_engine_run(benchmark, setup):
    engine, frame = setup
    timings = []

    def run():
        result = engine.run(frame)
        timings.append(result.timings.as_dict())
        return result

    result = benchmark(run)
    assert result.image.shape == (256, 256, 3)
    benchmark.extra_info["stage_median_ms"] = {s: round(float(np.median([t[s] for t in timings])), 2) for s in STAGES}


@pytest.mark.benchmark(group="engine-run-256")
def test_naive_paste_baseline(benchmark, setup):
    engine, frame = setup

    def run():
        rgb, mask = engine.pose(engine.source, frame.keypoints, frame.image.shape[:2])
        return paste_on_top(frame.image, rgb, mask)

    assert benchmark(run).shape == (256, 256, 3)
