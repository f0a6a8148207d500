"""Back-to-front painting of RGB layers: the last step of every merge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Layer:
    """One paintable layer: its pixels ``rgb[mask]`` cover whatever lies below.

    With ``alpha`` (a pose transfer's coverage), ``rgb`` is blended over what lies below by it
    wherever it is non-zero, so the silhouette has no staircase and no halo.
    """

    rgb: np.ndarray  # (H, W, 3) uint8, read only where mask (or alpha) is set
    mask: np.ndarray  # (H, W) bool
    alpha: np.ndarray | None = None  # (H, W) uint8 coverage, 0..255


def paint(base: np.ndarray, layers: Sequence[Layer]) -> tuple[np.ndarray, np.ndarray]:
    """Paint ``layers`` (back to front) over ``base``.

    Returns the painted (H, W, 3) uint8 image and the owner map, (H, W) int32: the index in
    ``layers`` of the layer each pixel shows (of a layer with alpha: wherever its alpha is
    non-zero), ``-1`` where the base shows.
    """
    base = np.asarray(base)
    if base.ndim != 3 or base.shape[2] != 3 or base.dtype != np.uint8:
        raise ValueError(f"base must be an (H, W, 3) uint8 image, got {base.shape} {base.dtype}")
    out = base.copy()
    owner = np.full(base.shape[:2], -1, dtype=np.int32)
    for k, layer in enumerate(layers):
        if layer.mask.shape != base.shape[:2] or layer.rgb.shape != base.shape:
            raise ValueError(
                f"layer {k} has rgb {layer.rgb.shape} and mask {layer.mask.shape}; "
                f"the base is {base.shape}"
            )
        if layer.alpha is None:
            out[layer.mask] = layer.rgb[layer.mask]
            owner[layer.mask] = k
        else:
            owner[_blend(out, layer)] = k
    return out, owner


def _blend(out: np.ndarray, layer: Layer) -> np.ndarray:
    """``layer`` blended into ``out`` by its alpha; returns where it covers anything."""
    if layer.alpha.shape != out.shape[:2]:
        raise ValueError(f"layer alpha has shape {layer.alpha.shape}; the base is {out.shape}")
    edge = layer.alpha > 0
    a = layer.alpha[edge][:, None].astype(np.float32) / 255
    out[edge] = (layer.rgb[edge] * a + out[edge] * (1 - a) + 0.5).astype(np.uint8)
    return edge


def paste_on_top(image: np.ndarray, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The order-blind baseline: ``rgb[mask]`` pasted over ``image``, hiding whatever was there."""
    out, _ = paint(image, [Layer(rgb, np.asarray(mask, dtype=bool))])
    return out
