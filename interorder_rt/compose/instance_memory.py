"""Instance memory for video: what a stream has seen, or completed, of each instance that stands still.

A still camera over a still object (a table, a parked car, a person standing) shows the same
object frame after frame. When a replaced person walks in front of it, the part the removed
person hid was often seen in an earlier frame, and what was never seen was completed once
already. The memory keeps, per instance id, the instance's pixels seen so far and its completed
ones (below anything seen), so a revealed region that the memory covers comes back from it: the
real pixels where an earlier frame showed them, the earlier completion elsewhere (no flicker,
no second net call). An instance that moves (less than ``STILL_SHARE`` of its visible pixels lie
where it was seen before; being hidden more or less by someone passing in front does not count)
or changes (its colours there differ from the remembered ones by more than ``STILL_DIFFERENCE``)
starts afresh; an id unseen for ``MAX_MISSING`` frames is forgotten.
It assumes a still camera (``BackgroundMemory("static")`` owns one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from interorder_rt.compose.boxes import Box, mask_box
from interorder_rt.compose.painter import copy_masked

STILL_SHARE = 0.9  # least share of an instance's visible pixels where it was seen before, for it to be still
STILL_DIFFERENCE = 12.0  # mean |gray| difference on the instance's seen pixels above which it changed
SAMPLES = 2048  # pixels of the instance compared per frame for the change test
MAX_MISSING = 30  # frames an id may go unseen before it is forgotten
GRAY = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass
class _Remembered:
    canvas: np.ndarray  # (H, W, 3) uint8: the instance's seen or completed colours
    seen: np.ndarray  # (H, W) bool: shown by a frame
    known: np.ndarray  # (H, W) bool: seen, or completed
    missing: int = 0  # frames since it was last seen


class InstanceMemory:
    """Per instance id, its pixels seen and completed so far in a still-camera stream (module docstring)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every instance (a new shot)."""
        self._by_id: dict[int, _Remembered] = {}
        self.recalls = 0  # revealed regions served from the memory so far

    def update(self, image: np.ndarray, modal: np.ndarray, ids: Sequence[int], skip: Sequence[int] = ()) -> None:
        """Record each instance's visible pixels (``modal[k]``, id ``ids[k]``), except the ``skip`` indices."""
        present = set()
        for k, instance_id in enumerate(int(i) for i in ids):
            box = mask_box(modal[k])
            if k in skip or box is None:
                continue
            present.add(instance_id)
            entry = self._by_id.get(instance_id)
            if entry is None or entry.canvas.shape != image.shape or not _still(entry, image, modal[k], box):
                entry = self._by_id[instance_id] = _Remembered(
                    canvas=np.zeros_like(image), seen=np.zeros(modal.shape[1:], bool),
                    known=np.zeros(modal.shape[1:], bool))
            entry.missing = 0
            x0, y0, x1, y1 = box
            visible = modal[k, y0:y1, x0:x1]
            copy_masked(entry.canvas[y0:y1, x0:x1], image[y0:y1, x0:x1], visible)
            entry.seen[y0:y1, x0:x1] |= visible
            entry.known[y0:y1, x0:x1] |= visible
        for instance_id in list(self._by_id):
            if instance_id not in present:
                self._by_id[instance_id].missing += 1
                if self._by_id[instance_id].missing > MAX_MISSING:
                    del self._by_id[instance_id]

    def recall(self, instance_id: int, revealed: np.ndarray) -> np.ndarray | None:
        """The instance's layer image when the memory covers all of its ``revealed`` pixels, else None.

        The layer is a read-only view of the memory's canvas (no copy): after this frame's
        :meth:`update` it holds the instance's visible pixels as the frame shows them, and the
        revealed ones as remembered; only those may be read.
        """
        entry = self._by_id.get(int(instance_id))
        box = mask_box(revealed)
        if entry is None or box is None or entry.canvas.shape[:2] != revealed.shape:
            return None
        x0, y0, x1, y1 = box
        if (revealed[y0:y1, x0:x1] & ~entry.known[y0:y1, x0:x1]).any():
            return None
        self.recalls += 1
        layer = entry.canvas.view()
        layer.flags.writeable = False
        return layer

    def remember(self, instance_id: int, completed: np.ndarray, revealed: np.ndarray) -> None:
        """Keep the instance's ``completed`` colours over ``revealed`` where no frame showed it."""
        entry = self._by_id.get(int(instance_id))
        box = mask_box(revealed)
        if entry is None or box is None or entry.canvas.shape != completed.shape:
            return
        x0, y0, x1, y1 = box
        new = revealed[y0:y1, x0:x1] & ~entry.seen[y0:y1, x0:x1]
        copy_masked(entry.canvas[y0:y1, x0:x1], completed[y0:y1, x0:x1], new)
        entry.known[y0:y1, x0:x1] |= new


def _still(entry: _Remembered, image: np.ndarray, mask: np.ndarray, box: Box) -> bool:
    """Whether the instance stayed where it was (its visible pixels where it was seen) and as it
    was (their colours), judged on a grid of about ``SAMPLES`` pixels of its box."""
    x0, y0, x1, y1 = box
    step = max(1, int(np.sqrt((y1 - y0) * (x1 - x0) / SAMPLES)))
    grid = (slice(y0, y1, step), slice(x0, x1, step))
    now = mask[grid]
    both = now & entry.seen[grid]
    shared = np.count_nonzero(both)
    if shared < STILL_SHARE * np.count_nonzero(now):
        return False
    if shared == 0:
        return True
    difference = cv2.absdiff(image[grid], entry.canvas[grid])[both].astype(np.float32) @ GRAY
    return float(difference.mean()) <= STILL_DIFFERENCE
