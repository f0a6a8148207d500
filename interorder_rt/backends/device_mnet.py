"""MNet's instance completion on the device path: ``ContentCompletion``'s MNet route on tensors.

The host's geometry step for step (``interorder_rt.completion``): for each revealing instance the
square box around it; its S x S crop (known colours averaged over known pixels only, a hole
wherever any pixel under it is hole) and the crop's Telea fill; MNet's correction of that fill,
the whole batch in one call; the full-resolution Telea fill near the hole, the crop's fill
resized standing in beyond; the correction resized onto the hole. Telea runs in the compiled
core on the host, the crops and windows it fills sent there and back
(``device_kernels.telea_inpaint``: a GPU would run its march on one thread), the net on the
completion's backend; nothing else crosses to the host but boxes.

Resizing: OpenCV's area average is a separable weighted sum, applied here as two small matrix
products (:func:`area_weights`); its bilinear resize is torch's (half-pixel centres, edges
clamped). The sums run in another order than OpenCV's, so a crop pixel can land on the other
side of a threshold and the completion differ from the host's by a grey level there
(``tests/test_device_mnet.py``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from interorder_rt.backends import device_kernels
from interorder_rt.compose.boxes import plane_box, plane_boxes
from interorder_rt.completion import (
    INSTANCE_FILL_BAND, INSTANCE_MARGIN, TELEA_RADIUS, ContentCompletion, CropBox, square_around, window_around,
)
from interorder_rt.models.mnet import mnet_input


@lru_cache(maxsize=64)
def area_weights(source: int, target: int) -> np.ndarray:
    """(target, source) float64: OpenCV's area-resize weights along one axis, each output pixel the
    mean of the source interval it covers (partial pixels by the covered share)."""
    scale = source / target
    weights = np.zeros((target, source))
    for i in range(target):
        start, end = i * scale, min((i + 1) * scale, source)
        for j in range(int(math.floor(start)), int(math.ceil(end))):
            weights[i, j] = min(end, j + 1) - max(start, j)
    weights /= weights.sum(axis=1, keepdims=True)
    weights.flags.writeable = False  # cached: shared by every call
    return weights


def resize(planes: torch.Tensor, size: int) -> torch.Tensor:
    """(side, side, C) float32 to (size, size, C) as ``completion._resize``: area average down,
    bilinear up. The sums run in float64 (never TF32, which a GPU's float32 products may use)."""
    side = planes.shape[0]
    if side >= size:
        w = torch.tensor(area_weights(side, size), dtype=torch.float64, device=planes.device)
        out = torch.einsum("is,stc,jt->ijc", w, planes.to(torch.float64), w)
        return out.to(torch.float32)
    return bilinear(planes, size)


def bilinear(planes: torch.Tensor, size: int) -> torch.Tensor:
    """(h, w, C) float32 resized to (size, size, C) as OpenCV's INTER_LINEAR."""
    x = planes.permute(2, 0, 1)[None]
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)


def crop(image: torch.Tensor, known: torch.Tensor, hole: torch.Tensor, box: CropBox, size: int):
    """``completion.crop_region`` on tensors: (known_rgb, known, hole, base) of the S x S crop."""
    h, w = hole.shape
    rgb = torch.zeros((box.side, box.side, 3), dtype=torch.float32, device=image.device)
    masks = torch.zeros((box.side, box.side, 2), dtype=torch.float32, device=image.device)
    x0, y0, x1, y1 = box.inside(h, w)
    if x1 > x0 and y1 > y0:
        window = (slice(y0 - box.y0, y1 - box.y0), slice(x0 - box.x0, x1 - box.x0))
        inside = known[y0:y1, x0:x1]
        rgb[window] = image[y0:y1, x0:x1].to(torch.float32) / 255.0 * inside[..., None]
        masks[window] = torch.stack([inside, hole[y0:y1, x0:x1]], dim=-1).to(torch.float32)
    small = resize(masks, size)
    frac, hole_crop = small[..., 0], small[..., 1] > 1e-6
    known_crop = (frac > 0.5) & ~hole_crop
    known_rgb = (resize(rgb, size) / frac.clamp(min=1e-6)[..., None]).clamp(0.0, 1.0) * known_crop[..., None]
    levels = torch.round(known_rgb * 255.0).to(torch.uint8)
    base = device_kernels.telea_inpaint(levels, ~known_crop).to(torch.float32) / 255.0
    return known_rgb, known_crop, hole_crop, torch.where(known_crop[..., None], known_rgb, base)


def box_fill(image: torch.Tensor, known: torch.Tensor, box: CropBox, hole: torch.Tensor,
             coarse: torch.Tensor) -> torch.Tensor:
    """``completion.box_fill`` on tensors with a hole and the crop's ``coarse`` fill, at
    ``INSTANCE_FILL_BAND``: the box's in-frame patch, Telea near the hole, ``coarse`` beyond."""
    x0, y0, x1, y1 = box.inside(*known.shape)
    inside = known[y0:y1, x0:x1]
    patch = torch.where(inside[..., None], image[y0:y1, x0:x1], torch.zeros((), dtype=torch.uint8, device=image.device))
    unknown = ~inside
    tight = plane_box(hole[y0:y1, x0:x1])
    wx0, wy0, wx1, wy1 = (0, 0, x1 - x0, y1 - y0) if tight is None else window_around(tight, unknown)
    todo = unknown[wy0:wy1, wx0:wx1]
    reach = 2 * (TELEA_RADIUS + INSTANCE_FILL_BAND) + 1
    near_hole = hole[y0:y1, x0:x1][wy0:wy1, wx0:wx1].to(torch.float32)[None, None]
    near = F.max_pool2d(near_hole, reach, stride=1, padding=reach // 2)[0, 0] > 0
    stand_in = coarse[y0 - box.y0 : y1 - box.y0, x0 - box.x0 : x1 - box.x0][wy0:wy1, wx0:wx1]
    window = torch.where((todo & ~near)[..., None], stand_in, patch[wy0:wy1, wx0:wx1])
    patch[wy0:wy1, wx0:wx1] = device_kernels.telea_inpaint(window.contiguous(), todo & near)
    return patch


def paste(out: torch.Tensor, base: torch.Tensor, correction: torch.Tensor, box: CropBox, hole: torch.Tensor) -> None:
    """``completion.paste_correction`` into ``out`` in place: the hole set to ``base`` plus the
    (S, S, 3) ``correction`` resized to the box."""
    x0, y0, x1, y1 = box.inside(*hole.shape)
    if x1 <= x0 or y1 <= y0:
        return
    delta = bilinear(correction, box.side)[y0 - box.y0 : y1 - box.y0, x0 - box.x0 : x1 - box.x0]
    filled = torch.round(base.to(torch.float32) + 255.0 * delta).clamp(0, 255).to(torch.uint8)
    region = hole[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = torch.where(region[..., None], filled, out[y0:y1, x0:x1])


def complete_many(completion: ContentCompletion, image: torch.Tensor, visible: torch.Tensor,
                  amodal: torch.Tensor) -> list[torch.Tensor]:
    """``ContentCompletion.complete_many`` with MNet (or, for ``instance="telea"``, the classical
    fill it corrects) on the device: per instance n, ``image`` with ``amodal[n] & ~visible[n]``
    filled (module doc)."""
    holes = amodal & ~visible
    out = [image.clone() for _ in range(visible.shape[0])]
    boxes = plane_boxes(amodal | visible)
    todo = [n for n, box in enumerate(plane_boxes(holes)) if box is not None]
    if not todo:
        return out
    squares = {n: square_around(boxes[n], INSTANCE_MARGIN) for n in todo}
    crops = {n: crop(image, visible[n], holes[n], squares[n], completion.crop_size) for n in todo}
    known_rgb, known, hole, base = (torch.stack([crops[n][k] for n in todo]) for k in range(4))
    if completion.instance == "telea":  # the classical fill MNet corrects, as it is
        corrections = torch.zeros_like(base)
    else:
        x = mnet_input(known_rgb.permute(0, 3, 1, 2), known[:, None], hole[:, None], base.permute(0, 3, 1, 2))
        corrections = completion.correct(x).permute(0, 2, 3, 1)
    for n, correction in zip(todo, corrections):
        coarse = torch.round(bilinear(crops[n][3], squares[n].side) * 255.0).to(torch.uint8)
        base = box_fill(image, visible[n], squares[n], holes[n], coarse)
        paste(out[n], base, correction, squares[n], holes[n])
    return out
