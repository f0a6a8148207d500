"""The native keypoint format: 18 COCO/OpenPose body keypoints, ``(18, 2)`` float ``x, y``.

A missing keypoint is ``NaN`` in both coordinates. An exact ``(0, 0)`` is read as missing too:
OpenPose writes ``(0, 0, 0)`` for a point it did not find, and no real joint sits exactly on the
corner pixel's corner.
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
    """Return keypoints as a (18, 2) float32 array, or raise a TypeError/ValueError naming the problem.

    A point given as exactly ``(0, 0)`` comes back as missing (``NaN``), in a copy.
    """
    try:
        with np.errstate(over="ignore"):  # too large for float32 becomes inf, refused below
            kp = np.asarray(keypoints, dtype=np.float32)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"{name} must be ({NUM_KEYPOINTS}, 2) numbers, got {type(keypoints).__name__}: {exc}") from None
    if kp.shape != (NUM_KEYPOINTS, 2):
        raise ValueError(f"{name} must have shape ({NUM_KEYPOINTS}, 2) in COCO-18 order, got {kp.shape}")
    if np.isinf(kp).any():
        raise ValueError(f"{name} contains infinite coordinates (or ones too large for float32)")
    at_origin = (kp == 0).all(axis=1)
    if at_origin.any():
        kp = np.where(at_origin[:, None], np.float32(np.nan), kp)
    return kp


def visible(keypoints: np.ndarray) -> np.ndarray:
    """(18,) bool: which keypoints are present (not NaN)."""
    return ~np.isnan(np.asarray(keypoints, dtype=np.float32)).any(axis=-1)
