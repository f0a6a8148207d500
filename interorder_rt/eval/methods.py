"""Order-recovery methods by name: the heuristic baselines and ORNet.

An order method is a callable ``(masks: MaskSet, image: np.ndarray | None) -> OrderResult``.
``MethodSpec`` names one (with ORNet weights and a display label) and builds it; ORNet is
imported and loaded only when built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from interorder_rt.eval.baselines import order_by_area, order_by_convex, order_by_yaxis
from interorder_rt.ops import MaskSet, OrderResult

OrderMethod = Callable[[MaskSet, "np.ndarray | None"], OrderResult]

BASELINES: dict[str, OrderMethod] = {"area": order_by_area, "yaxis": order_by_yaxis, "convex": order_by_convex}
METHOD_NAMES: tuple[str, ...] = (*BASELINES, "ornet")


@dataclass(frozen=True)
class MethodSpec:
    """A method name, ORNet weights (None: the shipped ones) and the label it is reported under."""

    name: str
    weights: str | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.name not in METHOD_NAMES:
            raise ValueError(f"unknown order method {self.name!r}; choose from {', '.join(METHOD_NAMES)}")
        if self.weights is not None and self.name != "ornet":
            raise ValueError(f"weights apply to ornet only, not to {self.name!r}")

    @property
    def display(self) -> str:
        if self.label:
            return self.label
        if self.weights is not None:
            return f"{self.name} ({Path(self.weights).name})"
        return self.name

    def build(self, device: str = "cpu") -> OrderMethod:
        """The callable; ORNet loads its weights on ``device`` here."""
        if self.name in BASELINES:
            return BASELINES[self.name]
        from interorder_rt.order_recovery import OrderRecovery

        recovery = OrderRecovery(weights=self.weights, device=device)

        def ornet(masks: MaskSet, image: np.ndarray | None = None) -> OrderResult:
            return recovery(masks, image, amodal=True)

        return ornet
