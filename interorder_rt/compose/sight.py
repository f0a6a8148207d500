"""What of a removed person's hole stays in sight once the new people are painted over it.

Every instance that a removal reveals is painted before the replaced person's slot
(``compose.plan_removal``), and the background before all. So where a new person's layer covers a
pixel wholly (alpha 255, or its mask when it has no alpha), nothing painted under it shows, and
its fill is never seen. The engine fills only what stays in sight: the output is the same,
pixel for pixel, and the fill's cost follows what changed in the picture. The functions take
NumPy arrays or torch tensors alike, and work within the plan's box (where every hole pixel lies).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from interorder_rt.compose.boxes import Box
from interorder_rt.compose.painter import Layer
from interorder_rt.compose.removal import layer_ranks


def _zeros(like: Any) -> Any:
    """A zero (False) plane shaped and placed like ``like`` (NumPy array or tensor)."""
    return np.zeros(like.shape, bool) if isinstance(like, np.ndarray) else like.new_zeros(like.shape)


def covered(people: Iterable[Layer], box: Box, like: Any) -> Any:
    """``like[y0:y1, x0:x1]``-shaped bool: the pixels of ``box`` that a layer of ``people`` paints over wholly."""
    x0, y0, x1, y1 = box
    out = _zeros(like[y0:y1, x0:x1])
    for layer in people:
        lx0, ly0, lx1, ly1 = layer.box or (x0, y0, x1, y1)
        cx0, cy0, cx1, cy1 = max(lx0, x0), max(ly0, y0), min(lx1, x1), min(ly1, y1)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        window = (slice(cy0, cy1), slice(cx0, cx1))
        opaque = layer.mask[window] if layer.alpha is None else layer.alpha[window] == 255
        out[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] |= opaque
    return out


def in_sight(plan: Any, people: Mapping[int, Layer], layering: Sequence[int]) -> tuple[list[int], Any]:
    """What of ``plan`` (a ``RemovalPlan``, or the device path's) the new ``people`` leave in sight:
    the instances of ``plan.needs_completion()`` of which some revealed pixel is not covered wholly
    by a new person painted after it (in index order), and the (H, W) bool pixels of
    ``plan.background`` that no new person covers wholly."""
    shown = _zeros(plan.background)
    if plan.box is None:
        return [], shown
    rank = layer_ranks(layering, len(layering))
    x0, y0, x1, y1 = plan.box
    hidden: dict[tuple[int, ...], Any] = {}  # what a set of new people covers, each set once

    def under(later: tuple[int, ...]) -> Any:
        if later not in hidden:
            hidden[later] = covered([people[t] for t in later], plan.box, shown)
        return hidden[later]

    shown[y0:y1, x0:x1] = plan.background[y0:y1, x0:x1] & ~under(tuple(people))
    seen = [k for k in plan.needs_completion()
            if bool((plan.revealed[k, y0:y1, x0:x1] & ~under(tuple(t for t in people if rank[t] > rank[k]))).any())]
    return seen, shown


def with_unseen(hole: Any, plan: Any, seen: Sequence[int]) -> Any:
    """``hole`` plus the revealed pixels of the instances not in ``seen`` (all under new people):
    their content is never completed, so a background fill must treat it as unknown. ``hole``
    itself when every revealing instance is seen."""
    unseen = sorted(set(plan.needs_completion()) - set(seen))
    if not unseen:
        return hole
    x0, y0, x1, y1 = plan.box
    out = hole | False  # a copy, NumPy or torch
    out[y0:y1, x0:x1] |= plan.revealed[unseen, y0:y1, x0:x1].any(0)
    return out


def meet_within(mask: Any, other: Any, box: Box | None) -> bool:
    """Whether ``mask`` and ``other``, both set only inside ``box`` (None: nowhere), share a pixel;
    looked for there only."""
    if box is None:
        return False
    x0, y0, x1, y1 = box
    return bool((mask[y0:y1, x0:x1] & other[y0:y1, x0:x1]).any())
