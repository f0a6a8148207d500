"""Fringe fill: the few revealed pixels an instance's memory lacks, from its known pixels around them.

A stream's instance memory (``compose.InstanceMemory``) serves most of what a removal reveals of
an instance; what it lacks is a fringe or a few small patches (the amodal mask recovered anew
each frame moves a little, the removal margin with it). Completing the instance afresh for those
pixels costs a crop of the whole instance; here they are filled ring by ring from the instance's
known pixels inwards, each taking the mean colour of its known or already filled 3 x 3
neighbours (one box filter over colours and weights a ring), on the box around them only.
Colours come from the instance alone (``known``), as for its completion. A hole more than
``MAX_RINGS`` rings deep is no fringe: it is left to a completion.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_RINGS = 16  # rings filled at most from the known pixels inwards


def fringe_fill(rgb: np.ndarray, known: np.ndarray, hole: np.ndarray) -> np.ndarray | None:
    """A copy of ``rgb`` ((h, w, 3) uint8) with every ``hole`` pixel filled from the ``known`` ones
    ((h, w) bool each; module docstring); None when some hole pixel lies more than
    ``MAX_RINGS`` rings from every known one."""
    source = known & ~hole
    if not source.any():
        return None
    rings = cv2.distanceTransform((~source).view(np.uint8), cv2.DIST_C, 3)  # a lower bound of each pixel's ring
    if float(rings[hole].max(initial=0.0)) > MAX_RINGS:
        return None
    todo = hole.copy()
    sums = np.zeros((*hole.shape, 4), np.float32)  # colour x weight, and weight
    sums[source, :3] = rgb[source]
    sums[source, 3] = 1.0
    out = rgb.copy()
    for _ in range(MAX_RINGS):
        around = cv2.boxFilter(sums, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
        rows, cols = np.nonzero(todo & (around[..., 3] > 0))
        if rows.size == 0:
            return None
        mean = around[rows, cols, :3] / around[rows, cols, 3:]
        out[rows, cols] = np.clip(np.rint(mean), 0, 255).astype(np.uint8)
        sums[rows, cols, :3], sums[rows, cols, 3] = mean, 1.0
        todo[rows, cols] = False
        if not todo.any():
            return out
    return None
