"""A reference frame for the engine, and the checks that turn user input into clean arrays."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from interorder_rt.io.coco_mask import decode_rle
from interorder_rt.pose.protocol import check_core_keypoints


@dataclass(frozen=True)
class Frame:
    """One reference frame: the image, every instance's mask, and whom to replace.

    ``masks`` is an (N, H, W) bool/0-1 integer array, a torch tensor of the same, or a list of
    COCO RLE dicts. ``target`` is the index of the person to replace (or a list of indices; an
    empty list replaces no one, e.g. in a video frame the person has left), and ``keypoints``
    that person's (18, 2) COCO-18 keypoints (or a list, one per target).
    ``instance_ids`` (optional, one per instance) keep an instance's identity across a stream;
    without them an instance is identified by its index.
    """

    image: Any
    masks: Any
    target: int | Sequence[int]
    keypoints: Any
    instance_ids: Sequence[int] | None = None

    @property
    def targets(self) -> tuple[int, ...]:
        """The replaced instances, as a tuple."""
        return (self.target,) if np.isscalar(self.target) else tuple(self.target)

    @classmethod
    def from_ultralytics(cls, result: Any, **options: Any) -> "Frame":
        """A frame from an ultralytics ``Results`` (``interorder_rt.io.adapters.from_ultralytics``)."""
        from interorder_rt.io.adapters import from_ultralytics

        return from_ultralytics(result, **options)

    @classmethod
    def from_detectron2(cls, instances: Any, image: Any, **options: Any) -> "Frame":
        """A frame from a detectron2 ``Instances`` (``interorder_rt.io.adapters.from_detectron2``)."""
        from interorder_rt.io.adapters import from_detectron2

        return from_detectron2(instances, image, **options)

    @classmethod
    def from_coco_results(cls, results: Sequence[dict], image: Any, **options: Any) -> "Frame":
        """A frame from a COCO results list (``interorder_rt.io.adapters.from_coco_results``)."""
        from interorder_rt.io.adapters import from_coco_results

        return from_coco_results(results, image, **options)

    @classmethod
    def from_masks(cls, image: Any, masks: Any, **options: Any) -> "Frame":
        """A frame from plain masks and keypoints (``interorder_rt.io.adapters.from_masks``)."""
        from interorder_rt.io.adapters import from_masks

        return from_masks(image, masks, **options)

    def checked(self) -> "Frame":
        """This frame with every field validated and normalised.

        The result holds an (H, W, 3) uint8 image, (N, H, W) bool masks, a tuple of target
        indices, a tuple of (18, 2) float32 keypoints (one per target) and a tuple of instance ids.
        Raises ``TypeError``/``ValueError`` naming the problem.
        """
        image = as_image(self.image)
        masks = as_masks(self.masks, image.shape[:2])
        n = masks.shape[0]
        targets = check_targets(self.target, n)
        keypoints = check_target_keypoints(self.keypoints, len(targets))
        ids = check_instance_ids(self.instance_ids, n)
        return replace(self, image=image, masks=masks, target=targets, keypoints=keypoints, instance_ids=ids)


def _to_numpy(value: Any) -> np.ndarray:
    """A numpy view of ``value``; torch tensors are detached and moved to the CPU first."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def as_image(image: Any) -> np.ndarray:
    """An (H, W, 3) uint8 RGB image, or a TypeError/ValueError."""
    array = _to_numpy(image)
    if array.dtype != np.uint8:
        raise TypeError(f"image must be uint8 RGB, got dtype {array.dtype}")
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3), got {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"image is empty: shape {array.shape}")
    return np.ascontiguousarray(array)


def as_masks(masks: Any, size: tuple[int, int]) -> np.ndarray:
    """(N, H, W) bool masks of an image of ``size``, each non-empty, or a TypeError/ValueError."""
    h, w = size
    if isinstance(masks, (list, tuple)) and masks and all(isinstance(m, dict) for m in masks):
        array = np.stack([decode_rle(rle, h, w) for rle in masks])
    elif isinstance(masks, (list, tuple)) and not masks:
        array = np.zeros((0, h, w), dtype=bool)
    else:
        array = _to_numpy(masks)
        if array.dtype == object:
            raise TypeError("masks must be an (N, H, W) array, a tensor, or a list of COCO RLE dicts")
    if array.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W), got {array.shape}")
    if array.shape[1:] != (h, w):
        raise ValueError(f"masks are {array.shape[1]}x{array.shape[2]} but the image is {h}x{w}")
    if array.dtype != np.bool_:
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"masks must be bool or 0/1 integers, got dtype {array.dtype}")
        if array.size and (array.min() < 0 or array.max() > 1):
            raise ValueError(f"integer masks must hold only 0 and 1, found values in [{array.min()}, {array.max()}]")
        array = array.astype(bool)
    empty = np.flatnonzero(~array.reshape(array.shape[0], -1).any(axis=1))
    if empty.size:
        raise ValueError(f"instance mask {empty.tolist()} is empty; drop empty instances before running")
    return np.ascontiguousarray(array)


def check_targets(target: int | Sequence[int], n: int) -> tuple[int, ...]:
    """The target indices as a tuple of distinct ints in ``[0, n)`` (empty: replace no one)."""
    raw = (target,) if np.isscalar(target) else tuple(target)
    targets = []
    for t in raw:
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)):
            raise TypeError(f"target indices must be integers, got {t!r}")
        if not 0 <= t < n:
            raise ValueError(f"target index {int(t)} is out of range for a frame with {n} instances")
        targets.append(int(t))
    if len(set(targets)) != len(targets):
        raise ValueError(f"target indices repeat: {targets}")
    return tuple(targets)


def check_target_keypoints(keypoints: Any, count: int) -> tuple[np.ndarray, ...]:
    """One validated (18, 2) float32 keypoint array per target."""
    if isinstance(keypoints, (list, tuple)):
        poses = list(keypoints)
        if poses and np.ndim(_to_numpy(poses[0])) == 1:  # one pose given as a list of (x, y) pairs
            poses = [keypoints]
    else:
        array = _to_numpy(keypoints)
        poses = [array] if array.ndim == 2 else list(array)
    if len(poses) != count:
        raise ValueError(f"got keypoints for {len(poses)} people but {count} targets")
    return tuple(check_core_keypoints(p, name=f"keypoints of target {k}") for k, p in enumerate(poses))


def check_instance_ids(ids: Sequence[int] | None, n: int) -> tuple[int, ...]:
    """Distinct integer instance ids, one per instance; the indices when ``ids`` is None."""
    if ids is None:
        return tuple(range(n))
    ids = tuple(int(i) for i in ids)
    if len(ids) != n:
        raise ValueError(f"instance_ids has {len(ids)} entries for {n} instances")
    if len(set(ids)) != n:
        raise ValueError(f"instance_ids repeat: {list(ids)}")
    return ids
