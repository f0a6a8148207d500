"""Instance memory for video: what a stream has seen, or completed, of each instance it follows.

A still camera over a still object (a table, a parked car, a person standing) shows the same
object frame after frame. When a replaced person walks in front of it, the part the removed
person hid was often seen in an earlier frame, and what was never seen was completed once
already. The memory keeps, per instance id, the instance's pixels seen so far and its kept
completion (of pixels never seen), so a revealed region comes back from it: the real pixels where
an earlier frame showed them, the kept completion where it holds them (no flicker, no second
fill), and only the rest is completed, with all of that as its context
(:meth:`InstanceMemory.recall`). Once more than ``1 - REUSE_SHARE`` of the kept completion has
been seen, its pixels within ``REFRESH_BAND`` of what was seen are completed anew, with the
context seen since; the rest stays.

An instance that moves as a whole (a car driving, a person walking across) is followed: its
memory moves with it, by the shift of its box's edges or centre that lays its visible pixels on
what was seen (``STILL_SHARE``) with the same colours (``STILL_DIFFERENCE``); being hidden more or
less by someone passing in front does not count. One that moves otherwise, or changes, starts
afresh; an id unseen for ``MAX_MISSING`` frames is forgotten. A panning camera moves every
instance as a whole too (followed while its shift in whole pixels passes the colour test); a
stream's ``BackgroundMemory`` owns one, whatever its alignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from interorder_rt.backends.device_arrays import zeros_like
from interorder_rt.compose.boxes import Box, mask_box, mask_box_in, union_box
from interorder_rt.compose.painter import copy_masked

STILL_SHARE = 0.9  # least share of an instance's visible pixels where it was seen before, for it to be still
STILL_DIFFERENCE = 12.0  # mean |gray| difference on the instance's seen pixels above which it changed
SAMPLES = 2048  # pixels of the instance compared per frame for the change test
MAX_MISSING = 30  # frames an id may go unseen before it is forgotten
REUSE_SHARE = 0.95  # a fill is reused whole while at most 1 - this share of its pixels has been seen since
REFRESH_BAND = 12  # pixels of a kept fill next to what has been seen since that are made anew once more is seen
GRAY = np.array([0.299, 0.587, 0.114], np.float32)


class KeptFill:
    """The pixels a fill kept for later frames filled while they were never seen (``filled``, an
    (H, W) bool plane, set within ``box``; None: nothing kept), and the rules for its reuse: whole
    (:meth:`serves`), or renewed next to what has been seen since (:meth:`refresh`). A stream's
    background synthesis and each instance's completion keep one."""

    def __init__(self, filled: np.ndarray, arrays: type) -> None:
        self.filled, self.arrays = filled, arrays
        self.box: Box | None = None

    def clear(self) -> None:
        """Keep nothing (the plane stays, for the next fill)."""
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            self.filled[y0:y1, x0:x1] = False
        self.box = None

    def add(self, box: Box, region: np.ndarray) -> None:
        """Keep the ``region`` pixels of ``box`` ((y1 - y0, x1 - x0) bool) too."""
        x0, y0, x1, y1 = box
        self.filled[y0:y1, x0:x1] |= region
        self.box = union_box([self.box, box])

    def serves(self, seen: np.ndarray) -> bool:
        """Whether at most ``1 - REUSE_SHARE`` of the kept pixels have been ``seen`` since (so the
        fill had about the context a new one would have)."""
        if self.box is None:
            return False
        x0, y0, x1, y1 = self.box
        filled = self.filled[y0:y1, x0:x1]
        made, since = self.arrays.counts(filled, filled & seen[y0:y1, x0:x1])
        return since <= (1 - REUSE_SHARE) * made

    def refresh(self, seen: np.ndarray) -> None:
        """Forget the kept pixels ``seen`` since and those within ``REFRESH_BAND`` of them: the rest
        stays, and those pixels are filled anew with the context seen since."""
        x0, y0, x1, y1 = self.box
        filled = self.filled[y0:y1, x0:x1]
        filled &= ~self.arrays.grown(filled & seen[y0:y1, x0:x1], REFRESH_BAND)


@dataclass
class _Remembered:
    canvas: np.ndarray  # (H, W, 3) uint8: the instance's seen or completed colours
    seen: np.ndarray  # (H, W) bool: shown by a frame
    completion: KeptFill  # the pixels completed while never seen
    extent: Box | None = None  # holds every set pixel of seen and of the completion
    box: Box | None = None  # where the instance's visible pixels lay in the latest frame
    missing: int = 0  # frames since it was last seen


class HostArrays:
    """The array steps of the stream memories on NumPy arrays. ``backends.device_memory.TensorArrays``
    is their twin on torch tensors: the memories' logic is written once, for either."""

    box = staticmethod(mask_box)
    copy = staticmethod(np.ndarray.copy)
    copy_masked = staticmethod(copy_masked)
    zeros_like = staticmethod(zeros_like)

    @staticmethod
    def mask_like(image: np.ndarray) -> np.ndarray:
        """An all-False (H, W) mask the size of an (H, W, 3) image."""
        return np.zeros(image.shape[:2], bool)

    @staticmethod
    def grown(mask: np.ndarray, radius: int) -> np.ndarray:
        """``mask`` grown by ``radius`` pixels (a square)."""
        return cv2.dilate(mask.view(np.uint8), np.ones((2 * radius + 1,) * 2, np.uint8)).view(bool)

    @staticmethod
    def eroded(mask: np.ndarray) -> np.ndarray:
        """``mask`` shrunk by a pixel (a 3 x 3 square; outside the mask counts as set)."""
        return cv2.erode(mask.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)

    @staticmethod
    def counts(*masks: np.ndarray) -> list[int]:
        """The set pixels of each mask."""
        return [int(np.count_nonzero(m)) for m in masks]

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
        indices, following those that moved. ``boxes[k]``, when given, holds ``modal[k]`` (a box
        around it, not necessarily tight)."""
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
            if entry is None or entry.canvas.shape != image.shape or not self._follow(entry, image, modal[k], box):
                entry = self._by_id[instance_id] = _Remembered(canvas=arrays.zeros_like(image),
                                                               seen=arrays.mask_like(image),
                                                               completion=KeptFill(arrays.mask_like(image), arrays))
            entry.missing = 0
            x0, y0, x1, y1 = box
            visible = modal[k, y0:y1, x0:x1]
            arrays.copy_masked(entry.canvas[y0:y1, x0:x1], image[y0:y1, x0:x1], visible)
            entry.seen[y0:y1, x0:x1] |= visible
            entry.extent, entry.box = union_box([entry.extent, box]), box
        for instance_id in list(self._by_id):
            if instance_id not in present:
                self._by_id[instance_id].missing += 1
                if self._by_id[instance_id].missing > MAX_MISSING:
                    del self._by_id[instance_id]

    def recall(self, instance_id: int, revealed: np.ndarray,
               within: Box | None = None) -> tuple[np.ndarray, np.ndarray | None] | None:
        """What the memory holds of the instance's ``revealed`` pixels: (its layer image, None)
        when it covers all of them, (the layer, the revealed pixels left to complete) when it
        covers some, None when it holds no completion and some were never seen.

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
        left = revealed[y0:y1, x0:x1] & ~entry.seen[y0:y1, x0:x1]  # in the box: a frame-sized plane only if needed
        if left.any():
            completion = entry.completion
            if completion.box is None:
                return None
            if not completion.serves(entry.seen):
                completion.refresh(entry.seen)
            left &= ~completion.filled[y0:y1, x0:x1]
        self.recalls += 1
        layer = self.arrays.read_only(entry.canvas)
        if not left.any():
            return layer, None
        plane = self.arrays.zeros_like(revealed)
        plane[y0:y1, x0:x1] = left
        return layer, plane

    def remember(self, instance_id: int, completed: np.ndarray, revealed: np.ndarray,
                 at: tuple[int, int] = (0, 0), within: Box | None = None, extend: bool = False) -> None:
        """Keep the instance's ``completed`` colours over ``revealed`` where no frame showed it:
        as its completion, or with ``extend`` added to the kept one (the pixels :meth:`recall`
        left). ``completed`` is the instance's layer image, or a part of it holding every revealed
        pixel, with its top-left pixel at ``at`` (x, y) in the frame. ``within`` as for :meth:`recall`."""
        entry = self._by_id.get(int(instance_id))
        box = self._box(revealed, within)
        if entry is None or box is None or entry.canvas.shape[:2] != revealed.shape:
            return
        if not extend:
            entry.completion.clear()
        x0, y0, x1, y1 = box
        left, top = at
        new = revealed[y0:y1, x0:x1] & ~entry.seen[y0:y1, x0:x1]
        self.arrays.copy_masked(entry.canvas[y0:y1, x0:x1], completed[y0 - top : y1 - top, x0 - left : x1 - left], new)
        entry.completion.add(box, new)
        entry.extent = union_box([entry.extent, box])

    def _box(self, mask: np.ndarray, within: Box | None) -> Box | None:
        """The tight box of ``mask``, looked for in ``within`` only when given."""
        return self.arrays.box(mask) if within is None else mask_box_in(mask, within, self.arrays.box)

    def _follow(self, entry: _Remembered, image: np.ndarray, mask: np.ndarray, box: Box) -> bool:
        """Whether the instance is the one remembered, where it was or moved by one of the shifts
        :func:`box_shifts` finds (then the memory moves with it)."""
        for shift in box_shifts(entry.box, box):
            if self._still(entry, image, mask, box, shift):
                if shift != (0, 0):
                    self._shift(entry, *shift)
                return True
        return False

    def _still(self, entry: _Remembered, image: np.ndarray, mask: np.ndarray, box: Box,
               shift: tuple[int, int] = (0, 0)) -> bool:
        """Whether the instance is where it was seen, moved by ``shift`` (dx, dy), and as it was
        (:func:`still_on`), judged on a grid of about ``SAMPLES`` pixels of its box: only those
        samples go to the host."""
        x0, y0, x1, y1 = box
        dx, dy = shift
        h, w = mask.shape
        cx0, cy0, cx1, cy1 = max(x0, dx), max(y0, dy), min(x1, w + dx), min(y1, h + dy)  # then inside the frame
        if cx1 <= cx0 or cy1 <= cy0:
            return False
        step = max(1, int(np.sqrt((y1 - y0) * (x1 - x0) / SAMPLES)))
        now = (slice(cy0, cy1, step), slice(cx0, cx1, step))
        then = (slice(cy0 - dy, cy1 - dy, step), slice(cx0 - dx, cx1 - dx, step))
        return still_on(*self.arrays.to_host(mask[now], entry.seen[then], image[now], entry.canvas[then]))

    def _shift(self, entry: _Remembered, dx: int, dy: int) -> None:
        """Move everything remembered of the instance by (dx, dy) pixels (what leaves the frame is lost)."""
        arrays = self.arrays
        x0, y0, x1, y1 = entry.extent
        h, w = entry.seen.shape
        tx0, ty0, tx1, ty1 = max(x0 + dx, 0), max(y0 + dy, 0), min(x1 + dx, w), min(y1 + dy, h)
        planes = (entry.canvas, entry.seen, entry.completion.filled)
        moved = [arrays.copy(p[ty0 - dy : ty1 - dy, tx0 - dx : tx1 - dx]) for p in planes] if tx1 > tx0 and ty1 > ty0 else None
        for plane in planes[1:]:
            plane[y0:y1, x0:x1] = False
        entry.extent = entry.completion.box = None
        if moved is None:
            return
        for plane, part in zip(planes, moved):
            plane[ty0:ty1, tx0:tx1] = part
        entry.extent = entry.completion.box = (tx0, ty0, tx1, ty1)


def box_shifts(before: Box | None, now: Box) -> list[tuple[int, int]]:
    """Shifts (dx, dy) that may have taken an instance from box ``before`` to box ``now``: none
    first, then those of the boxes' left or right edges with their top or bottom edges, and of
    their centres (an edge that someone in front covers or uncovers moves otherwise)."""
    shifts = [(0, 0)]
    if before is None:
        return shifts
    (bx0, by0, bx1, by1), (x0, y0, x1, y1) = before, now
    xs = (x0 - bx0, x1 - bx1, (x0 + x1 - bx0 - bx1) // 2)
    ys = (y0 - by0, y1 - by1, (y0 + y1 - by0 - by1) // 2)
    for shift in ((xs[0], ys[0]), (xs[1], ys[1]), (xs[0], ys[1]), (xs[1], ys[0]), (xs[2], ys[2])):
        if shift not in shifts:
            shifts.append(shift)
    return shifts


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
