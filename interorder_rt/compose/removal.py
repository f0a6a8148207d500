"""What removing the replaced people from a frame reveals, and who must fill each revealed pixel.

Removing a person H_b frees its visible pixels (the *hole*). An instance painted before H_b
(behind it in the layering) whose amodal mask reaches into the hole shows its own completed
content there; the rest of the hole is background.

Real masks are a pixel or two loose, so the removed person's region first grows by a margin
(:func:`grow_targets`): into the background and into instances behind it (whose grown-over
pixels are then completed like any other part they reveal), never into an instance in front;
and up to a margin further where the background next to it looks foreign (``compose.outline``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import cv2
import numpy as np

from interorder_rt.compose.boxes import Box, Part, intersection, mask_box, mask_box_in, union_box
from interorder_rt.compose.outline import SNAP_PAD, foreign_outline
from interorder_rt.compose.painter import copy_masked

MIN_MARGIN = 2  # pixels: the least growth of a removed person's region when a margin is asked


@dataclass
class RemovalPlan:
    """Masks describing how the holes left by the replaced people are filled."""

    hole: np.ndarray  # (H, W) bool: union of the replaced people's visible pixels
    revealed: np.ndarray  # (N, H, W) bool: hole pixels each instance now shows (its completion)
    background: np.ndarray  # (H, W) bool: hole pixels no instance covers, filled as background
    box: Box | None = None  # (x0, y0, x1, y1) holding every hole pixel, when known: queries look there only
    _revealing: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    def needs_completion(self) -> list[int]:
        """Instances with a non-empty revealed region, in index order (found once: a plan is not changed)."""
        if self._revealing is None:
            x0, y0, x1, y1 = self.box or (0, 0, self.hole.shape[1], self.hole.shape[0])
            self._revealing = np.flatnonzero(self.revealed[:, y0:y1, x0:x1].any(axis=(1, 2))).tolist()
        return list(self._revealing)


def layer_ranks(layering: Sequence[int], n: int) -> np.ndarray:
    """(N,) int64: the position of each instance in the back-to-front ``layering``."""
    layering = np.asarray(layering, dtype=np.int64)
    if sorted(layering.tolist()) != list(range(n)):
        raise ValueError(f"layering must be a permutation of range({n}), got {layering.tolist()}")
    rank = np.empty(n, dtype=np.int64)
    rank[layering] = np.arange(n)
    return rank


def plan_removal(
    modal: np.ndarray, amodal: np.ndarray, layering: Sequence[int], targets: Sequence[int]
) -> RemovalPlan:
    """Plan the removal of ``targets`` from a frame.

    ``modal``/``amodal`` are (N, H, W) bool; ``layering`` lists instances back to front. An
    instance k (not itself removed) reveals ``amodal_k & ~modal_k`` inside the visible mask of
    every removed person painted after it.
    """
    modal = np.asarray(modal, dtype=bool)
    amodal = np.asarray(amodal, dtype=bool)
    if modal.shape != amodal.shape or modal.ndim != 3:
        raise ValueError(f"modal and amodal must both be (N, H, W), got {modal.shape} and {amodal.shape}")
    n = modal.shape[0]
    rank = layer_ranks(layering, n)
    targets = [int(t) for t in targets]
    hole = np.zeros(modal.shape[1:], bool)
    revealed = np.zeros(modal.shape, bool)
    background = np.zeros(modal.shape[1:], bool)
    box = union_box(mask_box(modal[t]) for t in targets)
    if box is None:
        return RemovalPlan(hole=hole, revealed=revealed, background=background)
    x0, y0, x1, y1 = box
    inside = (slice(y0, y1), slice(x0, x1))  # every hole pixel lies here: work on it only
    hole[inside] = modal[targets, y0:y1, x0:x1].any(axis=0)
    for k in range(n):
        if k in targets:
            continue
        in_front = [t for t in targets if rank[t] > rank[k]]
        if in_front:
            freed = modal[in_front, y0:y1, x0:x1].any(axis=0)
            revealed[k, y0:y1, x0:x1] = amodal[k, y0:y1, x0:x1] & ~modal[k, y0:y1, x0:x1] & freed
    background[inside] = hole[inside] & ~revealed[:, y0:y1, x0:x1].any(axis=0)
    return RemovalPlan(hole=hole, revealed=revealed, background=background, box=box)


def with_revealed(image: np.ndarray, plan: RemovalPlan, completed: Mapping[int, Part],
                  layering: Sequence[int]) -> np.ndarray:
    """A copy of ``image`` with each instance's revealed pixels from its ``completed`` part (which
    holds them), back to front, copied within the plan's box only."""
    out = image.copy()
    whole = (0, 0, image.shape[1], image.shape[0])
    for k in (int(i) for i in layering):
        box = intersection(plan.box or whole, completed[k].box) if k in completed else None
        if box is not None:
            x0, y0, x1, y1 = box
            copy_masked(out[y0:y1, x0:x1], completed[k].within(box), plan.revealed[k, y0:y1, x0:x1])
    return out


def margin_pixels(mask: np.ndarray, share: float, box: Box | None = None) -> int:
    """The removal margin of one person: ``share`` of its box height, at least ``MIN_MARGIN``
    pixels; 0 when ``share`` is 0 (no margin). ``box``: the mask's tight box, when known."""
    if share <= 0:
        return 0
    box = mask_box(mask) if box is None else box
    height = 0 if box is None else box[3] - box[1]
    return max(MIN_MARGIN, int(round(share * height)))


def grow_targets(modal: np.ndarray, layering: Sequence[int], targets: Sequence[int], share: float,
                 boxes: Sequence[Box | None] | None = None, image: np.ndarray | None = None) -> np.ndarray:
    """``modal`` with each target's mask grown by its margin (:func:`margin_pixels`).

    The growth (a disc, computed in the person's box only) stops at every instance in front of
    the target; the pixels it takes from an instance behind leave that instance's visible mask.
    With ``image`` (the frame), the grown region then takes, up to one margin further, the
    background pixels next to it whose colours are foreign to the background around them: the
    outline a loose mask misses (``compose.outline``).
    ``boxes[k]``, when given, holds ``modal[k]``: a target's mask is looked for there only.
    """
    modal = np.asarray(modal, dtype=bool)
    n, h, w = modal.shape
    rank = layer_ranks(layering, n)
    out = modal.copy()
    for t in (int(t) for t in targets):
        tight = mask_box(modal[t]) if boxes is None else mask_box_in(modal[t], boxes[t])
        if tight is None:
            continue
        m = margin_pixels(modal[t], share, tight)
        if m == 0:
            continue
        pad = m + (SNAP_PAD * m if image is not None else 0)
        tx0, ty0, tx1, ty1 = tight
        y0, y1, x0, x1 = max(ty0 - pad, 0), min(ty1 + pad, h), max(tx0 - pad, 0), min(tx1 + pad, w)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * m + 1, 2 * m + 1))
        grown = cv2.dilate(modal[t, y0:y1, x0:x1].astype(np.uint8), disc).astype(bool)
        front = [k for k in range(n) if rank[k] > rank[t]]
        if front:
            grown &= ~modal[front, y0:y1, x0:x1].any(axis=0)
        grown |= modal[t, y0:y1, x0:x1]
        if image is not None:
            background = ~modal[:, y0:y1, x0:x1].any(axis=0) & ~grown
            grown |= foreign_outline(image[y0:y1, x0:x1], grown, background, m)
        behind = [k for k in range(n) if rank[k] < rank[t] and k not in targets]
        out[t, y0:y1, x0:x1] = grown
        for k in behind:
            out[k, y0:y1, x0:x1] &= ~grown
    return out
