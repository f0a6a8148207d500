"""Order recovery reused while a stream's instances stand still.

The shipped ORNet reads masks only (no RGB), so frames whose instances keep their masks give
the same order. A stream keeps the masks ORNet last ran on (the anchor) and its result. While a
frame has the same instance ids and every mask overlaps its anchor mask by at least
``STILL_IOU`` (intersection over union), the anchor's order is reused, each instance's
completion (its amodal mask beyond its modal one at the anchor) joined to its new mask. Once an
instance moves more, or instances come or go, ORNet runs again and its masks become the anchor,
so a reused order is never further than ``STILL_IOU`` from the masks it was recovered on.
The anchor holds the recovered amodal masks themselves, read-only from then on (a stream's
results carry them too).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from interorder_rt.backends.device_arrays import copy_of, count_set
from interorder_rt.ops.order import OrderResult

STILL_IOU = 0.98  # least overlap of every mask with its anchor mask for the anchor's order to hold


class OrderReuse:
    """The anchor of a stream's order recovery (module docstring)."""

    def __init__(self) -> None:
        self._anchor: _Anchor | None = None
        self.reused = 0  # frames served from the anchor so far

    def recall(self, masks: np.ndarray, ids: Sequence[int], boxes: np.ndarray, areas: np.ndarray) -> OrderResult | None:
        """The anchor's order for ``masks`` (N, H, W) with instance ``ids``, tight ``boxes``
        (N, 4: x0, y0, x1, y1) and ``areas`` (N,), or None when ORNet must run."""
        anchor = self._anchor
        if anchor is None or tuple(int(i) for i in ids) != anchor.ids or tuple(masks.shape) != anchor.shape:
            return None
        for k in range(masks.shape[0]):
            x0, y0, x1, y1 = anchor.boxes[k]  # the anchor mask's pixels lie here, so do the common ones
            common = count_set(masks[k, y0:y1, x0:x1] & anchor.crops[k])
            changed = int(areas[k]) + int(anchor.areas[k]) - 2 * common  # pixels in one mask only
            union = (int(areas[k]) + int(anchor.areas[k]) + changed) / 2
            if changed > (1 - STILL_IOU) * union:  # IoU = (union - changed) / union below STILL_IOU
                return None
        self.reused += 1
        return replace(anchor.result, amodal=anchor.completion() | masks)

    def keep(self, masks: np.ndarray, ids: Sequence[int], boxes: np.ndarray, areas: np.ndarray,
             result: OrderResult) -> None:
        """Make ``result``, recovered on ``masks``, the anchor: of the masks, their box crops only."""
        boxes = np.array(boxes)
        crops = [copy_of(masks[k, y0:y1, x0:x1]) for k, (x0, y0, x1, y1) in enumerate(boxes)]
        self._anchor = _Anchor(tuple(int(i) for i in ids), tuple(masks.shape), crops, boxes, np.array(areas),
                               result, _held(result.amodal))


def _held(amodal: Any) -> Any:
    """The anchor's hold on a result's amodal masks: a host array itself, made read-only (the
    stream returns it too: neither side can change it under the other, and no frame-sized copy
    is made each time ORNet runs); a tensor's copy."""
    if isinstance(amodal, np.ndarray):
        amodal.setflags(write=False)
        return amodal
    return copy_of(amodal)


@dataclass
class _Anchor:
    ids: tuple[int, ...]
    shape: tuple[int, ...]  # (N, H, W) of the masks ORNet ran on
    crops: list  # each of those masks within its box
    boxes: np.ndarray  # (N, 4) their tight boxes
    areas: np.ndarray  # (N,) their areas
    result: OrderResult
    amodal: Any  # (N, H, W) bool: the result's amodal masks, as recovered
    _completion: Any = field(default=None, repr=False)

    def completion(self) -> Any:
        """(N, H, W) bool: each amodal mask beyond its modal one (worked out on the first reuse)."""
        if self._completion is None:
            modal = self.amodal & False  # all-False, NumPy or torch
            for k, (x0, y0, x1, y1) in enumerate(self.boxes):
                modal[k, y0:y1, x0:x1] = self.crops[k]
            self._completion = self.amodal & ~modal
        return self._completion
