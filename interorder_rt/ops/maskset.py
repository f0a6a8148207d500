"""``MaskSet``: N instance masks of one frame, built once and queried many times.

Placeholder wiring on the NumPy reference; the compiled kernels replace the bodies.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from interorder_rt.ops import reference as ref


class MaskSet:
    """N same-size instance masks with their areas and boxes."""

    def __init__(self, masks) -> None:
        masks = np.asarray(masks)
        if masks.ndim != 3:
            raise ValueError(f"masks must be (N, H, W), got shape {masks.shape}")
        self._masks = masks.astype(bool)

    @property
    def n(self) -> int:
        return self._masks.shape[0]

    @property
    def height(self) -> int:
        return self._masks.shape[1]

    @property
    def width(self) -> int:
        return self._masks.shape[2]

    def __len__(self) -> int:
        return self.n

    def to_numpy(self) -> np.ndarray:
        return self._masks.copy()

    def areas(self) -> np.ndarray:
        return ref.areas(self._masks)

    def boxes(self) -> np.ndarray:
        return ref.boxes(self._masks)

    def union(self, index: int | Sequence[int]) -> np.ndarray:
        return ref.union(self._masks, index)

    def intersection(self, index: int | Sequence[int]) -> np.ndarray:
        return ref.intersection(self._masks, index)

    def difference(self, a: int | Sequence[int], b: int | Sequence[int]) -> np.ndarray:
        return ref.difference(self._masks, a, b)

    def intersection_matrix(self) -> np.ndarray:
        return ref.intersection_matrix(self._masks)

    def bordering_matrix(self) -> np.ndarray:
        return ref.bordering_matrix(self._masks)

    def convex_hulls(self) -> np.ndarray:
        return ref.convex_hull_masks(self._masks)

    def crops(self, indices: Sequence[int], crop_boxes: np.ndarray, size: int) -> np.ndarray:
        return ref.crop_resize(self._masks, indices, crop_boxes, size)
