"""Mask pair matrices: compiled kernels vs the NumPy reference vs pycocotools, in one run.

For N in {8, 32, 64} instance masks of 256² and 1024² (overlapping ellipses and polygons of
varied sizes), times the N x N intersection-count and bordering matrices by route:
- ``compiled``: the op on a built MaskSet; ``pack``: building the MaskSet; ``pack+compiled``: both;
- ``numpy``: ``ops.reference``; ``pycocotools``: RLE encode + area/iou (bordering: cv2 cross
  dilation, then encode both and test iou > 0).
Every route's result is checked against the reference. The ratio table at the end comes from
benchmarks/conftest.py. Targets: compiled >= 30x the NumPy reference at N=32, 1024², and
pack+compiled faster than pycocotools including its encode.
Run: ``python -m pytest benchmarks/bench_masks.py``
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import pytest
from pycocotools import mask as coco

from interorder_rt.ops import MaskSet
from interorder_rt.ops import reference as ref

COUNTS = (8, 32, 64)
SIZES = (256, 1024)
CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


@lru_cache(maxsize=None)
def instances(n: int, size: int) -> np.ndarray:
    """N overlapping instance masks: ellipses and polygons around a few cluster centres."""
    rng = np.random.default_rng(n * 10_000 + size)
    clusters = rng.uniform(0.2, 0.8, size=(max(1, n // 6), 2)) * size
    out = np.zeros((n, size, size), np.uint8)
    for k in range(n):
        cx, cy = clusters[k % len(clusters)] + rng.normal(0, 0.08 * size, 2)
        radius = size * rng.uniform(0.03, 0.3)
        if k % 2:
            axes = (int(radius), int(radius * rng.uniform(0.3, 1.0)))
            cv2.ellipse(out[k], (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 12))))
            radii = radius * rng.uniform(0.4, 1.0, angles.size)
            pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1).round().astype(np.int32)
            cv2.fillPoly(out[k], [pts], 1)
    return out.view(bool)


@lru_cache(maxsize=None)
def expected(op: str, n: int, size: int) -> np.ndarray:
    masks = instances(n, size)
    return ref.intersection_matrix(masks) if op == "intersection" else ref.bordering_matrix(masks)


def rle(masks: np.ndarray) -> list[dict]:
    return coco.encode(np.asfortranarray(masks.view(np.uint8).transpose(1, 2, 0)))


def coco_intersection(masks: np.ndarray) -> np.ndarray:
    rles = rle(masks)
    areas = coco.area(rles).astype(np.float64)
    iou = coco.iou(rles, rles, [0] * len(rles))
    return np.rint(iou * (areas[:, None] + areas[None, :]) / (1.0 + iou)).astype(np.int64)


def coco_bordering(masks: np.ndarray) -> np.ndarray:
    grown = np.stack([cv2.dilate(m, CROSS) for m in masks.view(np.uint8)]).view(bool)
    touch = coco.iou(rle(grown), rle(masks), [0] * len(masks)) > 0
    np.fill_diagonal(touch, False)
    return touch


ROUTES = {
    "compiled": lambda op, masks, built: getattr(built, f"{op}_matrix")(),
    "pack+compiled": lambda op, masks, built: getattr(MaskSet(masks), f"{op}_matrix")(),
    "numpy": lambda op, masks, built: getattr(ref, f"{op}_matrix")(masks),
    "pycocotools": lambda op, masks, built: (coco_intersection if op == "intersection" else coco_bordering)(masks),
}
SLOW = ("numpy", "pycocotools")


def rounds(route: str, n: int, size: int) -> int:
    """Few rounds for the slow baselines (seconds each at N=64, 1024²) to keep the run short."""
    if route in SLOW:
        pixels = size * size * n
        return 1 if pixels >= 64 * 1024 * 1024 else 2 if pixels >= 32 * 1024 * 1024 else 5
    return 20


def case(n: int, size: int) -> str:
    return f"N={n} {size}²"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("op", ["intersection", "bordering"])
def test_pair_matrix(benchmark, op, route, n, size):
    masks = instances(n, size)
    built = MaskSet(masks)
    benchmark.group = f"{op} {case(n, size)}"
    benchmark.extra_info.update(ratio_group=benchmark.group, route=route, baseline=route in SLOW)
    if route == "compiled" and (n, size) == (32, 1024):
        benchmark.extra_info["target"] = {"vs": "numpy", "min": 30}
    if route == "pack+compiled":
        benchmark.extra_info["target"] = {"vs": "pycocotools", "min": 1}
    result = benchmark.pedantic(ROUTES[route], args=(op, masks, built), rounds=rounds(route, n, size),
                                warmup_rounds=0 if route in SLOW else 1)
    np.testing.assert_array_equal(result, expected(op, n, size))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("n", COUNTS)
def test_pack(benchmark, n, size):
    masks = instances(n, size)
    benchmark.group = f"pack {case(n, size)}"
    benchmark.extra_info.update(ratio_group=f"intersection {case(n, size)}", route="pack")
    built = benchmark.pedantic(MaskSet, args=(masks,), rounds=rounds("pack", n, size), warmup_rounds=1)
    np.testing.assert_array_equal(built.areas(), ref.areas(masks))
