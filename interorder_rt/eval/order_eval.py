"""Run order methods over evaluation samples and pool their metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
from tqdm import tqdm

from interorder_rt.eval.methods import OrderMethod
from interorder_rt.eval.metrics import AmodalCounts, OrderCounts, amodal_counts, order_counts
from interorder_rt.eval.samples import EvalSample
from interorder_rt.ops import MaskSet, OrderResult


@dataclass
class MethodScore:
    """Pooled metrics of one method over a data set."""

    label: str
    order: OrderCounts = field(default_factory=OrderCounts)
    amodal: AmodalCounts | None = None  # None when the method predicted no amodal masks
    seconds: float = 0.0  # time inside the method's calls
    images: int = 0

    @property
    def ms_per_image(self) -> float:
        return 1000.0 * self.seconds / self.images if self.images else float("nan")


def _check_result(result: object, n: int, label: str) -> OrderResult:
    if not isinstance(result, OrderResult):
        raise TypeError(f"method {label!r} returned {type(result).__name__}, expected OrderResult")
    if np.shape(result.order) != (n, n):
        raise ValueError(f"method {label!r} returned an order of shape {np.shape(result.order)} for {n} instances")
    return result


def evaluate_order(
    samples: Iterable[EvalSample],
    methods: Mapping[str, OrderMethod],
    *,
    total: int | None = None,
    progress: bool = True,
) -> list[MethodScore]:
    """Evaluate every method (label -> callable) on every sample; one ``MethodScore`` per method.

    Each sample is visited once and handed to all methods, so a generated scene is made once.
    Only the method calls are timed. ``total`` sizes the progress bar.
    """
    scores = [MethodScore(label) for label in methods]
    for sample in tqdm(samples, total=total, desc="eval order", unit="image", disable=not progress):
        masks = MaskSet(sample.modal)
        bordering = masks.bordering_matrix() if masks.n else np.zeros((0, 0), dtype=bool)
        for score, method in zip(scores, methods.values()):
            start = time.perf_counter()
            result = method(masks, sample.image)
            score.seconds += time.perf_counter() - start
            result = _check_result(result, masks.n, score.label)
            score.order += order_counts(result.order, sample.order_gt, bordering)
            if result.amodal is not None and sample.amodal_gt is not None:
                score.amodal = (score.amodal or AmodalCounts()) + amodal_counts(result.amodal, sample.amodal_gt)
            score.images += 1
    return scores
