"""Speed of synthetic data generation at 256 x 256 on one core (OpenCV pinned to one thread).

Run: ``python -m pytest benchmarks/bench_synth.py --benchmark-only``. The baseline is
``Scene.from_layers`` on already rendered layers (painting + ground truth only), so the other
rows read as "how many times the cost of painting a scene"; ``generate_scene``'s ops/s is the
scenes/s figure.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from interorder_rt.synth import (Scene, generate_scene, make_sequence, make_transfer_pair, render_person,
                                 sample_identity, sample_pose)
from interorder_rt.synth.background import sample_background
from interorder_rt.synth.generate import sample_object_near
from interorder_rt.synth.layers import object_layer, person_layer

SIZE = 256


@pytest.fixture(autouse=True)
def one_thread():
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(threads)


def _layers(seed: int):
    rng = np.random.default_rng(seed)
    layers = [person_layer(sample_identity(rng, k), sample_pose(rng, SIZE, SIZE), SIZE, SIZE, k) for k in range(2)]
    for k in range(4):
        layers.append(object_layer(sample_object_near(rng, SIZE, SIZE, [layers[0].amodal]), SIZE, SIZE, 2 + k))
    return sample_background(rng, SIZE, SIZE), layers


def test_baseline_paint_six_layers(benchmark):
    background, layers = _layers(0)
    scene = benchmark(Scene.from_layers, background, layers)
    assert scene.n == 6


def test_generate_scene(benchmark):
    seeds = itertools.count()
    scene = benchmark(lambda: generate_scene(next(seeds), height=SIZE, width=SIZE))
    assert scene.n >= 1


def test_render_person(benchmark):
    rng = np.random.default_rng(1)
    identity, poses = sample_identity(rng, 0), itertools.cycle([sample_pose(rng, SIZE, SIZE) for _ in range(32)])
    _, mask = benchmark(lambda: render_person(identity, next(poses), SIZE, SIZE))
    assert mask.dtype == bool


def test_make_transfer_pair(benchmark):
    seeds = itertools.count()
    pair = benchmark(lambda: make_transfer_pair(next(seeds), setting="persons", height=SIZE, width=SIZE))
    assert pair.target.n == pair.reference.n


def test_sequence_frame(benchmark):
    frames = benchmark.pedantic(make_sequence, args=(0, 16), kwargs={"height": SIZE, "width": SIZE}, rounds=3)
    assert len(frames) == 16  # per-frame cost: the mean divided by 16
