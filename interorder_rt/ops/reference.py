"""Plain NumPy reference for every mask op.

These functions define what the compiled kernels must return, bit for bit. They take
(N, H, W) boolean mask stacks and favour clarity over speed.

Conventions shared with the kernels:
- boxes are ``(x0, y0, x1, y1)`` with exclusive ends; an empty mask has box ``(0, 0, 0, 0)``;
- "bordering": mask i dilated by a 3x3 cross touches mask j (i != j);
- a convex hull mask holds the pixels whose centres lie in the convex hull of the mask's pixel
  centres, boundary included;
- a crop samples the source pixel ``floor(x0 + (u + 0.5) * (x1 - x0) / S)`` (same for y), and
  zero outside the image.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _indices(index: int | Sequence[int]) -> list[int]:
    return [int(index)] if np.isscalar(index) else [int(i) for i in index]


def _flat(masks: np.ndarray) -> np.ndarray:
    """(N, H * W) view; explicit sizes so that N = 0 works."""
    return masks.reshape(masks.shape[0], int(np.prod(masks.shape[1:])))


def areas(masks: np.ndarray) -> np.ndarray:
    """Pixel count of each mask, (N,) int64."""
    return _flat(masks).sum(axis=1, dtype=np.int64)


def boxes(masks: np.ndarray) -> np.ndarray:
    """Tight box of each mask, (N, 4) int32 ``x0, y0, x1, y1`` (exclusive ends)."""
    out = np.zeros((masks.shape[0], 4), dtype=np.int32)
    for k, m in enumerate(masks):
        ys = np.flatnonzero(m.any(axis=1))
        xs = np.flatnonzero(m.any(axis=0))
        if ys.size:
            out[k] = (xs[0], ys[0], xs[-1] + 1, ys[-1] + 1)
    return out


def union(masks: np.ndarray, index: int | Sequence[int]) -> np.ndarray:
    """Union of the selected masks, (H, W) bool; empty selection gives all False."""
    idx = _indices(index)
    if not idx:
        return np.zeros(masks.shape[1:], dtype=bool)
    return np.logical_or.reduce(masks[idx], axis=0)


def intersection(masks: np.ndarray, index: int | Sequence[int]) -> np.ndarray:
    """Intersection of the selected masks, (H, W) bool; empty selection gives all False."""
    idx = _indices(index)
    if not idx:
        return np.zeros(masks.shape[1:], dtype=bool)
    return np.logical_and.reduce(masks[idx], axis=0)


def difference(masks: np.ndarray, a: int | Sequence[int], b: int | Sequence[int]) -> np.ndarray:
    """Relative complement ``union(a) \\ union(b)``, (H, W) bool."""
    return union(masks, a) & ~union(masks, b)


def intersection_matrix(masks: np.ndarray) -> np.ndarray:
    """(N, N) int64 pixel counts of ``mask_i & mask_j``; the diagonal holds the areas."""
    flat = _flat(masks)
    dtype = np.float32 if flat.shape[1] < 2**24 else np.float64
    f = flat.astype(dtype)
    return np.rint(f @ f.T).astype(np.int64)


def dilate_cross(masks: np.ndarray) -> np.ndarray:
    """Dilate each (.., H, W) mask by a 3x3 cross."""
    out = masks.copy()
    out[..., 1:, :] |= masks[..., :-1, :]
    out[..., :-1, :] |= masks[..., 1:, :]
    out[..., :, 1:] |= masks[..., :, :-1]
    out[..., :, :-1] |= masks[..., :, 1:]
    return out


def bordering_matrix(masks: np.ndarray) -> np.ndarray:
    """(N, N) bool: mask i dilated by a 3x3 cross touches mask j; False on the diagonal."""
    grown = _flat(dilate_cross(masks)).astype(np.float32)
    flat = _flat(masks).astype(np.float32)
    touch = (grown @ flat.T) > 0
    np.fill_diagonal(touch, False)
    return touch


def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (counter-clockwise, no repeated end) of integer points, monotone chain."""
    pts = sorted(set(map(tuple, points.tolist())))
    if len(pts) <= 2:
        return np.array(pts, dtype=np.int64)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1], dtype=np.int64)


def convex_hull_masks(masks: np.ndarray) -> np.ndarray:
    """(N, H, W) bool: pixels whose centres lie in the convex hull of each mask (boundary in)."""
    out = np.zeros_like(masks, dtype=bool)
    for k, m in enumerate(masks):
        ys, xs = np.nonzero(m)
        if ys.size == 0:
            continue
        hull = _hull(np.stack([xs, ys], axis=1))
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.int64)
        if len(hull) <= 2:
            # Degenerate hull: a point or a segment; keep the pixels on the segment.
            a, b = hull[0], hull[-1]
            cross = (b[0] - a[0]) * (gy - a[1]) - (b[1] - a[1]) * (gx - a[0])
            inside = cross == 0
        else:
            inside = np.ones(gx.shape, dtype=bool)
            for a, b in zip(hull, np.roll(hull, -1, axis=0)):
                inside &= (b[0] - a[0]) * (gy - a[1]) - (b[1] - a[1]) * (gx - a[0]) >= 0
        out[k, y0:y1, x0:x1] = inside
    return out


def crop_resize(
    masks: np.ndarray, indices: Sequence[int], crop_boxes: np.ndarray, size: int
) -> np.ndarray:
    """Nearest-neighbour crops, (B, size, size) uint8, of ``masks[indices[b]]`` in ``crop_boxes[b]``.

    ``crop_boxes`` is (B, 4) float ``x0, y0, x1, y1`` in pixels; samples outside the image are 0.
    """
    n, h, w = masks.shape
    crop_boxes = np.asarray(crop_boxes, dtype=np.float64).reshape(-1, 4)
    out = np.zeros((len(indices), size, size), dtype=np.uint8)
    if h == 0 or w == 0 or size == 0:
        return out  # no samples, or every sample outside an empty frame
    steps = np.arange(size, dtype=np.float64) + 0.5
    for b, (k, (x0, y0, x1, y1)) in enumerate(zip(indices, crop_boxes)):
        sx = np.floor(x0 + steps * ((x1 - x0) / size)).astype(np.int64)
        sy = np.floor(y0 + steps * ((y1 - y0) / size)).astype(np.int64)
        vx = (sx >= 0) & (sx < w)
        vy = (sy >= 0) & (sy < h)
        patch = masks[k][np.clip(sy, 0, h - 1)][:, np.clip(sx, 0, w - 1)]
        out[b] = patch & vy[:, None] & vx[None, :]
    return out


def growth_counts(amodal: np.ndarray, target: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """Per crop, the pixels a completion grew into its partner: ``|amodal & ~target & partner|``.

    All three are (B, S, S) bool/uint8; returns (B,) int64.
    """
    grown = amodal.astype(bool) & ~target.astype(bool) & partner.astype(bool)
    return _flat(grown).sum(axis=1, dtype=np.int64)
