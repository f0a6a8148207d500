"""Overlapping instance masks: legal input, resolved once the order is known.

Real segmenters and COCO polygons (a pixel or two loose) give masks that share pixels, but the
order recovery and the merge assume each pixel shows one instance. The rule:

1. **Order.** For each overlapping pair (i, j) the order recovery is asked twice, with the
   shared pixels given to i and with them given to j. An assignment is *consistent* when the
   instance holding the pixels comes out in front. The consistent assignment with the larger
   evidence margin wins (one consistent: that one; neither: the pixels are taken from both).
   The frame's order is then recovered on the masks so made disjoint.
2. **Merge.** Once the layering is known, every shared pixel goes to the front-most instance
   that claims it (:func:`give_to_front`); the result reports the pixels each instance lost.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

import numpy as np

from interorder_rt.backends.device_arrays import copy_of
from interorder_rt.compose.boxes import Box, intersection, mask_boxes
from interorder_rt.compose.removal import layer_ranks
from interorder_rt.ops.maskset import MaskSet
from interorder_rt.ops.order import OrderResult

RecoverOrder = Callable[[MaskSet], OrderResult]  # masks -> order with growth evidence


def overlapping_pairs(maskset: MaskSet) -> list[tuple[int, int]]:
    """Pairs ``i < j`` of instances that share at least one pixel."""
    shared = np.triu(np.asarray(maskset.intersection_matrix()), k=1)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(shared))]


def _front_margin(order: OrderResult, holder: int, other: int) -> float:
    """How far the recovered order puts ``holder`` in front of ``other`` (index 0 and 1 of a pair)."""
    if order.order[holder, other] != 1:
        return -np.inf
    return float(order.growth[other, holder] - order.growth[holder, other])


def disjoint_for_order(masks: np.ndarray, pairs: Sequence[tuple[int, int]], recover: RecoverOrder) -> np.ndarray:
    """(N, H, W) bool masks without shared pixels, assigned by rule 1 of the module docstring.

    ``recover`` runs the order recovery on a ``MaskSet`` of two masks (the pair).
    """
    return split_shared(masks, pairs, lambda holder, other: recover(MaskSet(np.stack([holder, other]))))


def split_shared(masks: Any, pairs: Sequence[tuple[int, int]], recover_pair: Callable[[Any, Any], OrderResult]) -> Any:
    """``disjoint_for_order`` on any mask stack (NumPy or torch): ``recover_pair(a, b)`` gives the
    order of the two masks ``a`` and ``b``, as index 0 and 1."""
    out = copy_of(masks)
    for i, j in pairs:
        shared = masks[i] & masks[j]
        margins = [_front_margin(recover_pair(masks[holder], masks[other] & ~shared), 0, 1)
                   for holder, other in ((i, j), (j, i))]
        if max(margins) == -np.inf:
            out[i] &= ~shared
            out[j] &= ~shared
        else:
            out[j if margins[0] >= margins[1] else i] &= ~shared
    return out


def give_to_front(masks: np.ndarray, layering: Sequence[int],
                  boxes: Sequence[Box | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(owned, reassigned): each pixel claimed by several masks kept only by the front-most of them
    in the back-to-front ``layering``; ``reassigned`` (N, H, W) marks the pixels each instance lost.
    ``boxes``: the masks' tight boxes when known (``mask_boxes``)."""
    n = masks.shape[0]
    if n < 2 or not _any_overlap(masks, boxes):
        return masks, np.broadcast_to(np.False_, masks.shape)  # nothing reassigned: no frame-sized zeros
    rank = layer_ranks(layering, n)
    claimed = np.where(masks, rank[:, None, None], -1)
    front = claimed.max(axis=0)
    owned = masks & (claimed == front[None])
    return owned, masks & ~owned


def _any_overlap(masks: np.ndarray, boxes: Sequence[Box | None] | None = None) -> bool:
    """Whether two masks share a pixel, tested on the intersection of their boxes only."""
    boxes = mask_boxes(masks) if boxes is None else boxes
    for i, j in itertools.combinations(range(len(masks)), 2):
        common = intersection(boxes[i], boxes[j])
        if common is not None:
            x0, y0, x1, y1 = common
            if (masks[i, y0:y1, x0:x1] & masks[j, y0:y1, x0:x1]).any():
                return True
    return False
