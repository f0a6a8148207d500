"""The pose transfer stage f_P: what a source person is, and what any pose transfer must do.

The training-free :class:`~interorder_rt.pose.mesh_warp.MeshWarp` is the default; a learned generator
(PATN, XingGAN, a user's own) plugs in by implementing the same ``__call__`` (docs/pose_transfer.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from interorder_rt.keypoints import INDEX, KEYPOINT_NAMES, validate_keypoints, visible

# A pose can be placed only if its torso can be anchored: the neck, a shoulder and a hip.
REQUIRED_KEYPOINTS = (("neck",), ("right_shoulder", "left_shoulder"), ("right_hip", "left_hip"))


def check_core_keypoints(keypoints, *, name: str = "keypoints") -> np.ndarray:
    """Validate (18, 2) keypoints and require the neck, one shoulder and one hip.

    Returns the keypoints as float32; raises ValueError naming what is missing.
    """
    kp = validate_keypoints(keypoints, name=name)
    present = visible(kp)
    missing = [" or ".join(group) for group in REQUIRED_KEYPOINTS if not any(present[INDEX[k]] for k in group)]
    if missing:
        raise ValueError(
            f"{name} lack {', '.join(missing)}: a pose transfer needs the neck, one shoulder and one hip "
            f"(present: {', '.join(KEYPOINT_NAMES[k] for k in np.flatnonzero(present)) or 'none'})"
        )
    return kp


def check_size(size) -> tuple[int, int]:
    """Validate a target frame size ``(h, w)`` of two positive integers."""
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size must be a (height, width) pair, got {size!r}")
    h, w = size
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (h, w)):
        raise TypeError(f"size must hold two integers, got {size!r}")
    if h <= 0 or w <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return int(h), int(w)


@dataclass(frozen=True, eq=False)
class SourcePerson:
    """The person to move: a source image, the person's complete mask in it, and its keypoints.

    Validated on construction and stored as read-only copies, so a pose transfer may cache
    whatever it derives from one ``SourcePerson`` (a video reuses the same source every frame).
    Compared and hashed by identity.
    """

    image: np.ndarray  # (H, W, 3) uint8, the source image
    mask: np.ndarray  # (H, W) bool, the person's (complete) mask in that image
    keypoints: np.ndarray  # (18, 2) float32, COCO-18, NaN = missing

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.dtype != np.uint8:
            raise TypeError(f"source image must be uint8, got {image.dtype}")
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"source image must have shape (H, W, 3), got {image.shape}")
        mask = np.asarray(self.mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"source mask must be bool (use mask.astype(bool)), got {mask.dtype}")
        if mask.shape != image.shape[:2]:
            raise ValueError(f"source mask shape {mask.shape} does not match the image's {image.shape[:2]}")
        if not mask.any():
            raise ValueError("source mask is empty")
        keypoints = check_core_keypoints(self.keypoints, name="source keypoints").copy()
        for field_name, value in (("image", image.copy()), ("mask", mask.copy()), ("keypoints", keypoints)):
            value.flags.writeable = False
            object.__setattr__(self, field_name, value)


@runtime_checkable
class PoseTransfer(Protocol):
    """Moves a source person into a target pose."""

    def __call__(
        self, source: SourcePerson, target_keypoints: np.ndarray, size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Render ``source`` in ``target_keypoints`` (18, 2) on a frame of ``size = (h, w)``.

        Returns ``(rgb (h, w, 3) uint8, mask (h, w) bool)`` in the target frame's coordinates;
        ``rgb`` is meaningful inside ``mask`` only.
        """
        ...
