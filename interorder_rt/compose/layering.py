"""The back-to-front layering used for merging, with each replaced person as far back as allowed.

A recovered order can be unsure. The two possible mistakes around a replaced person Y are not
equally bad: putting an instance k behind the new person when k really hid Y paints the new
body over k (a visible error as large as the part of Y that k hid), while putting k in front when
Y really hid it only clips the new body where its silhouette exceeds Y's. So the merge keeps
"Y in front of k" only when the evidence for it reaches a minimum (k's completion grew into Y at
least ``min_evidence`` pixels more than the reverse), and then paints each replaced person as
early as the remaining relations allow: an instance with no (trusted) relation to it stays on top.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from interorder_rt.ops.order import OrderResult


def trusted_edges(result: OrderResult, targets: Sequence[int], min_evidence: float) -> np.ndarray:
    """(N, N) bool ``front[i, j]``: i is painted after j. The order's edges, less the dropped ones
    and the replaced people's "in front" edges whose evidence is below ``min_evidence`` pixels."""
    front = np.asarray(result.order) == 1
    for f, b in result.dropped:
        front[f, b] = False
    growth = np.asarray(result.growth, dtype=np.float64)
    for t in targets:
        for k in np.flatnonzero(front[t]):
            if growth[k, t] - growth[t, k] < min_evidence:
                front[t, k] = False
    return front


def merge_layering(result: OrderResult, targets: Sequence[int], min_evidence: float) -> np.ndarray:
    """(N,) int64 back-to-front layering for merging (module docstring).

    A topological sort of :func:`trusted_edges`: whenever several instances may come next, the
    replaced people and whatever must lie behind them go first, otherwise the order of
    ``result.layering`` is kept.
    """
    front = trusted_edges(result, targets, min_evidence)
    n = front.shape[0]
    behind = [set(np.flatnonzero(front[i]).tolist()) for i in range(n)]
    first = set(int(t) for t in targets)
    stack = list(first)
    while stack:  # everything that must be painted before a replaced person
        for b in behind[stack.pop()]:
            if b not in first:
                first.add(b)
                stack.append(b)
    rank = {int(k): r for r, k in enumerate(result.layering)}
    placed: list[int] = []
    done = np.zeros(n, dtype=bool)
    while len(placed) < n:
        ready = [k for k in range(n) if not done[k] and all(done[b] for b in behind[k])]
        nxt = min(ready, key=lambda k: (k not in first, rank[k]))
        done[nxt] = True
        placed.append(nxt)
    return np.array(placed, dtype=np.int64)
