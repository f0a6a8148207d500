"""``InstanceTracker.update`` on a 720p frame with N = 6 instances and 6 remembered tracks.

Two routes to the same IoU matrix, in one run: the tracker's (IoU on the masks' box crops, inside
the boxes' overlap) and MaskSet's compiled intersection matrix, which needs the remembered and
the new masks packed together (a full-frame copy and pack per frame).
Run: ``python -m pytest benchmarks/bench_track.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt.ops.maskset import MaskSet
from interorder_rt.synth import make_transfer_pair
from interorder_rt.track import InstanceTracker

GROUP = "tracker IoU, N=6, 1280x720"


@pytest.fixture(scope="module")
def masks() -> np.ndarray:
    return make_transfer_pair(31, setting="persons", height=720, width=1280).reference.modal


def test_tracker_update(benchmark, masks):
    tracker = InstanceTracker()
    boxes = MaskSet(masks).boxes()
    first = tracker.update(masks, boxes)
    benchmark.extra_info.update(ratio_group=GROUP, route="box crops")
    assert benchmark(tracker.update, masks, boxes) == first


def test_compiled_matrix_of_the_stacked_masks(benchmark, masks):
    benchmark.extra_info.update(ratio_group=GROUP, route="stack + compiled", baseline=True)
    matrix = benchmark(lambda: MaskSet(np.concatenate([masks, masks])).intersection_matrix())
    assert matrix.shape == (2 * len(masks), 2 * len(masks))
