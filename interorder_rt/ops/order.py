"""Pairwise occlusion order: assembly from completion evidence, ground truth, and layering.

Order matrix convention (N x N int8): ``O[i, j] = 1`` i occludes j, ``-1`` i is occluded by j,
``0`` no relation. ``growth[i, j]`` is the evidence that j hides i: how many image pixels the
completed (amodal) mask of i grew into the visible mask of j.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class OrderResult:
    """Recovered order of one image's instances."""

    order: np.ndarray  # (N, N) int8
    growth: np.ndarray  # (N, N) float32, growth[i, j] = evidence that j hides i
    layering: np.ndarray  # (N,) int64, instance indices back to front
    dropped: list[tuple[int, int]] = field(default_factory=list)  # (front, back) edges cut to break cycles
    amodal: np.ndarray | None = None  # (N, H, W) bool when requested

    @property
    def n(self) -> int:
        return int(self.order.shape[0])


def order_from_growth(growth: np.ndarray) -> np.ndarray:
    """Order matrix from a growth matrix: the instance that grows more into the other is occluded."""
    growth = np.asarray(growth, dtype=np.float64)
    if growth.ndim != 2 or growth.shape[0] != growth.shape[1]:
        raise ValueError(f"growth must be a square (N, N) matrix, got shape {growth.shape}")
    order = np.sign(growth.T - growth).astype(np.int8)
    np.fill_diagonal(order, 0)
    return order


def order_from_amodal(modal: np.ndarray, amodal: np.ndarray, bordering: np.ndarray) -> np.ndarray:
    """Ground-truth order where modal and amodal masks are known (DESIGN.md).

    For bordering i, j: i is in front if ``|modal_i & amodal_j| >= |modal_j & amodal_i|``;
    no relation if both are zero. A non-zero tie puts the lower index in front, so the matrix
    stays antisymmetric.
    """
    n = modal.shape[0]
    if n == 0:
        return np.zeros((0, 0), dtype=np.int8)
    m = modal.reshape(n, -1).astype(np.float32)
    a = amodal.reshape(n, -1).astype(np.float32)
    hides = np.rint(m @ a.T)  # hides[i, j] = |modal_i & amodal_j|
    lower = np.arange(n)[:, None] < np.arange(n)[None, :]
    order = np.where((hides > hides.T) | ((hides == hides.T) & lower), 1, -1).astype(np.int8)
    order[(hides == 0) & (hides.T == 0)] = 0
    order[~np.asarray(bordering, dtype=bool)] = 0
    np.fill_diagonal(order, 0)
    return order


def layering_from_order(order: np.ndarray, growth: np.ndarray | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Back-to-front instance order from a (possibly cyclic) order matrix.

    Edges are kept strongest first (evidence ``|growth[j, i] - growth[i, j]|``, or 1 without
    growth); an edge that would close a cycle is dropped. The rest is sorted topologically,
    ties broken by index so the result is deterministic. Returns the layering and the dropped
    ``(front, back)`` edges.
    """
    n = order.shape[0]
    fronts, backs = np.nonzero(order == 1)
    if growth is None:
        strength = np.ones(len(fronts))
    else:
        g = np.asarray(growth, dtype=np.float64)
        strength = np.abs(g[backs, fronts] - g[fronts, backs])
    ranked = sorted(zip(-strength, fronts.tolist(), backs.tolist()))

    behind: list[set[int]] = [set() for _ in range(n)]  # behind[f] = instances painted before f
    reach: list[set[int]] = [{k} for k in range(n)]  # reach[k] = k and all it lies in front of
    dropped: list[tuple[int, int]] = []
    for _, front, back in ranked:
        if front in reach[back]:  # back already lies in front of front: the edge closes a cycle
            dropped.append((front, back))
            continue
        behind[front].add(back)
        for k in range(n):
            if front in reach[k]:
                reach[k] |= reach[back]

    layering: list[int] = []
    placed = np.zeros(n, dtype=bool)
    while len(layering) < n:
        ready = next(k for k in range(n) if not placed[k] and all(placed[b] for b in behind[k]))
        placed[ready] = True
        layering.append(ready)
    return np.array(layering, dtype=np.int64), dropped
