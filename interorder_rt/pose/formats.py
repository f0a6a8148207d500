"""Converters from other keypoint layouts to COCO-18 (``interorder_rt.keypoints``).

COCO-18 is COCO-17 reordered plus a neck, which is the midpoint of the shoulders when both are
present (NaN otherwise), as OpenPose defines it.
"""

from __future__ import annotations

import numpy as np

from interorder_rt.keypoints import INDEX, NUM_KEYPOINTS

# COCO-18 name -> index in COCO-17.
_FROM_COCO17 = {
    "nose": 0, "left_eye": 1, "right_eye": 2, "left_ear": 3, "right_ear": 4,
    "left_shoulder": 5, "right_shoulder": 6, "left_elbow": 7, "right_elbow": 8, "left_wrist": 9,
    "right_wrist": 10, "left_hip": 11, "right_hip": 12, "left_knee": 13, "right_knee": 14,
    "left_ankle": 15, "right_ankle": 16,
}
# COCO-18 name -> index among MediaPipe Pose's 33 landmarks.
_FROM_MEDIAPIPE33 = {
    "nose": 0, "left_eye": 2, "right_eye": 5, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14, "left_wrist": 15,
    "right_wrist": 16, "left_hip": 23, "right_hip": 24, "left_knee": 25, "right_knee": 26,
    "left_ankle": 27, "right_ankle": 28,
}


def _assemble(points: np.ndarray, source_index: dict[str, int]) -> np.ndarray:
    """COCO-18 from ``points`` (N, 2) float with NaN for missing ones; neck = mid-shoulders."""
    out = np.full((NUM_KEYPOINTS, 2), np.nan, dtype=np.float32)
    for name, i in source_index.items():
        out[INDEX[name]] = points[i]
    out[INDEX["neck"]] = (out[INDEX["right_shoulder"]] + out[INDEX["left_shoulder"]]) / 2  # NaN unless both
    return out


def coco17_to_coco18(keypoints, *, min_score: float = 0.0) -> np.ndarray:
    """COCO-17 keypoints -> (18, 2) float32 COCO-18.

    Accepts (17, 2) x, y with NaN for missing points, (17, 3) x, y, visibility-or-score, or the flat
    51-number list of a COCO annotation. With a third column, a point is missing unless its value
    exceeds ``min_score`` (COCO's v = 0 "not labelled" is missing by default).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.shape == (51,):
        kp = kp.reshape(17, 3)
    if kp.ndim != 2 or kp.shape[0] != 17 or kp.shape[1] not in (2, 3):
        raise ValueError(f"COCO-17 keypoints must have shape (17, 2), (17, 3) or (51,), got {np.shape(keypoints)}")
    points = kp[:, :2].copy()
    if kp.shape[1] == 3:
        points[kp[:, 2] <= min_score] = np.nan
    return _assemble(points, _FROM_COCO17)


def _landmark_array(landmarks) -> np.ndarray:
    """MediaPipe landmarks as a (33, C) float array: x, y[, z[, visibility[, presence]]]."""
    landmarks = getattr(landmarks, "landmark", landmarks)  # a NormalizedLandmarkList
    if len(landmarks) and hasattr(landmarks[0], "x"):
        return np.array([(lm.x, lm.y, lm.z, lm.visibility) for lm in landmarks], dtype=np.float64)
    return np.asarray(landmarks, dtype=np.float64)


def mediapipe33_to_coco18(landmarks, width: int, height: int, *, min_visibility: float = 0.5) -> np.ndarray:
    """MediaPipe Pose's 33 landmarks -> (18, 2) float32 COCO-18 in pixels.

    ``landmarks``: the solution's ``pose_landmarks`` (or its ``.landmark`` list), or an array
    (33, C) with columns x, y (normalised to [0, 1] by the image width and height), then optionally
    z, visibility, presence. Pixels are ``x * width, y * height``; with a visibility column, a
    landmark whose visibility is below ``min_visibility`` is missing (NaN).
    """
    lm = _landmark_array(landmarks)
    if lm.ndim != 2 or lm.shape[0] != 33 or lm.shape[1] < 2:
        raise ValueError(f"MediaPipe pose landmarks must have shape (33, C >= 2), got {lm.shape}")
    if width <= 0 or height <= 0:
        raise ValueError(f"image width and height must be positive, got {width}x{height}")
    points = lm[:, :2] * (width, height)
    if lm.shape[1] >= 4:
        points[lm[:, 3] < min_visibility] = np.nan
    return _assemble(points, _FROM_MEDIAPIPE33)
