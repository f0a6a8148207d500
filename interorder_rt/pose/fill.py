"""Filling pixels from their nearest valid neighbour (vectorised through OpenCV's labelled distance transform)."""

from __future__ import annotations

import cv2
import numpy as np


def nearest_valid_index(valid: np.ndarray) -> np.ndarray:
    """(H, W) int64 flat index of the nearest ``valid`` pixel to each pixel; ``valid`` must not be empty."""
    distances, labels = cv2.distanceTransformWithLabels(
        (~valid).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # Each valid pixel carries its own label; look the label up to get back its position.
    lookup = np.zeros(int(labels.max()) + 1, dtype=np.int64)
    lookup[labels[valid]] = np.flatnonzero(valid)
    return lookup[labels]


def fill_from_nearest(image: np.ndarray, valid: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Copy of ``image`` whose pixels in ``where`` take the colour of the nearest ``valid`` pixel."""
    out = image.copy()
    if not where.any() or not valid.any():
        return out
    source = nearest_valid_index(valid)[where]
    out[where] = image.reshape(-1, image.shape[-1])[source]
    return out
