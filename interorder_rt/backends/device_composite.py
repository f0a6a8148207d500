"""Compositing of the device path: ``compose.painter.paint`` and ``compose.merge.merge_transfer``
on tensors, by the compositing kernel (``backends.device_kernels.paint_layers``)."""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from interorder_rt.backends import device_kernels
from interorder_rt.backends.device_masks import DevicePlan
from interorder_rt.compose.boxes import plane_boxes
from interorder_rt.compose.merge import transfer_layers
from interorder_rt.compose.painter import Layer


def paint(base: torch.Tensor, layers: Sequence[Layer]) -> tuple[torch.Tensor, torch.Tensor]:
    """``layers`` (of tensors on ``base``'s device) painted back to front over ``base``: the
    painted (H, W, 3) uint8 image and the (H, W) int32 owner map (-1 where the base shows)."""
    for k, layer in enumerate(layers):
        if layer.mask.shape != base.shape[:2] or layer.rgb.shape != base.shape:
            raise ValueError(f"layer {k} has rgb {tuple(layer.rgb.shape)} and mask {tuple(layer.mask.shape)}; "
                             f"the base is {tuple(base.shape)}")
    out = base.clone()
    owner = torch.full(base.shape[:2], -1, dtype=torch.int32, device=base.device)
    unboxed = [k for k, layer in enumerate(layers) if layer.box is None]
    found = plane_boxes(torch.stack([_covered(layers[k]) for k in unboxed])) if unboxed else []
    boxes = [layer.box for layer in layers]
    for k, box in zip(unboxed, found):
        boxes[k] = box or (0, 0, 0, 0)
    device_kernels.paint_layers(
        out, owner, [layer.rgb.contiguous() for layer in layers], [layer.mask.contiguous() for layer in layers],
        [None if layer.alpha is None else layer.alpha.contiguous() for layer in layers], boxes,
    )
    return out, owner


def _covered(layer: Layer) -> torch.Tensor:
    return layer.mask if layer.alpha is None else layer.alpha > 0


def merge_transfer(
    background: torch.Tensor, image: torch.Tensor, modal: torch.Tensor, layering: Sequence[int], plan: DevicePlan,
    completed: Mapping[int, torch.Tensor], people: Mapping[int, Layer],
) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """``compose.merge.merge_transfer`` on tensors: the merged image, and each replaced person's
    visible pixels in it."""
    layering = [int(i) for i in layering]
    out, owner = paint(background, transfer_layers(image, modal, layering, plan, completed, people))
    return out, {t: owner == layering.index(t) for t in people}
