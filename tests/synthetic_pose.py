"""A frontal standing person's COCO-18 keypoints, for tests that need a plausible pose."""

from __future__ import annotations

import numpy as np

# Head at (0, 0), feet at y = 7, arms reaching x = +-1.4.
_UNIT = np.array([
    [0, 0], [0, 1], [-1, 1], [-1.3, 2.2], [-1.4, 3.3], [1, 1], [1.3, 2.2], [1.4, 3.3],
    [-0.6, 3.5], [-0.6, 5.2], [-0.6, 7], [0.6, 3.5], [0.6, 5.2], [0.6, 7],
    [-0.2, -0.2], [0.2, -0.2], [-0.4, 0], [0.4, 0],
])


def standing_pose(x0: float, y0: float, height: float, width: float | None = None) -> np.ndarray:
    """(18, 2) float32: the head at ``(x0, y0)``, ``height`` pixels to the feet, arms spanning
    ``width`` (by default in proportion to the height)."""
    scale = [height / 7 if width is None else width / 2.8, height / 7]
    return (_UNIT * scale + [x0, y0]).astype(np.float32)
