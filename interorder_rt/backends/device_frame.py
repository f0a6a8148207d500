"""``Frame.checked`` for the device path: the image and masks as torch tensors on the Engine's device.

NumPy arrays are checked on the host and uploaded once; torch tensors, CuPy arrays and other CUDA
arrays (``__cuda_array_interface__`` or DLPack) are read where they are, without a copy
(``backends.device_arrays.as_tensor``). The checks are those of ``interorder_rt.frame`` with the
same messages; on a device array they read back only small results (the value range of integer
masks, which masks are empty).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from interorder_rt.backends.device_arrays import as_tensor
from interorder_rt.frame import (
    Frame, as_image, as_masks, check_image_layout, check_instance_ids, check_target_keypoints, check_targets,
)
from interorder_rt.ops.inputs import is_device
from interorder_rt.pose.protocol import check_keypoints_in_frame


def _array(value: Any) -> bool:
    """Whether ``value`` is a tensor or CUDA array the device path reads in place."""
    return isinstance(value, torch.Tensor) or is_device(value)


def device_image(image: Any, device: torch.device) -> torch.Tensor:
    """An (H, W, 3) uint8 image tensor on ``device``, or the TypeError/ValueError of ``frame.as_image``."""
    if not _array(image):
        return torch.from_numpy(as_image(image)).to(device)
    tensor = as_tensor(image, device)
    check_image_layout(tuple(tensor.shape), tensor.dtype, tensor.dtype == torch.uint8)
    return tensor.contiguous()


def device_masks(masks: Any, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(N, H, W) bool mask tensor on ``device``, each non-empty, or the errors of ``frame.as_masks``."""
    if not _array(masks):
        return torch.from_numpy(as_masks(masks, size)).to(device)
    h, w = size
    tensor = as_tensor(masks, device)
    if tensor.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W), got {tuple(tensor.shape)}")
    if tuple(tensor.shape[1:]) != (h, w):
        raise ValueError(f"masks are {tensor.shape[1]}x{tensor.shape[2]} but the image is {h}x{w}")
    if tensor.dtype != torch.bool:
        if tensor.dtype.is_floating_point or tensor.dtype.is_complex:
            raise TypeError(f"masks must be bool or 0/1 integers, got dtype {tensor.dtype}")
        if tensor.numel():
            low, high = torch.aminmax(tensor)
            low, high = int(low), int(high)
            if low < 0 or high > 1:
                raise ValueError(f"integer masks must hold only 0 and 1, found values in [{low}, {high}]")
        tensor = tensor.bool()
    if tensor.shape[0]:
        empty = np.flatnonzero(~tensor.flatten(1).any(dim=1).cpu().numpy())
        if empty.size:
            raise ValueError(f"instance mask {empty.tolist()} is empty; drop empty instances before running")
    return tensor.contiguous()


def device_frame(frame: Frame, device: torch.device) -> Frame:
    """``frame.checked()`` with the image and masks as tensors on ``device``."""
    image = device_image(frame.image, device)
    size = (int(image.shape[0]), int(image.shape[1]))
    masks = device_masks(frame.masks, size, device)
    n = int(masks.shape[0])
    targets = check_targets(frame.target, n)
    keypoints = check_target_keypoints(frame.keypoints, len(targets))
    for k, kp in enumerate(keypoints):
        check_keypoints_in_frame(kp, size, name=f"keypoints of target {k}")
    ids = check_instance_ids(frame.instance_ids, n)
    return replace(frame, image=image, masks=masks, target=targets, keypoints=keypoints, instance_ids=ids)
