"""The merge's mask bookkeeping on torch tensors: the device twins of ``compose.overlap``,
``compose.removal`` (its outline snap by the compiled kernel) and ``compose.joints``, pixel for
pixel the same.

Per-pixel work stays on the masks' device; only small results come back to the host (boxes,
which instances reveal anything, the few pixels around a replaced person's joints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from interorder_rt.compose.boxes import Box, plane_boxes, union_box
from interorder_rt.compose import joints
from interorder_rt.compose.joints import JOINT_MARGIN
from interorder_rt.backends.device_kernels import foreign_outline
from interorder_rt.compose.outline import SNAP_PAD
from interorder_rt.compose.overlap import split_shared
from interorder_rt.compose.removal import MIN_MARGIN, layer_ranks
from interorder_rt.ops.order import OrderResult


def give_to_front(masks: torch.Tensor, layering: Sequence[int], overlapping: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``compose.give_to_front``: (owned, reassigned). ``overlapping`` says whether any two masks
    share a pixel (the order stage's intersection matrix knows)."""
    n = masks.shape[0]
    if n < 2 or not overlapping:
        return masks, torch.zeros_like(masks)
    rank = torch.as_tensor(layer_ranks(layering, n), dtype=torch.int32, device=masks.device)
    claimed = torch.where(masks, rank[:, None, None], -1)  # (N, H, W) int32: only when masks overlap
    owned = masks & (claimed == claimed.max(dim=0).values[None])
    return owned, masks & ~owned


def disjoint_for_order(masks: torch.Tensor, pairs: Sequence[tuple[int, int]], recover) -> torch.Tensor:
    """``compose.disjoint_for_order`` on a tensor stack; ``recover`` takes a (2, H, W) tensor pair."""
    return split_shared(masks, pairs, lambda holder, other: recover(torch.stack([holder, other])))


def _disc(radius: int, device: torch.device) -> torch.Tensor:
    """OpenCV's elliptic structuring element of ``compose.grow_targets``, as a conv2d weight."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return torch.from_numpy(disc.astype(np.float32)).to(device)[None, None]


def grow_targets(modal: torch.Tensor, layering: Sequence[int], targets: Sequence[int], share: float,
                 image: torch.Tensor | None = None) -> torch.Tensor:
    """``compose.grow_targets``: each target's mask grown by its margin within its box, stopped at
    the instances in front of it, taken from those behind it, and with ``image`` snapped to the
    outline the mask misses (the compiled ``foreign_outline``). The disc dilation is a convolution."""
    n, h, w = modal.shape
    rank = layer_ranks(layering, n)
    out = modal.clone()
    boxes = plane_boxes(modal[list(targets)]) if targets and share > 0 else []
    for t, box in zip((int(t) for t in targets), boxes):
        if box is None:
            continue
        m = max(MIN_MARGIN, int(round(share * (box[3] - box[1]))))
        pad = m + (SNAP_PAD * m if image is not None else 0)
        x0, y0 = max(box[0] - pad, 0), max(box[1] - pad, 0)
        x1, y1 = min(box[2] + pad, w), min(box[3] + pad, h)
        inside = modal[t, y0:y1, x0:x1]
        grown = _dilate(inside, m)
        front = [k for k in range(n) if rank[k] > rank[t]]
        if front:
            grown &= ~modal[front, y0:y1, x0:x1].any(dim=0)
        grown |= inside
        if image is not None:
            background = ~modal[:, y0:y1, x0:x1].any(dim=0) & ~grown
            grown |= foreign_outline(image[y0:y1, x0:x1], grown, background, m)
        out[t, y0:y1, x0:x1] = grown
        for k in (k for k in range(n) if rank[k] < rank[t] and k not in targets):
            out[k, y0:y1, x0:x1] &= ~grown
    return out


def _dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """An (H, W) bool plane dilated by OpenCV's elliptic disc of ``radius``."""
    return F.conv2d(mask.float()[None, None], _disc(radius, mask.device), padding=radius)[0, 0] > 0


@dataclass
class DevicePlan:
    """``compose.RemovalPlan`` with tensor masks (same fields, same meaning)."""

    hole: torch.Tensor
    revealed: torch.Tensor
    background: torch.Tensor
    box: Box | None = None

    def needs_completion(self) -> list[int]:
        """Instances with a non-empty revealed region, in index order."""
        if self.box is None:
            return []
        x0, y0, x1, y1 = self.box
        return torch.nonzero(self.revealed[:, y0:y1, x0:x1].flatten(1).any(dim=1)).flatten().tolist()


def plan_removal(modal: torch.Tensor, amodal: torch.Tensor, layering: Sequence[int],
                 targets: Sequence[int]) -> DevicePlan:
    """``compose.plan_removal`` on tensors, within the box of the removed people."""
    n = modal.shape[0]
    rank = layer_ranks(layering, n)
    targets = [int(t) for t in targets]
    hole = torch.zeros(modal.shape[1:], dtype=torch.bool, device=modal.device)
    revealed = torch.zeros_like(modal)
    background = torch.zeros_like(hole)
    box = union_box(plane_boxes(modal[targets])) if targets else None
    if box is None:
        return DevicePlan(hole, revealed, background)
    x0, y0, x1, y1 = box
    hole[y0:y1, x0:x1] = modal[targets, y0:y1, x0:x1].any(dim=0)
    for k in (k for k in range(n) if k not in targets):
        in_front = [t for t in targets if rank[t] > rank[k]]
        if in_front:
            freed = modal[in_front, y0:y1, x0:x1].any(dim=0)
            revealed[k, y0:y1, x0:x1] = amodal[k, y0:y1, x0:x1] & ~modal[k, y0:y1, x0:x1] & freed
    background[y0:y1, x0:x1] = hole[y0:y1, x0:x1] & ~revealed[:, y0:y1, x0:x1].any(dim=0)
    return DevicePlan(hole, revealed, background, box)


def joint_occluders(masks: torch.Tensor, person: int, keypoints: np.ndarray, margin: int = JOINT_MARGIN) -> np.ndarray:
    """``compose.joints.joint_occluders`` on tensor masks: the windows around the joints are
    gathered on the device and decided on the host."""
    n, h, w = masks.shape
    ys, xs, inside = joints.joint_windows(h, w, keypoints, margin)
    index = torch.from_numpy((ys * w + xs).reshape(-1)).to(masks.device)
    values = masks.reshape(n, h * w)[:, index].cpu().numpy().reshape(n, *ys.shape)
    return joints.occluders_in_windows(values, inside, person)


def with_joint_evidence(result: OrderResult, masks: torch.Tensor, targets: Sequence[int],
                        keypoints: Sequence[np.ndarray]) -> OrderResult:
    """``compose.with_joint_evidence`` on tensor masks."""
    return joints.with_joint_evidence(result, masks, targets, keypoints, occluders=joint_occluders)
