"""Instance memory for video: what a stream has seen, or completed, of each instance that stands still.

A still camera over a still object (a table, a parked car, a person standing) shows the same
object frame after frame. When a replaced person walks in front of it, the part the removed
person hid was often seen in an earlier frame, and what was never seen was completed once
already. The memory keeps, per instance id, the instance's pixels seen so far and its latest completion
(below anything seen), so a revealed region that the memory covers comes back from it: the real
pixels where an earlier frame showed them, the earlier completion where the never-seen part is
still the one it was made for (:func:`still_covers`; no flicker, no second net call). A
never-seen part that changed more is completed anew, with the context seen since. An instance that moves (less than ``STILL_SHARE`` of its visible pixels lie
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
REUSE_SHARE = 0.95  # a fill is reused while the never-seen region keeps this share of the one it was made for
GRAY = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass
class _Remembered:
    canvas: np.ndarray  # (H, W, 3) uint8: the instance's seen or completed colours
    seen: np.ndarray  # (H, W) bool: shown by a frame
    completion: tuple[Box, np.ndarray] | None = None  # box and never-seen region of the latest completion
    missing: int = 0  # frames since it was last seen


class InstanceMemory:
    """Per instance id, its pixels seen and completed so far in a still-camera stream (module docstring)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every instance (a new shot)."""
        self._by_id: dict[int, _Remembered] = {}
        self.recalls = 0  # revealed regions served from the memory so far

    def update(self, image: np.ndarray, modal: np.ndarray, ids: Sequence[int], skip: Sequence[int] = (),
               boxes: Sequence[Box | None] | None = None) -> None:
        """Record each instance's visible pixels (``modal[k]``, id ``ids[k]``), except the ``skip``
        indices. ``boxes[k]``, when given, holds ``modal[k]`` (a box around it, not necessarily tight)."""
        present = set()
        for k, instance_id in enumerate(int(i) for i in ids):
            if k in skip:
                continue
            box = mask_box(modal[k]) if boxes is None else boxes[k]
            if box is None:
                continue
            present.add(instance_id)
            entry = self._by_id.get(instance_id)
            if entry is None or entry.canvas.shape != image.shape or not _still(entry, image, modal[k], box):
                entry = self._by_id[instance_id] = _Remembered(canvas=np.zeros_like(image),
                                                               seen=np.zeros(modal.shape[1:], bool))
            entry.missing = 0
            x0, y0, x1, y1 = box
            visible = modal[k, y0:y1, x0:x1]
            copy_masked(entry.canvas[y0:y1, x0:x1], image[y0:y1, x0:x1], visible)
            entry.seen[y0:y1, x0:x1] |= visible
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
        unseen = np.zeros_like(revealed)
        unseen[y0:y1, x0:x1] = revealed[y0:y1, x0:x1] & ~entry.seen[y0:y1, x0:x1]
        if unseen[y0:y1, x0:x1].any() and (entry.completion is None or not still_covers(unseen, *entry.completion)):
            return None
        self.recalls += 1
        layer = entry.canvas.view()
        layer.flags.writeable = False
        return layer

    def remember(self, instance_id: int, completed: np.ndarray, revealed: np.ndarray) -> None:
        """Keep the instance's ``completed`` colours over ``revealed`` where no frame showed it,
        in place of its earlier completion."""
        entry = self._by_id.get(int(instance_id))
        box = mask_box(revealed)
        if entry is None or box is None or entry.canvas.shape != completed.shape:
            return
        x0, y0, x1, y1 = box
        new = revealed[y0:y1, x0:x1] & ~entry.seen[y0:y1, x0:x1]
        copy_masked(entry.canvas[y0:y1, x0:x1], completed[y0:y1, x0:x1], new)
        entry.completion = (box, new)


def still_covers(region: np.ndarray, box: Box, then: np.ndarray) -> bool:
    """Whether a fill made for the never-seen region ``then`` (the part of a frame-sized mask inside
    ``box``) still serves the never-seen ``region`` now: none of it outside, and at least
    ``REUSE_SHARE`` of ``then`` still in it (so the fill had about the context it would have now)."""
    x0, y0, x1, y1 = box
    inside = region[y0:y1, x0:x1]
    count = np.count_nonzero(inside)
    if count == 0 or count != np.count_nonzero(region) or (inside & ~then).any():
        return False
    return np.count_nonzero(then) - count <= (1 - REUSE_SHARE) * np.count_nonzero(then)


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
