"""Tight boxes of masks: where per-pixel work on a mask has to look, so its cost follows the mask."""

from __future__ import annotations

from typing import Iterable

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


def mask_box(plane: np.ndarray) -> Box | None:
    """The tight box of an (H, W) plane's nonzero pixels; None when there are none."""
    rows = np.flatnonzero(plane.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(plane[rows[0] : rows[-1] + 1].any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def mask_boxes(masks: np.ndarray) -> list[Box | None]:
    """:func:`mask_box` of each plane of an (N, H, W) stack: computed once per frame, read by every
    step that only needs to know where a mask may lie."""
    return [mask_box(plane) for plane in masks]


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
