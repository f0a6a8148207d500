"""A temporally stable order for video: smoothed evidence and hysteresis, keyed by instance id.

Per-frame order evidence is noisy; where two instances barely overlap, its sign can alternate
from frame to frame and the merged video would flicker. The growth evidence of each ordered pair
of instance ids is smoothed by an exponential moving average, and a pair's relation only flips
when the smoothed evidence against it exceeds a margin.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from interorder_rt.ops.order import OrderResult, layering_from_order


class OrderSmoother:
    """Smooths order evidence over a stream of frames.

    ``alpha`` is the weight of the newest frame in the moving average; ``margin`` is the share
    of the image area the smoothed evidence must reach against the current relation to flip it.
    """

    def __init__(self, alpha: float = 0.3, margin: float = 2e-4) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
        if margin < 0:
            raise ValueError(f"margin must be non-negative, got {margin}")
        self.alpha = alpha
        self.margin = margin
        self._growth: dict[tuple[int, int], float] = {}
        self._relation: dict[tuple[int, int], int] = {}

    def reset(self) -> None:
        """Forget every instance (a new shot or a new stream)."""
        self._growth.clear()
        self._relation.clear()

    def update(
        self, raw: OrderResult, ids: Sequence[int], bordering: np.ndarray, image_area: int
    ) -> OrderResult:
        """Fold one frame's ``raw`` order into the history; return the stable order for this frame.

        ``ids`` names each instance of the frame; ``bordering`` is its (N, N) bordering matrix.
        Instances absent from the frame are forgotten.
        """
        ids = [int(i) for i in ids]
        n = len(ids)
        if raw.growth.shape != (n, n) or bordering.shape != (n, n):
            raise ValueError(f"growth {raw.growth.shape} and bordering {bordering.shape} must be ({n}, {n})")
        present = set(ids)
        self._growth = {key: g for key, g in self._growth.items() if key[0] in present and key[1] in present}
        self._relation = {key: r for key, r in self._relation.items() if key[0] in present and key[1] in present}

        growth = np.zeros((n, n), dtype=np.float32)
        for i in range(n):
            for j in range(n):
                if i != j:
                    key, new = (ids[i], ids[j]), float(raw.growth[i, j])
                    growth[i, j] = self._growth[key] = self.alpha * new + (1 - self.alpha) * self._growth.get(key, new)

        threshold = self.margin * image_area
        order = np.zeros((n, n), dtype=np.int8)
        for i, j in zip(*np.nonzero(np.triu(bordering, k=1))):
            key = (ids[i], ids[j])
            evidence = growth[j, i] - growth[i, j]  # > 0: j grew into i more, so i is in front
            relation = self._relation.get(key, 0)
            if relation == 0 or np.sign(evidence) == relation or abs(evidence) > threshold:
                relation = int(np.sign(evidence)) if evidence != 0 else relation
            self._relation[key] = relation
            self._relation[(ids[j], ids[i])] = -relation
            order[i, j], order[j, i] = relation, -relation

        layering, dropped = layering_from_order(order, growth)
        return OrderResult(order=order, growth=growth, layering=layering, dropped=dropped, amodal=raw.amodal)
