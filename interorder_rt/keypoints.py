"""The native keypoint format: 18 COCO/OpenPose body keypoints, ``(18, 2)`` float ``x, y``.

A missing keypoint is ``NaN`` in both coordinates.
"""

from __future__ import annotations

import numpy as np

KEYPOINT_NAMES = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
INDEX = {name: k for k, name in enumerate(KEYPOINT_NAMES)}

# Bones of the skeleton, as pairs of keypoint indices (OpenPose's drawing order).
LIMBS = (
    (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7),
    (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)

# Left/right counterparts, for mirroring a missing limb from the other side.
MIRROR = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)


def validate_keypoints(keypoints, *, name: str = "keypoints") -> np.ndarray:
    """Return keypoints as a (18, 2) float32 array, or raise a ValueError naming the problem."""
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.shape != (NUM_KEYPOINTS, 2):
        raise ValueError(f"{name} must have shape ({NUM_KEYPOINTS}, 2) in COCO-18 order, got {kp.shape}")
    if np.isinf(kp).any():
        raise ValueError(f"{name} contains infinite coordinates")
    return kp


def visible(keypoints: np.ndarray) -> np.ndarray:
    """(18,) bool: which keypoints are present (not NaN)."""
    return ~np.isnan(np.asarray(keypoints, dtype=np.float32)).any(axis=-1)
