"""Back-to-front painting of RGB layers: the last step of every merge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Layer:
    """One paintable layer: its pixels ``rgb[mask]`` cover whatever lies below."""

    rgb: np.ndarray  # (H, W, 3) uint8, read only where mask is set
    mask: np.ndarray  # (H, W) bool


def paint(base: np.ndarray, layers: Sequence[Layer]) -> tuple[np.ndarray, np.ndarray]:
    """Paint ``layers`` (back to front) over ``base``.

    Returns the painted (H, W, 3) uint8 image and the owner map, (H, W) int32: the index in
    ``layers`` of the layer each pixel shows, ``-1`` where the base shows.
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
        out[layer.mask] = layer.rgb[layer.mask]
        owner[layer.mask] = k
    return out, owner


def paste_on_top(image: np.ndarray, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The order-blind baseline: ``rgb[mask]`` pasted over ``image``, hiding whatever was there."""
    out, _ = paint(image, [Layer(rgb, np.asarray(mask, dtype=bool))])
    return out
