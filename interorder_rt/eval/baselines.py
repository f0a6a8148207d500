"""Heuristic order baselines (DESIGN.md): Area, Y-axis and Convex, on bordering pairs only.

Each has the order-method signature ``(masks, image) -> OrderResult``; the image is unused.
Each fills ``growth[i, j]`` with its evidence that j is in front of i, so that the layering
drops the weakest edges of a cycle first:

- area: ``area_i - area_j`` when positive (the smaller mask is in front; equal areas: no order);
- yaxis: ``y_j - y_i`` when positive, y the mean row of a mask (the lower one is in front;
  equal: no order);
- convex: ``|hull_i & modal_j|``, the counts the ground-truth rule compares, with the convex hull
  of each modal mask as its amodal mask (also returned as ``OrderResult.amodal``).
"""

from __future__ import annotations

import numpy as np

from interorder_rt.ops import MaskSet, OrderResult, layering_from_order, order_from_amodal, order_from_growth


def _empty_result(masks: MaskSet, with_amodal: bool) -> OrderResult:
    amodal = np.zeros((0, masks.height, masks.width), dtype=bool) if with_amodal else None
    return OrderResult(
        order=np.zeros((0, 0), dtype=np.int8),
        growth=np.zeros((0, 0), dtype=np.float32),
        layering=np.zeros(0, dtype=np.int64),
        amodal=amodal,
    )


def _result_from_growth(growth: np.ndarray, order: np.ndarray, amodal: np.ndarray | None = None) -> OrderResult:
    growth = growth.astype(np.float32)
    layering, dropped = layering_from_order(order, growth)
    return OrderResult(order=order, growth=growth, layering=layering, dropped=dropped, amodal=amodal)


def _in_front_when_smaller(scores: np.ndarray, bordering: np.ndarray) -> OrderResult:
    """Order where, for bordering i and j, the one with the smaller score is in front."""
    growth = np.clip(scores[:, None] - scores[None, :], 0, None) * bordering
    return _result_from_growth(growth, order_from_growth(growth))


def order_by_area(masks: MaskSet, image: np.ndarray | None = None) -> OrderResult:
    """Area baseline: of two bordering instances, the one with the smaller visible mask is in front."""
    if masks.n == 0:
        return _empty_result(masks, with_amodal=False)
    return _in_front_when_smaller(masks.areas().astype(np.float64), masks.bordering_matrix())


def order_by_yaxis(masks: MaskSet, image: np.ndarray | None = None) -> OrderResult:
    """Y-axis baseline: of two bordering instances, the one whose centroid is lower is in front."""
    if masks.n == 0:
        return _empty_result(masks, with_amodal=False)
    rows_per_mask = masks.to_numpy().sum(axis=2, dtype=np.float64)  # (N, H) pixels per row
    areas = rows_per_mask.sum(axis=1)
    mean_y = rows_per_mask @ np.arange(masks.height, dtype=np.float64) / np.maximum(areas, 1)
    return _in_front_when_smaller(-mean_y, masks.bordering_matrix())


def order_by_convex(masks: MaskSet, image: np.ndarray | None = None) -> OrderResult:
    """Convex baseline: each modal mask's convex hull as its amodal mask, then the ground-truth rule."""
    if masks.n == 0:
        return _empty_result(masks, with_amodal=True)
    n = masks.n
    modal = masks.to_numpy()
    hulls = masks.convex_hulls()
    bordering = masks.bordering_matrix()
    modal_in_hull = MaskSet(np.concatenate([modal, hulls])).intersection_matrix()[:n, n:]  # |modal_i & hull_j|
    growth = modal_in_hull.T * bordering
    return _result_from_growth(growth, order_from_amodal(modal, hulls, bordering), amodal=hulls)
