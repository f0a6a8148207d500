"""The pose transfer stage f_P: what a source person is, and what any pose transfer must do.

The training-free :class:`~interorder_rt.pose.mesh_warp.MeshWarp` is the default; a learned generator
(PATN, XingGAN, a user's own) plugs in by implementing the same ``__call__`` (docs/pose_transfer.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from interorder_rt.keypoints import INDEX, KEYPOINT_NAMES, validate_keypoints, visible
from interorder_rt.pose.skeleton import spine

# A pose can be placed only if its torso can be anchored: the neck, a shoulder and a hip.
REQUIRED_KEYPOINTS = (("neck",), ("right_shoulder", "left_shoulder"), ("right_hip", "left_hip"))
_TORSO = np.array([INDEX[k] for group in REQUIRED_KEYPOINTS for k in group])
# The spine (neck to the middle of the hips) is the pose's size unit: a shorter one is degenerate
# (every point on one spot), and the ratio of two of them scales the whole person.
MIN_SPINE_PIXELS = 2.0
# A source person's spine is at least this share of its mask's longer side: a shorter one means
# keypoints that do not belong to the mask, and would blow the person up in the target pose.
MIN_SPINE_SHARE = 0.05


def check_core_keypoints(keypoints, *, name: str = "keypoints") -> np.ndarray:
    """Validate (18, 2) keypoints, require the neck, one shoulder and one hip, and a spine (neck to
    the middle of the hips) of at least ``MIN_SPINE_PIXELS``.

    Returns the keypoints as float32 (an exact ``(0, 0)`` read as missing,
    ``keypoints.validate_keypoints``); raises ValueError naming what is missing or degenerate.
    """
    kp = validate_keypoints(keypoints, name=name)
    present = visible(kp)
    missing = [" or ".join(group) for group in REQUIRED_KEYPOINTS if not any(present[INDEX[k]] for k in group)]
    if missing:
        raise ValueError(
            f"{name} lack {', '.join(missing)}: a pose transfer needs the neck, one shoulder and one hip "
            f"(present: {', '.join(KEYPOINT_NAMES[k] for k in np.flatnonzero(present)) or 'none'})"
        )
    length = float(np.hypot(*spine(kp)))
    if length < MIN_SPINE_PIXELS:
        raise ValueError(
            f"{name} are degenerate: the neck and the hips are {length:.2g} pixels apart "
            f"(at least {MIN_SPINE_PIXELS:g} needed to size the body; keypoints are in pixels, not normalised)"
        )
    return kp


def check_keypoints_in_frame(keypoints: np.ndarray, size: tuple[int, int], *, name: str = "keypoints") -> None:
    """Every present keypoint lies within the frame of ``size = (h, w)`` grown by its own size on
    each side (a limb may leave the frame, a body far outside it is an error), or a ValueError."""
    h, w = size
    low, high = np.array([-w, -h], np.float32), np.array([2 * w, 2 * h], np.float32)
    _check_inside(keypoints, low, high, name=name, place=f"the {w}x{h} frame")


def check_source_keypoints(keypoints: np.ndarray, mask: np.ndarray, *, name: str = "source keypoints") -> None:
    """The source keypoints fit the person's mask, or a ValueError.

    The torso's points (neck, shoulders, hips) lie within the mask's box grown by the box's longer
    side on each side, and the spine is at least ``MIN_SPINE_SHARE`` of that side: a skeleton off
    the person moves nothing of it (it vanishes), a tiny one on a large mask scales it over the
    whole frame. Limbs may reach further (a leg hidden behind an occluder).
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box_low = np.array([cols[0], rows[0]], np.float32)
    box_high = np.array([cols[-1] + 1, rows[-1] + 1], np.float32)
    side = float((box_high - box_low).max())
    hint = " (are they this person's, in this image's pixels?)"
    torso = np.full_like(keypoints, np.nan)
    torso[_TORSO] = keypoints[_TORSO]
    _check_inside(torso, box_low - side, box_high + side, name=name, place="the person's mask", hint=hint)
    length = float(np.hypot(*spine(keypoints)))
    if length < MIN_SPINE_SHARE * side:
        raise ValueError(
            f"{name} do not fit the person's mask: the spine is {length:.3g} pixels on a mask "
            f"{side:.0f} pixels long (at least {MIN_SPINE_SHARE:g} of it expected)"
        )


def _check_inside(
    keypoints: np.ndarray, low: np.ndarray, high: np.ndarray, *, name: str, place: str, hint: str = ""
) -> None:
    present = visible(keypoints)
    outside = present & ((keypoints < low) | (keypoints > high)).any(axis=1)
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        x, y = keypoints[k]
        raise ValueError(
            f"{name}: {KEYPOINT_NAMES[k]} at ({x:g}, {y:g}) lies far outside {place} "
            f"(x in [{low[0]:g}, {high[0]:g}], y in [{low[1]:g}, {high[1]:g}] accepted){hint}"
        )


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
        check_keypoints_in_frame(keypoints, image.shape[:2], name="source keypoints")
        check_source_keypoints(keypoints, mask)
        for field_name, value in (("image", image.copy()), ("mask", mask.copy()), ("keypoints", keypoints)):
            value.flags.writeable = False
            object.__setattr__(self, field_name, value)


    def box(self, border: int) -> tuple[int, int, int, int]:
        """``x0, y0, x1, y1`` of the person's mask grown by ``border`` pixels, clipped to the image:
        where a pose stage's per-pixel work on the source has to look."""
        height, width = self.mask.shape
        x, y, w, h = cv2.boundingRect(self.mask.view(np.uint8))
        return max(x - border, 0), max(y - border, 0), min(x + w + border, width), min(y + h + border, height)


@runtime_checkable
class PoseTransfer(Protocol):
    """Moves a source person into a target pose.

    A stage may also define ``prepare(source)``: the work that depends on the source alone (a
    mesh, a part analysis), done when the Engine's source is set, so that a stream's first frame
    does not pay for it.
    """

    def __call__(
        self, source: SourcePerson, target_keypoints: np.ndarray, size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Render ``source`` in ``target_keypoints`` (18, 2) on a frame of ``size = (h, w)``.

        Returns ``(rgb (h, w, 3) uint8, mask (h, w) bool)`` in the target frame's coordinates;
        ``rgb`` is meaningful inside ``mask`` only.
        """
        ...
