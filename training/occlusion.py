"""Random occluders for imitative learning: put one instance's mask over another's.

Works on any pair of same-size boolean masks (ORNet uses modal masks; MNet can move the
occluder's RGB with the returned shift). The recipe follows DESIGN.md: the occluder's box
overlaps the target's box by a share drawn from ``overlap`` (per axis), and placements are
retried until the covered share of the target lies strictly inside ``covered``.
"""

from __future__ import annotations

import numpy as np


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Tight ``(x0, y0, x1, y1)`` box (exclusive ends) of a 2-D mask, None when it is empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    if ys.size == 0:
        return None
    xs = np.flatnonzero(mask.any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def shift_mask(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``mask`` moved by (dy, dx) pixels on its own canvas; what leaves the canvas is lost."""
    h, w = mask.shape[:2]
    out = np.zeros_like(mask)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def _axis_offset(rng: np.random.Generator, t0: int, t1: int, o0: int, o1: int, share: float) -> int:
    """Shift of the occluder interval [o0, o1) so that it overlaps [t0, t1) by at least ``share``.

    The share is of the shorter of the two intervals; the position is uniform over all shifts
    that achieve it.
    """
    length = o1 - o0
    need = max(1, int(round(share * min(length, t1 - t0))))
    lo, hi = t0 - length + need, t1 - need  # start positions of the shifted interval
    return int(rng.integers(lo, hi + 1)) - o0


def place_occluder(
    target: np.ndarray,
    occluder: np.ndarray,
    rng: np.random.Generator,
    *,
    overlap: tuple[float, float] = (0.4, 1.0),
    covered: tuple[float, float] = (0.001, 0.9),
    tries: int = 20,
) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Move ``occluder`` over ``target`` (both (H, W) bool); None when no try lands in ``covered``.

    Returns the moved occluder mask and the ``(dy, dx)`` shift applied to it.
    """
    if target.shape != occluder.shape or target.ndim != 2:
        raise ValueError(f"target and occluder must be same-shape 2-D masks, got {target.shape}, {occluder.shape}")
    target_box, occluder_box = mask_box(target), mask_box(occluder)
    if target_box is None or occluder_box is None:
        return None
    tx0, ty0, tx1, ty1 = target_box
    ox0, oy0, ox1, oy1 = occluder_box
    target_area = float(target.sum())
    for _ in range(tries):
        dx = _axis_offset(rng, tx0, tx1, ox0, ox1, rng.uniform(*overlap))
        dy = _axis_offset(rng, ty0, ty1, oy0, oy1, rng.uniform(*overlap))
        moved = shift_mask(occluder, dy, dx)
        share = np.count_nonzero(moved & target) / target_area
        if covered[0] < share < covered[1]:
            return moved, (dy, dx)
    return None
