"""Order recovery reused while a stream's instances stand still or move as a whole.

The shipped ORNet reads masks only (no RGB), so frames whose instances keep their masks give
the same order. A stream keeps the masks ORNet last ran on (the anchor) and its result. While a
frame has the same instance ids and every mask overlaps its anchor mask by at least
``STILL_IOU`` (intersection over union), the anchor's order is reused, each instance's
completion (its amodal mask beyond its modal one at the anchor) joined to its new mask.

An instance may also have moved as a whole: its mask overlaps the anchor's moved by one of the
shifts of its box (``compose.instance_memory.box_shifts``) by ``STILL_IOU``; its completion then
moves with it. As moving instances meet or part, who touches whom may change, and with it the
pairs ORNet must judge: a moved anchor serves only while the instances border the same others
as at the anchor. Once an instance moves otherwise, or instances come or go, ORNet runs again and
its masks become the anchor, so a reused order is never further than ``STILL_IOU`` from the
masks it was recovered on (moved by a shift). The anchor holds the recovered amodal masks
themselves, read-only from then on (a stream's results carry them too).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from interorder_rt.backends.device_arrays import copy_of, count_set, zeros_like
from interorder_rt.compose.boxes import Box, intersection, plane_box, plane_boxes
from interorder_rt.compose.instance_memory import box_shifts
from interorder_rt.ops.order import OrderResult

STILL_IOU = 0.98  # least overlap of every mask with its anchor mask for the anchor's order to hold


class OrderReuse:
    """The anchor of a stream's order recovery (module docstring)."""

    def __init__(self) -> None:
        self._anchor: _Anchor | None = None
        self.reused = 0  # frames served from the anchor so far

    def recall(self, masks: np.ndarray, ids: Sequence[int], boxes: np.ndarray, areas: np.ndarray,
               bordering: np.ndarray) -> OrderResult | None:
        """The anchor's order for ``masks`` (N, H, W) with instance ``ids``, tight ``boxes``
        (N, 4: x0, y0, x1, y1), ``areas`` (N,) and ``bordering`` matrix (N, N), or None when
        ORNet must run."""
        anchor = self._anchor
        if anchor is None or tuple(int(i) for i in ids) != anchor.ids or tuple(masks.shape) != anchor.shape:
            return None
        shifts = []
        for k in range(masks.shape[0]):
            shift = next((shift for shift in box_shifts(tuple(anchor.boxes[k]), tuple(boxes[k]))
                          if _still(masks[k], int(areas[k]), anchor, k, shift)), None)
            if shift is None:
                return None
            shifts.append(shift)
        if any(shift != (0, 0) for shift in shifts) and not np.array_equal(bordering, anchor.bordering):
            return None
        self.reused += 1
        return replace(anchor.result, amodal=anchor.joined(shifts, masks, boxes))

    def keep(self, masks: np.ndarray, ids: Sequence[int], boxes: np.ndarray, areas: np.ndarray,
             bordering: np.ndarray, result: OrderResult) -> None:
        """Make ``result``, recovered on ``masks``, the anchor: of the masks, their box crops only."""
        boxes = np.array(boxes)
        crops = [copy_of(masks[k, y0:y1, x0:x1]) for k, (x0, y0, x1, y1) in enumerate(boxes)]
        self._anchor = _Anchor(tuple(int(i) for i in ids), tuple(masks.shape), crops, boxes, np.array(areas),
                               np.array(bordering), result, _held(result.amodal))


def _still(mask: Any, area: int, anchor: _Anchor, k: int, shift: tuple[int, int]) -> bool:
    """Whether ``mask`` (of ``area`` pixels) overlaps anchor mask ``k`` moved by ``shift`` (dx, dy)
    by at least ``STILL_IOU``."""
    h, w = anchor.shape[1:]
    moved, source = _moved_boxes(tuple(anchor.boxes[k]), shift, h, w)
    common = 0
    if moved is not None:
        (x0, y0, x1, y1), (sx0, sy0, sx1, sy1) = moved, source
        bx0, by0 = anchor.boxes[k][:2]
        common = count_set(mask[y0:y1, x0:x1] & anchor.crops[k][sy0 - by0 : sy1 - by0, sx0 - bx0 : sx1 - bx0])
    changed = area + int(anchor.areas[k]) - 2 * common  # pixels in one mask only
    union = (area + int(anchor.areas[k]) + changed) / 2
    return changed <= (1 - STILL_IOU) * union  # IoU = (union - changed) / union


def _moved_boxes(box: Box, shift: tuple[int, int], height: int, width: int) -> tuple[Box, Box] | tuple[None, None]:
    """``box`` moved by ``shift`` (dx, dy) and cut to the frame, with the part of ``box`` it came
    from; (None, None) when nothing of it stays in the frame."""
    (x0, y0, x1, y1), (dx, dy) = box, shift
    tx0, ty0, tx1, ty1 = max(x0 + dx, 0), max(y0 + dy, 0), min(x1 + dx, width), min(y1 + dy, height)
    if tx1 <= tx0 or ty1 <= ty0:
        return None, None
    return (tx0, ty0, tx1, ty1), (tx0 - dx, ty0 - dy, tx1 - dx, ty1 - dy)


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
    bordering: np.ndarray  # (N, N) which of them touch
    result: OrderResult
    amodal: Any  # (N, H, W) bool: the result's amodal masks, as recovered
    _completions: list | None = field(default=None, repr=False)  # each completion within its extent
    _extents: list | None = field(default=None, repr=False)  # the tight box of each completion

    def joined(self, shifts: Sequence[tuple[int, int]], masks: Any, boxes: np.ndarray) -> Any:
        """(N, H, W) bool: each amodal mask beyond its modal one at the anchor, moved by its
        instance's shift (dx, dy), joined to its mask of now (``masks``, held by ``boxes``):
        written within those boxes only (on zeros), not a frame-sized join."""
        completions, extents = self._completions_and_extents()
        out = zeros_like(self.amodal)
        h, w = self.shape[1:]
        for k, (completion, extent, shift, box) in enumerate(zip(completions, extents, shifts, boxes)):
            to, source = _moved_boxes(extent, shift, h, w) if extent is not None else (None, None)
            if to is not None:
                (x0, y0, x1, y1), (sx0, sy0, sx1, sy1) = to, source
                ex0, ey0 = extent[:2]
                out[k, y0:y1, x0:x1] = completion[sy0 - ey0 : sy1 - ey0, sx0 - ex0 : sx1 - ex0]
            x0, y0, x1, y1 = (int(v) for v in box)
            out[k, y0:y1, x0:x1] |= masks[k, y0:y1, x0:x1]
        return out

    def _completions_and_extents(self) -> tuple[list, list[Box | None]]:
        """Each amodal mask beyond its modal one, within its tight box (None: nothing beyond), and
        that box: worked out on the first reuse, within each amodal mask's box (no frame-sized
        stack, and only the masks' row and column hits come to the host)."""
        if self._extents is None:
            self._completions, self._extents = [], []
            for k, outer in enumerate(plane_boxes(self.amodal)):
                beyond = None if outer is None else self._beyond(k, outer)
                tight = None if beyond is None else plane_box(beyond)
                if tight is None:
                    self._completions.append(None)
                    self._extents.append(None)
                    continue
                tx0, ty0, tx1, ty1 = tight
                self._completions.append(beyond[ty0:ty1, tx0:tx1])
                self._extents.append((outer[0] + tx0, outer[1] + ty0, outer[0] + tx1, outer[1] + ty1))
        return self._completions, self._extents

    def _beyond(self, k: int, outer: Box) -> Any:
        """Amodal mask ``k`` within ``outer`` (a box holding it), less its modal mask at the anchor."""
        ox0, oy0, ox1, oy1 = outer
        beyond = copy_of(self.amodal[k, oy0:oy1, ox0:ox1])
        box = tuple(int(v) for v in self.boxes[k])
        common = intersection(outer, box)
        if common is not None:
            cx0, cy0, cx1, cy1 = common
            modal = self.crops[k][cy0 - box[1] : cy1 - box[1], cx0 - box[0] : cx1 - box[0]]
            beyond[cy0 - oy0 : cy1 - oy0, cx0 - ox0 : cx1 - ox0] &= ~modal
        return beyond
