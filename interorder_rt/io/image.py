"""Reading image files as RGB arrays with errors that say what is wrong."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB.

    Raises ``FileNotFoundError`` when the file is missing and ``ValueError`` when it exists but
    cannot be decoded as an image.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    data = np.fromfile(path, dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise ValueError(f"cannot decode image file (corrupt or not an image): {path}")
    return np.ascontiguousarray(bgr[..., ::-1])
