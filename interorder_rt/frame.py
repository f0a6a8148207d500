"""A reference frame for the engine, and the checks that turn user input into clean arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from interorder_rt.backends.device_arrays import to_host
from interorder_rt.io.coco_mask import decode_rle
from interorder_rt.pose.protocol import check_core_keypoints, check_keypoints_in_frame


@dataclass(frozen=True)
class Frame:
    """One reference frame: the image, every instance's mask, and whom to replace.

    ``masks`` is an (N, H, W) bool/0-1 integer array, a torch tensor of the same, or a list of
    per-instance masks: all (H, W) arrays or all COCO RLE dicts. N may be 0 (an empty frame comes
    back from the engine unchanged). ``target`` is the index of the person to replace (or a list
    of indices; an empty list replaces no one, e.g. in a video frame the person has left), and
    ``keypoints`` that person's (18, 2) COCO-18 keypoints (or a list, one per target), each point
    within the frame grown by its own size on every side (``pose.protocol``).
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
        for k, kp in enumerate(keypoints):
            check_keypoints_in_frame(kp, image.shape[:2], name=f"keypoints of target {k}")
        ids = check_instance_ids(self.instance_ids, n)
        return replace(self, image=image, masks=masks, target=targets, keypoints=keypoints, instance_ids=ids)


def check_index(index: Any, n: int, name: str) -> int:
    """An integer index in ``[0, n)`` (no float, no bool), or a TypeError/ValueError naming ``name``."""
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{name} must be an integer index, got {index!r}")
    if not 0 <= index < n:
        raise ValueError(f"{name} {int(index)} is out of range for {n} instances")
    return int(index)


def check_share(value: Any, name: str) -> float:
    """A finite number in ``[0, 1]`` (a share of the image area), or a TypeError/ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError(f"{name} must be a share of the image area in [0, 1], got {value}")
    return float(value)


def check_stage(stage: Any, name: str, methods: Sequence[str] = ()) -> None:
    """``stage`` is callable (or has callable ``methods``), or a TypeError naming what it lacks."""
    if not methods and not callable(stage):
        raise TypeError(f"{name} must be callable, got {type(stage).__name__}")
    lacking = [m for m in methods if not callable(getattr(stage, m, None))]
    if lacking:
        raise TypeError(f"{name} must have the method(s) {', '.join(lacking)}, got {type(stage).__name__}")


def _to_numpy(value: Any, name: str) -> np.ndarray:
    """A numpy view of ``value``; torch tensors are detached and moved to the CPU first, other
    CUDA arrays (CuPy, ``__cuda_array_interface__``) copied to the host."""
    value = to_host(value)
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:  # ragged nesting, huge ints, bad __array__
        raise TypeError(f"{name} cannot be read as an array ({type(value).__name__}): {exc}") from None


def as_image(image: Any) -> np.ndarray:
    """An (H, W, 3) uint8 RGB image, or a TypeError/ValueError."""
    array = _to_numpy(image, "image")
    check_image_layout(tuple(array.shape), array.dtype, array.dtype == np.uint8)
    return np.ascontiguousarray(array)


def check_image_layout(shape: tuple[int, ...], dtype: Any, uint8: bool) -> None:
    """The TypeError/ValueError of an image array of that ``shape`` and ``dtype`` (``uint8``: whether
    it is uint8) that is not a non-empty (H, W, 3) uint8 image; a host or device array alike."""
    if not uint8:
        raise TypeError(f"image must be uint8 RGB, got dtype {dtype}")
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3), got {shape}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"image is empty: shape {shape}")


def as_masks(masks: Any, size: tuple[int, int]) -> np.ndarray:
    """(N, H, W) bool masks of an image of ``size``, each non-empty, or a TypeError/ValueError."""
    h, w = size
    array = _stack_masks(masks, size) if isinstance(masks, (list, tuple)) else _to_numpy(masks, "masks")
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
    empty = np.flatnonzero(~array.reshape(array.shape[0], h * w).any(axis=1))
    if empty.size:
        raise ValueError(f"instance mask {empty.tolist()} is empty; drop empty instances before running")
    return np.ascontiguousarray(array)


def _stack_masks(masks: Sequence[Any], size: tuple[int, int]) -> np.ndarray:
    """(N, H, W) masks from a list of per-instance masks: all COCO RLE dicts or all (H, W) arrays."""
    h, w = size
    if not masks:
        return np.zeros((0, h, w), dtype=bool)
    rle = [isinstance(m, dict) for m in masks]
    if any(rle) and not all(rle):
        k = rle.index(not rle[0])
        kinds = {True: "a COCO RLE dict", False: "an array"}
        raise TypeError(
            f"masks mixes COCO RLE dicts and arrays: mask 0 is {kinds[rle[0]]}, mask {k} {kinds[rle[k]]}; "
            "give one kind"
        )
    stack = []
    for k, mask in enumerate(masks):
        if rle[0]:
            try:
                stack.append(decode_rle(mask, h, w))
            except ValueError as exc:
                raise ValueError(f"mask {k}: {exc}") from None
            continue
        array = _to_numpy(mask, f"mask {k}")
        if array.shape != (h, w):
            raise ValueError(f"mask {k} has shape {array.shape} but the image is {h}x{w}")
        stack.append(array)
    return np.stack(stack)


def check_targets(target: int | Sequence[int], n: int) -> tuple[int, ...]:
    """The target indices as a tuple of distinct ints in ``[0, n)`` (empty: replace no one)."""
    if np.isscalar(target):
        raw: tuple = (target,)
    elif isinstance(target, (list, tuple, range, np.ndarray)):
        raw = tuple(np.asarray(target).reshape(-1)) if isinstance(target, np.ndarray) else tuple(target)
    else:
        raise TypeError(
            f"target must be an instance index or a list of them (empty: replace no one), got {type(target).__name__}"
        )
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
        if poses and np.ndim(_to_numpy(poses[0], "keypoints")) == 1:  # one pose given as a list of (x, y) pairs
            poses = [keypoints]
    else:
        array = _to_numpy(keypoints, "keypoints")
        if array.ndim not in (2, 3) or array.dtype == object:
            kind = type(keypoints).__name__
            raise TypeError(f"keypoints must be (18, 2) per target, got {kind} of shape {array.shape}")
        poses = [array] if array.ndim == 2 else list(array)
    if len(poses) != count:
        raise ValueError(f"got keypoints for {len(poses)} people but {count} targets")
    return tuple(check_core_keypoints(p, name=f"keypoints of target {k}") for k, p in enumerate(poses))


def check_instance_ids(ids: Sequence[int] | None, n: int) -> tuple[int, ...]:
    """Distinct integer instance ids, one per instance; the indices when ``ids`` is None."""
    if ids is None:
        return tuple(range(n))
    if np.isscalar(ids) or not hasattr(ids, "__len__"):
        raise TypeError(f"instance_ids must be a sequence of integers, one per instance, got {type(ids).__name__}")
    if any(isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) for i in ids):
        raise TypeError(f"instance_ids must be integers, got {list(ids)!r}")
    ids = tuple(int(i) for i in ids)
    if len(ids) != n:
        raise ValueError(f"instance_ids has {len(ids)} entries for {n} instances")
    if len(set(ids)) != n:
        raise ValueError(f"instance_ids repeat: {list(ids)}")
    return ids
