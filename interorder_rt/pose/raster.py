"""Textured triangle rasterizer with a z-buffer and coverage alpha (the compiled ``_C.rasterize``).

``rasterize`` runs the compiled kernel (``csrc/core/raster.cpp``, OpenMP) and falls back to
``rasterize_reference``, the same algorithm in NumPy, when the extension is not built. Semantics
(``csrc/core/raster_math.hpp``): pixel centres at integer coordinates; 4 x 4 coverage samples
per pixel; a sample is inside a triangle on or inside its three edges, whose lines are computed
from their vertices in mesh-index order so that triangles sharing an edge never leave a hole (an
edge marked internal, shared inside one layer, is tested at the pixel centre only: far cheaper,
and exact but for the pixels holding a silhouette vertex, which may read as wholly covered); a
pixel's front triangle is the nearest (largest depth, the later one on ties) covering any of its
samples; its colour is the bilinear sample (border replicated) of that triangle's texture plane
at the pixel centre mapped through the triangle's affine map; alpha is the share of samples any
triangle covers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from interorder_rt import _ext

_SAMPLE_OFFSETS = np.float32([-0.375, -0.125, 0.125, 0.375])
_FULL_MARGIN = np.float32(0.6)


class Raster(NamedTuple):
    rgb: np.ndarray  # (h, w, 3) uint8
    alpha: np.ndarray  # (h, w) uint8 coverage, 0..255
    owner: np.ndarray  # (h, w) int32 front triangle, -1 where none
    source_xy: np.ndarray  # (h, w, 2) float32 texture coordinate sampled, NaN where none


def rasterize(
    texture: np.ndarray, target: np.ndarray, source: np.ndarray, triangles: np.ndarray, planes: np.ndarray,
    depth: np.ndarray, height: int, width: int, internal: np.ndarray | None = None,
) -> Raster:
    """Rasterize triangles (T, 3) over vertices at ``target`` (V, 2) in an ``height x width`` box,
    textured from ``texture`` (L, H, W, 3) uint8 plane ``planes[t]`` at ``source`` (V, 2).

    ``internal`` (T,) uint8, bit k: edge k (vertices k, k + 1) is shared inside the triangle's
    layer and tested at pixel centres only (``internal_edges``); None tests every edge's samples.
    """
    internal = np.zeros(len(triangles), np.uint8) if internal is None else internal
    args = (
        np.ascontiguousarray(texture, np.uint8), np.ascontiguousarray(target, np.float32),
        np.ascontiguousarray(source, np.float32), np.ascontiguousarray(triangles, np.int32),
        np.ascontiguousarray(planes, np.int32), np.ascontiguousarray(depth, np.float32),
        np.ascontiguousarray(internal, np.uint8), int(height), int(width),
    )
    compiled = _ext.compiled()
    if compiled is None:
        return rasterize_reference(*args)
    return Raster(*compiled.rasterize(*args))


def internal_edges(triangles: np.ndarray) -> np.ndarray:
    """(T,) uint8, bit k set where edge k of a triangle (vertices k, k + 1) is shared with another."""
    triangles = np.asarray(triangles, np.int64)
    a, b = triangles, np.roll(triangles, -1, axis=1)
    keys = np.minimum(a, b) * (int(triangles.max(initial=0)) + 1) + np.maximum(a, b)
    _, inverse, counts = np.unique(keys.ravel(), return_inverse=True, return_counts=True)
    shared = (counts[inverse] > 1).reshape(-1, 3)
    return (shared * np.array([1, 2, 4])).sum(axis=1).astype(np.uint8)


def _edges(p: np.ndarray, tri: np.ndarray) -> np.ndarray | None:
    """(3, 3) unit edge lines a, b, c of one triangle, inside >= 0; None when degenerate."""
    edges = np.empty((3, 3), np.float32)
    for k in range(3):
        i, j, opposite = k, (k + 1) % 3, (k + 2) % 3
        a, b = (p[i], p[j]) if tri[i] < tri[j] else (p[j], p[i])
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = np.sqrt(dx * dx + dy * dy, dtype=np.float32)
        if not length > 0:
            return None
        ea, eb = np.float32(-dy / length), np.float32(dx / length)
        edges[k] = ea, eb, -(ea * a[0] + eb * a[1])
        side = edges[k, 0] * p[opposite][0] + edges[k, 1] * p[opposite][1] + edges[k, 2]
        if side == 0:
            return None
        if side < 0:
            edges[k] = -edges[k]
    return edges


def _map(p: np.ndarray, s: np.ndarray) -> np.ndarray | None:
    ax, ay, bx, by = p[1, 0] - p[0, 0], p[1, 1] - p[0, 1], p[2, 0] - p[0, 0], p[2, 1] - p[0, 1]
    det = ax * by - bx * ay
    if not (det != 0 and np.isfinite(det)):
        return None
    m = np.empty(6, np.float32)
    for c in range(2):
        du, dv = s[1, c] - s[0, c], s[2, c] - s[0, c]
        gx, gy = (du * by - dv * ay) / det, (dv * ax - du * bx) / det
        m[3 * c : 3 * c + 3] = gx, gy, s[0, c] - (gx * p[0, 0] + gy * p[0, 1])
    return m


def _line(e: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (e[0] * x + e[1] * y) + e[2]


def _coverage(edges: np.ndarray, internal: int, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(h, w) int64 16-bit coverage of pixel centres ``xs``, ``ys`` (float32 grids)."""
    inner = [(internal >> k) & 1 == 1 for k in range(3)]
    centre = [_line(e, xs, ys) for e in edges]
    none = np.zeros(xs.shape, bool)
    full = np.ones(xs.shape, bool)
    for d, centre_only in zip(centre, inner):
        none |= d < 0 if centre_only else d < -_FULL_MARGIN
        if not centre_only:
            full &= d >= _FULL_MARGIN
    bits = np.zeros(xs.shape, np.int64)
    for j, oy in enumerate(_SAMPLE_OFFSETS):
        for i, ox in enumerate(_SAMPLE_OFFSETS):
            sx, sy = xs + ox, ys + oy
            inside = np.ones(xs.shape, bool)
            for e, centre_only in zip(edges, inner):
                if not centre_only:
                    inside &= _line(e, sx, sy) >= 0
            bits |= inside.astype(np.int64) << (4 * j + i)
    return np.where(none, 0, np.where(full, 0xFFFF, bits))


def _bilinear(plane: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    h, w = plane.shape[:2]
    u = np.minimum(np.maximum(u, np.float32(-1)), np.float32(w))
    v = np.minimum(np.maximum(v, np.float32(-1)), np.float32(h))
    fu, fv = np.floor(u), np.floor(v)
    ax, ay = (u - fu)[:, None], (v - fv)[:, None]
    x0, y0 = fu.astype(np.int64), fv.astype(np.int64)
    x1, y1 = np.clip(x0 + 1, 0, w - 1), np.clip(y0 + 1, 0, h - 1)
    x0, y0 = np.clip(x0, 0, w - 1), np.clip(y0, 0, h - 1)
    p = plane.astype(np.float32)
    bx, by = np.float32(1) - ax, np.float32(1) - ay
    top = bx * p[y0, x0] + ax * p[y0, x1]
    bottom = bx * p[y1, x0] + ax * p[y1, x1]
    return np.clip((by * top + ay * bottom) + np.float32(0.5), 0, 255).astype(np.uint8)


def rasterize_reference(texture, target, source, triangles, planes, depth, internal, height, width) -> Raster:
    """NumPy twin of the compiled rasterizer (slow: for tests and builds without ``_C``)."""
    owner = np.full((height, width), -1, np.int32)
    zbuf = np.zeros((height, width), np.float32)
    bits = np.zeros((height, width), np.int64)
    maps = np.zeros((len(triangles), 6), np.float32)
    for t, tri in enumerate(triangles):
        p, s = target[tri], source[tri]
        if not (np.isfinite(p).all() and np.isfinite(s).all() and np.isfinite(depth[t])):
            continue
        edges, m = _edges(p, tri), _map(p, s)
        if edges is None or m is None:
            continue
        maps[t] = m
        x0 = int(np.clip(np.ceil(p[:, 0].min() - np.float32(0.5)), 0, width))
        y0 = int(np.clip(np.ceil(p[:, 1].min() - np.float32(0.5)), 0, height))
        x1 = int(np.clip(np.floor(p[:, 0].max() + np.float32(0.5)) + 1, 0, width))
        y1 = int(np.clip(np.floor(p[:, 1].max() + np.float32(0.5)) + 1, 0, height))
        if x1 <= x0 or y1 <= y0:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        covered = _coverage(edges, int(internal[t]), xs, ys)
        box = (slice(y0, y1), slice(x0, x1))
        bits[box] |= covered
        wins = (covered != 0) & ((owner[box] < 0) | (depth[t] >= zbuf[box]))
        owner[box][wins], zbuf[box][wins] = t, depth[t]
    rgb = np.zeros((height, width, 3), np.uint8)
    source_xy = np.full((height, width, 2), np.nan, np.float32)
    ys, xs = np.nonzero(owner >= 0)
    if len(ys):
        m, fx, fy = maps[owner[ys, xs]], xs.astype(np.float32), ys.astype(np.float32)
        u = (m[:, 0] * fx + m[:, 1] * fy) + m[:, 2]
        v = (m[:, 3] * fx + m[:, 4] * fy) + m[:, 5]
        source_xy[ys, xs] = np.stack([u, v], axis=1)
        for plane in np.unique(planes[owner[ys, xs]]):
            sel = planes[owner[ys, xs]] == plane
            rgb[ys[sel], xs[sel]] = _bilinear(texture[plane], u[sel], v[sel])
    counts = np.zeros((height, width), np.int64)
    for k in range(16):
        counts += (bits >> k) & 1
    alpha = ((counts * 255 + 8) // 16).astype(np.uint8)
    return Raster(rgb, alpha, owner, source_xy)
