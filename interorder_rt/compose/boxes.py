"""Tight boxes of masks: where per-pixel work on a mask has to look, so its cost follows the mask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from interorder_rt.backends.device_arrays import joined, to_host

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Part:
    """The pixels of one box of a frame: what a step made there, without a frame-sized copy."""

    box: Box  # x0, y0, x1, y1 in the frame
    rgb: np.ndarray  # (y1 - y0, x1 - x0, 3)

    @classmethod
    def whole(cls, image: np.ndarray) -> Part:
        """The whole (H, W, 3) ``image`` as a part of itself (a view, no copy)."""
        return cls((0, 0, image.shape[1], image.shape[0]), image)

    def within(self, box: Box) -> np.ndarray:
        """The part's pixels over ``box``, a box inside the part's own (a view)."""
        x0, y0, x1, y1 = box
        left, top = self.box[:2]
        return self.rgb[y0 - top : y1 - top, x0 - left : x1 - left]


def mask_box(plane: np.ndarray) -> Box | None:
    """The tight box of an (H, W) plane's nonzero pixels; None when there are none."""
    rows = np.flatnonzero(plane.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(plane[rows[0] : rows[-1] + 1].any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def mask_box_in(plane: Any, box: Box | None, box_of: Callable[[Any], Box | None] = mask_box) -> Box | None:
    """:func:`mask_box` (or ``box_of``: the same for tensors) of a plane whose nonzero pixels all
    lie in ``box``, looked for there only."""
    if box is None:
        return None
    x0, y0, x1, y1 = box
    inner = box_of(plane[y0:y1, x0:x1])
    return None if inner is None else (inner[0] + x0, inner[1] + y0, inner[2] + x0, inner[3] + y0)


def mask_boxes(masks: np.ndarray) -> list[Box | None]:
    """:func:`mask_box` of each plane of an (N, H, W) stack: computed once per frame, read by every
    step that only needs to know where a mask may lie."""
    return [mask_box(plane) for plane in masks]


def plane_boxes(stack: Any) -> list[Box | None]:
    """The tight box of each (H, W) plane of an (N, H, W) NumPy array or torch tensor (None where
    empty), from its rows' and columns' hits: (N, H + W) values come to the host in one read, not
    the stack."""
    _, h, w = stack.shape
    hits = np.asarray(to_host(joined([stack.any(2), stack.any(1)], axis=1)))
    boxes: list[Box | None] = []
    for rows, cols in zip(hits[:, :h], hits[:, h:]):
        ys, xs = np.flatnonzero(rows), np.flatnonzero(cols)
        boxes.append(None if ys.size == 0 else (int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1))
    return boxes


def plane_box(plane: Any) -> Box | None:
    """:func:`plane_boxes` of one (H, W) plane: its tight box, None when it is empty."""
    return plane_boxes(plane[None])[0]


def listed_boxes(boxes: np.ndarray) -> list[Box | None]:
    """An (N, 4) array of ``x0, y0, x1, y1`` boxes (``MaskSet.boxes``: zeros for an empty mask) as
    :func:`mask_boxes` gives them."""
    return [None if x1 <= x0 or y1 <= y0 else (int(x0), int(y0), int(x1), int(y1)) for x0, y0, x1, y1 in boxes]


def union_box(boxes: Iterable[Box | None]) -> Box | None:
    """The box around every given box (None for none or only empty ones)."""
    given = [b for b in boxes if b is not None]
    if not given:
        return None
    return min(b[0] for b in given), min(b[1] for b in given), max(b[2] for b in given), max(b[3] for b in given)


def intersection(a: Box | None, b: Box | None) -> Box | None:
    """The common part of two boxes; None when they do not meet."""
    if a is None or b is None:
        return None
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def union_in(masks: np.ndarray, boxes: Sequence[Box | None]) -> np.ndarray:
    """(H, W) bool: the union of an (N, H, W) stack whose mask k lies in ``boxes[k]``, looked for there only."""
    out = np.zeros(masks.shape[1:], bool)
    for k, box in enumerate(boxes):
        if box is not None:
            x0, y0, x1, y1 = box
            out[y0:y1, x0:x1] |= masks[k, y0:y1, x0:x1]
    return out


def with_visible(amodal: np.ndarray, masks: np.ndarray, boxes: Sequence[Box | None]) -> np.ndarray:
    """``amodal | masks`` for (N, H, W) stacks, worked out in the masks' ``boxes`` only: ``amodal``
    itself (no copy) when it already holds every mask pixel, as recovered amodal masks do."""
    missing = [k for k, box in enumerate(boxes)
               if box is not None and (masks[k, box[1] : box[3], box[0] : box[2]] >
                                       amodal[k, box[1] : box[3], box[0] : box[2]]).any()]
    if not missing:
        return amodal
    out = amodal.copy()
    for k in missing:
        x0, y0, x1, y1 = boxes[k]
        out[k, y0:y1, x0:x1] |= masks[k, y0:y1, x0:x1]
    return out
