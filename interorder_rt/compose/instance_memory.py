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

from interorder_rt.compose.boxes import Box, mask_box, mask_box_in
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


class HostArrays:
    """The array steps of the stream memories on NumPy arrays. ``backends.device_memory.TensorArrays``
    is their twin on torch tensors: the memories' logic is written once, for either."""

    box = staticmethod(mask_box)
    copy = staticmethod(np.ndarray.copy)
    copy_masked = staticmethod(copy_masked)
    zeros_like = staticmethod(np.zeros_like)

    @staticmethod
    def mask_like(image: np.ndarray) -> np.ndarray:
        """An all-False (H, W) mask the size of an (H, W, 3) image."""
        return np.zeros(image.shape[:2], bool)

    @staticmethod
    def counts(*masks: np.ndarray) -> list[int]:
        """The set pixels of each mask."""
        return [int(np.count_nonzero(m)) for m in masks]

    @staticmethod
    def covers(region: np.ndarray, box: Box, then: np.ndarray) -> bool:
        """:func:`still_covers`."""
        return still_covers(region, box, then)

    @staticmethod
    def to_host(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        """The arrays as NumPy arrays (here: as they are)."""
        return arrays

    @staticmethod
    def read_only(array: np.ndarray) -> np.ndarray:
        """A view of ``array`` that cannot be written."""
        view = array.view()
        view.flags.writeable = False
        return view


class InstanceMemory:
    """Per instance id, its pixels seen and completed so far in a still-camera stream (module
    docstring); ``arrays`` says what they are held as (:class:`HostArrays`: NumPy)."""

    def __init__(self, arrays: type = HostArrays) -> None:
        self.arrays = arrays
        self.reset()

    def reset(self) -> None:
        """Forget every instance (a new shot)."""
        self._by_id: dict[int, _Remembered] = {}
        self.recalls = 0  # revealed regions served from the memory so far

    def update(self, image: np.ndarray, modal: np.ndarray, ids: Sequence[int], skip: Sequence[int] = (),
               boxes: Sequence[Box | None] | None = None) -> None:
        """Record each instance's visible pixels (``modal[k]``, id ``ids[k]``), except the ``skip``
        indices. ``boxes[k]``, when given, holds ``modal[k]`` (a box around it, not necessarily tight)."""
        arrays = self.arrays
        present = set()
        for k, instance_id in enumerate(int(i) for i in ids):
            if k in skip:
                continue
            box = arrays.box(modal[k]) if boxes is None else boxes[k]
            if box is None:
                continue
            present.add(instance_id)
            entry = self._by_id.get(instance_id)
            if entry is None or entry.canvas.shape != image.shape or not self._still(entry, image, modal[k], box):
                entry = self._by_id[instance_id] = _Remembered(canvas=arrays.zeros_like(image),
                                                               seen=arrays.mask_like(image))
            entry.missing = 0
            x0, y0, x1, y1 = box
            visible = modal[k, y0:y1, x0:x1]
            arrays.copy_masked(entry.canvas[y0:y1, x0:x1], image[y0:y1, x0:x1], visible)
            entry.seen[y0:y1, x0:x1] |= visible
        for instance_id in list(self._by_id):
            if instance_id not in present:
                self._by_id[instance_id].missing += 1
                if self._by_id[instance_id].missing > MAX_MISSING:
                    del self._by_id[instance_id]

    def recall(self, instance_id: int, revealed: np.ndarray, within: Box | None = None) -> np.ndarray | None:
        """The instance's layer image when the memory covers all of its ``revealed`` pixels, else None.

        The layer is a read-only view of the memory's canvas (no copy): after this frame's
        :meth:`update` it holds the instance's visible pixels as the frame shows them, and the
        revealed ones as remembered; only those may be read. ``within``, when given, is a box
        holding every revealed pixel (the removal plan's): they are looked for there only.
        """
        entry = self._by_id.get(int(instance_id))
        box = self._box(revealed, within)
        if entry is None or box is None or entry.canvas.shape[:2] != revealed.shape:
            return None
        x0, y0, x1, y1 = box
        unseen = self.arrays.zeros_like(revealed)
        unseen[y0:y1, x0:x1] = revealed[y0:y1, x0:x1] & ~entry.seen[y0:y1, x0:x1]
        if unseen[y0:y1, x0:x1].any() and (entry.completion is None or
                                           not self.arrays.covers(unseen, *entry.completion)):
            return None
        self.recalls += 1
        return self.arrays.read_only(entry.canvas)

    def remember(self, instance_id: int, completed: np.ndarray, revealed: np.ndarray,
                 at: tuple[int, int] = (0, 0), within: Box | None = None) -> None:
        """Keep the instance's ``completed`` colours over ``revealed`` where no frame showed it,
        in place of its earlier completion. ``completed`` is the instance's layer image, or a part
        of it holding every revealed pixel, with its top-left pixel at ``at`` (x, y) in the frame.
        ``within`` as for :meth:`recall`."""
        entry = self._by_id.get(int(instance_id))
        box = self._box(revealed, within)
        if entry is None or box is None or entry.canvas.shape[:2] != revealed.shape:
            return
        x0, y0, x1, y1 = box
        left, top = at
        new = revealed[y0:y1, x0:x1] & ~entry.seen[y0:y1, x0:x1]
        self.arrays.copy_masked(entry.canvas[y0:y1, x0:x1], completed[y0 - top : y1 - top, x0 - left : x1 - left], new)
        entry.completion = (box, new)

    def _box(self, mask: np.ndarray, within: Box | None) -> Box | None:
        """The tight box of ``mask``, looked for in ``within`` only when given."""
        return self.arrays.box(mask) if within is None else mask_box_in(mask, within, self.arrays.box)

    def _still(self, entry: _Remembered, image: np.ndarray, mask: np.ndarray, box: Box) -> bool:
        """Whether the instance stayed where it was and as it was (:func:`still_on`), judged on a
        grid of about ``SAMPLES`` pixels of its box: only those samples go to the host."""
        x0, y0, x1, y1 = box
        step = max(1, int(np.sqrt((y1 - y0) * (x1 - x0) / SAMPLES)))
        grid = (slice(y0, y1, step), slice(x0, x1, step))
        return still_on(*self.arrays.to_host(mask[grid], entry.seen[grid], image[grid], entry.canvas[grid]))


def still_covers(region: np.ndarray, box: Box, then: np.ndarray) -> bool:
    """Whether a fill made for the never-seen region ``then`` (the part of a frame-sized mask inside
    ``box``) still serves the never-seen ``region`` now: none of it outside, and at least
    ``REUSE_SHARE`` of ``then`` still in it (so the fill had about the context it would have now)."""
    x0, y0, x1, y1 = box
    inside = region[y0:y1, x0:x1]
    return reuse_fits(np.count_nonzero(inside), np.count_nonzero(region), np.count_nonzero(inside & ~then),
                      np.count_nonzero(then))


def reuse_fits(inside: int, total: int, beyond: int, then: int) -> bool:
    """:func:`still_covers` on pixel counts: the never-seen region has ``inside`` of its ``total``
    pixels in the box, ``beyond`` of those outside the ``then`` pixels the fill was made for."""
    if inside == 0 or inside != total or beyond:
        return False
    return then - inside <= (1 - REUSE_SHARE) * then


def still_on(now: np.ndarray, seen: np.ndarray, image: np.ndarray, canvas: np.ndarray) -> bool:
    """On grid samples of an instance's box: whether it stayed where it was (its visible pixels
    ``now`` lie where it was ``seen``) and as it was (the ``image`` colours there against the
    remembered ``canvas``)."""
    both = now & seen
    shared = np.count_nonzero(both)
    if shared < STILL_SHARE * np.count_nonzero(now):
        return False
    if shared == 0:
        return True
    difference = cv2.absdiff(image, canvas)[both].astype(np.float32) @ GRAY
    return float(difference.mean()) <= STILL_DIFFERENCE
