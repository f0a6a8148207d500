"""Order and amodal-mask metrics, kept as counts so they add up over a data set.

Order matrices follow ``interorder_rt.ops.order``: ``O[i, j] = 1`` i occludes j, ``-1`` i is
occluded by j, ``0`` no relation.

- **Accuracy** (the paper's and the de-occlusion baseline's protocol): over the unordered pairs
  ``i < j`` that border each other and whose ground truth ``gt[i, j]`` is non-zero, the share with
  ``pred[i, j] == gt[i, j]``. A pair the method leaves at 0 counts as wrong.
- **Precision / recall / F1** (InstaOrder's protocol): every ordered pair ``(i, j)``, ``i != j``,
  bordering or not, with ``O[i, j] == 1`` is one positive relation "i occludes j". A true positive
  has it in both prediction and ground truth; precision = TP / predicted positives, recall =
  TP / ground-truth positives, F1 = 2 TP / (predicted + ground-truth positives).
- **Amodal mIoU**: sum of intersections over sum of unions of predicted and ground-truth amodal
  masks, over all instances.

All ratios are taken over counts summed across images (micro-averaged); an empty denominator
gives NaN.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


@dataclass(frozen=True)
class OrderCounts:
    """Pair counts behind the order metrics; add instances with ``+`` to pool images."""

    evaluated: int = 0  # unordered bordering pairs with non-zero ground truth
    correct: int = 0  # of those, predicted with the ground truth's sign
    true_positives: int = 0  # ordered pairs with pred == gt == 1
    predicted_positives: int = 0  # ordered pairs with pred == 1
    actual_positives: int = 0  # ordered pairs with gt == 1

    def __add__(self, other: OrderCounts) -> OrderCounts:
        return OrderCounts(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))

    @property
    def accuracy(self) -> float:
        return _ratio(self.correct, self.evaluated)

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.predicted_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.actual_positives)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.true_positives, self.predicted_positives + self.actual_positives)


@dataclass(frozen=True)
class AmodalCounts:
    """Pixel counts behind amodal mIoU; add instances with ``+`` to pool images."""

    intersection: int = 0
    union: int = 0
    instances: int = 0

    def __add__(self, other: AmodalCounts) -> AmodalCounts:
        return AmodalCounts(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))

    @property
    def miou(self) -> float:
        return _ratio(self.intersection, self.union)


def _square(matrix: np.ndarray, n: int | None, name: str) -> np.ndarray:
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or (n is not None and matrix.shape[0] != n):
        expected = "(N, N)" if n is None else f"({n}, {n})"
        raise ValueError(f"{name} must be a square {expected} matrix, got shape {matrix.shape}")
    return matrix


def order_counts(pred: np.ndarray, gt: np.ndarray, bordering: np.ndarray) -> OrderCounts:
    """Counts of one image: predicted and ground-truth (N, N) orders, (N, N) bool bordering."""
    gt = _square(gt, None, "ground-truth order")
    n = gt.shape[0]
    pred = _square(pred, n, "predicted order")
    bordering = _square(bordering, n, "bordering matrix").astype(bool)
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    scored = upper & bordering & (gt != 0)
    off_diagonal = ~np.eye(n, dtype=bool)
    pred_pos = (pred == 1) & off_diagonal
    gt_pos = (gt == 1) & off_diagonal
    return OrderCounts(
        evaluated=int(scored.sum()),
        correct=int((scored & (pred == gt)).sum()),
        true_positives=int((pred_pos & gt_pos).sum()),
        predicted_positives=int(pred_pos.sum()),
        actual_positives=int(gt_pos.sum()),
    )


def amodal_counts(pred: np.ndarray, gt: np.ndarray) -> AmodalCounts:
    """Counts of one image: predicted and ground-truth (N, H, W) amodal masks."""
    pred, gt = np.asarray(pred, dtype=bool), np.asarray(gt, dtype=bool)
    if pred.shape != gt.shape or pred.ndim != 3:
        raise ValueError(f"amodal masks must both be (N, H, W) of one shape, got {pred.shape} and {gt.shape}")
    return AmodalCounts(
        intersection=int((pred & gt).sum()),
        union=int((pred | gt).sum()),
        instances=int(gt.shape[0]),
    )
