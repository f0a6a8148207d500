"""Background fill of a 720p frame with one 400 px tall person removed: old (MNet) vs new
(PatchMatch exemplar fill) vs the background memory of a stream, in the same run, on 2 cores.
One more row fills only what a new person standing in the old one's place leaves in sight
(``compose.sight``: the same pixels there, the full-size level's work cut to them). A second
group times the removal's outline snap on that person (``compose.outline``): the compiled kernel
against its NumPy reference.

Budgets (issue 11, medians on 2 cores): the still-frame fill at most 25 ms, the fill from the
memory at most 3 ms. Each route records its median and whether it met its budget in
``extra_info``; the ratio table (``benchmarks/conftest.py``) prints the speed-ups over the old
fill. Run: ``python -m pytest benchmarks/bench_fill.py``.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt.completion import ContentCompletion
from interorder_rt.compose import BackgroundMemory, grow_targets, outline
from interorder_rt.compose.removal import margin_pixels

from conftest import CPU_THREADS

GROUP = "fill 720p, one 400 px person"
HEIGHT, WIDTH = 720, 1280


def _frame() -> np.ndarray:
    """A textured 720p frame: smooth shading, stripes and fine noise (deterministic)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = 110 + 40 * np.sin(x / 37.0) * np.cos(y / 53.0) + 25 * ((x + 2 * y) % 48 < 6)
    rgb = np.stack([base, 0.9 * base + 20, 0.7 * base + 30], axis=-1) + rng.normal(0, 12, (HEIGHT, WIDTH, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _person(cx: int) -> np.ndarray:
    """A 400 px tall standing silhouette (head, torso, arms, legs) centred on column ``cx``."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    top = 200
    cv2.ellipse(mask, (cx, top + 30), (24, 30), 0, 0, 360, 1, -1)
    cv2.ellipse(mask, (cx, top + 140), (55, 85), 0, 0, 360, 1, -1)
    for side in (-1, 1):
        cv2.line(mask, (cx + side * 45, top + 80), (cx + side * 80, top + 220), 1, 22)
        cv2.line(mask, (cx + side * 20, top + 210), (cx + side * 35, top + 400), 1, 30)
    return mask.astype(bool)


@pytest.fixture(scope="module")
def scene():
    before = _ext.num_threads()
    _ext.set_num_threads(CPU_THREADS)
    yield _frame(), _person(640)
    _ext.set_num_threads(before)


def _record(benchmark, budget_ms: float | None) -> None:
    median = benchmark.stats.stats.median * 1e3
    benchmark.extra_info["median_ms"] = median
    if budget_ms is not None:
        benchmark.extra_info["budget_ms"] = budget_ms
        benchmark.extra_info["budget_met"] = median <= budget_ms


def test_fill_mnet(benchmark, scene, torch_threads):
    image, hole = scene
    completer = ContentCompletion(threads=CPU_THREADS)
    benchmark.extra_info.update(ratio_group=GROUP, route="old: MNet + Telea", baseline=True)
    out = benchmark(completer.fill_background, image, hole)
    _record(benchmark, None)
    assert out.shape == image.shape


def test_fill_exemplar(benchmark, scene):
    image, hole = scene
    completer = ContentCompletion(background="exemplar", instance="exemplar")
    benchmark.extra_info.update(ratio_group=GROUP, route="new: PatchMatch")
    out = benchmark(completer.fill_background, image, hole, np.zeros_like(hole))
    _record(benchmark, 25.0)
    assert not np.array_equal(out[hole], image[hole])


def _new_person(hole: np.ndarray) -> np.ndarray:
    """A new person in the old one's place: its silhouette shifted 12 px and slimmed by 4 px."""
    moved = np.roll(hole, 12, axis=1)
    return cv2.erode(moved.view(np.uint8), np.ones((9, 9), np.uint8)).view(bool)


def test_fill_exemplar_in_sight(benchmark, scene):
    image, hole = scene
    completer = ContentCompletion(background="exemplar", instance="exemplar")
    shown = ~_new_person(hole)
    benchmark.extra_info.update(ratio_group=GROUP, route="new: PatchMatch, in sight only",
                                shown_share=round(float((hole & shown).sum() / hole.sum()), 3))
    out = benchmark(completer.fill_background, image, hole, np.zeros_like(hole), shown)
    whole = completer.fill_background(image, hole, np.zeros_like(hole))
    _record(benchmark, 25.0)
    assert np.array_equal(out[hole & shown], whole[hole & shown])


def test_fill_from_memory(benchmark, scene):
    image, hole = scene
    memory = BackgroundMemory("static")
    memory.update(image, _person(300))  # an earlier frame: the person stood elsewhere
    benchmark.extra_info.update(ratio_group=GROUP, route="new: background memory")
    out, rest = benchmark(memory.recall, image, hole)
    _record(benchmark, 3.0)
    assert not rest.any() and np.array_equal(out[hole], image[hole])


OUTLINE_GROUP = "outline snap 720p, one 400 px person"


@pytest.fixture(scope="module")
def loose_person(scene):
    """The outline step's inputs for the person grown by its margin, as ``grow_targets`` passes
    them (its window of ``SNAP_PAD`` margins around), with a 3 px rim its mask misses."""
    image, hole = scene
    image = image.copy()
    grown = grow_targets(hole[None], [0], [0], 0.01)[0]
    m = margin_pixels(hole, 0.01)
    rim = cv2.dilate(grown.view(np.uint8), np.ones((7, 7), np.uint8)).view(bool) & ~grown
    image[rim] = (30, 60, 200)
    ys, xs = np.nonzero(hole)
    pad = m + outline.SNAP_PAD * m
    window = np.s_[max(ys.min() - pad, 0) : ys.max() + pad + 1, max(xs.min() - pad, 0) : xs.max() + pad + 1]
    return np.ascontiguousarray(image[window]), grown[window], ~grown[window], m


def test_outline_reference(benchmark, loose_person):
    benchmark.extra_info.update(ratio_group=OUTLINE_GROUP, route="NumPy reference", baseline=True)
    out = benchmark(outline.foreign_outline_reference, *loose_person)
    _record(benchmark, None)
    assert out.any()


@pytest.mark.skipif(_ext.compiled() is None, reason="interorder_rt._C is not built")
def test_outline_kernel(benchmark, loose_person):
    benchmark.extra_info.update(ratio_group=OUTLINE_GROUP, route="compiled kernel")
    out = benchmark(outline.foreign_outline, *loose_person)
    _record(benchmark, None)
    assert np.array_equal(out, outline.foreign_outline_reference(*loose_person))
