"""Stable instance ids across video frames from mask overlap.

A segmenter lists a frame's instances in any order; the stream's order smoothing (and whatever
else remembers an instance over time) needs to know which instance of this frame is which of the
last. Each instance is matched to the track whose last mask it overlaps most (IoU), greedily from
the best pair down, above ``min_iou``. A track not seen for up to ``patience`` frames is kept, so
a person who leaves the frame or is hidden for a few frames gets their old id back on return.

IoU is counted inside the intersection of the two boxes only, on the masks' box crops, so the
cost follows the instances, not the frame. (MaskSet's compiled intersection matrix would need the
remembered and the new masks packed together, a full-frame copy per frame.) On the device path
(``Engine(device="cuda").stream``) the masks are tensors: the crops stay on the device and each
pair of overlapping boxes reads back one count.

``TargetFollower`` uses the ids to replace the same person in every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from interorder_rt.backends.device_arrays import copy_of, count_set
from interorder_rt.frame import Frame
from interorder_rt.ops.maskset import MaskSet


@dataclass
class _Track:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive ends) of the last mask
    crop: np.ndarray  # the last mask inside its box (a tensor where the masks are: the device path)
    area: int
    last_seen: int  # frame number


def _crop(mask: np.ndarray, box: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = (int(v) for v in box)
    return copy_of(mask[y0:y1, x0:x1])


def _overlap(a: _Track, b: _Track) -> int:
    """Pixels set in both tracks' masks."""
    x0, y0 = max(a.box[0], b.box[0]), max(a.box[1], b.box[1])
    x1, y1 = min(a.box[2], b.box[2]), min(a.box[3], b.box[3])
    if x0 >= x1 or y0 >= y1:
        return 0
    ca = a.crop[y0 - a.box[1]:y1 - a.box[1], x0 - a.box[0]:x1 - a.box[0]]
    cb = b.crop[y0 - b.box[1]:y1 - b.box[1], x0 - b.box[0]:x1 - b.box[0]]
    return count_set(ca & cb)


class InstanceTracker:
    """Gives each instance of a stream of frames a stable integer id (``update`` per frame).

    ``min_iou``: the least mask IoU with a track's last mask for an instance to continue it.
    ``patience``: frames a track may go unseen and still be resumed.
    """

    def __init__(self, min_iou: float = 0.2, patience: int = 5) -> None:
        if not 0.0 < min_iou <= 1.0:
            raise ValueError(f"min_iou must lie in (0, 1], got {min_iou}")
        if patience < 0:
            raise ValueError(f"patience must be non-negative, got {patience}")
        self.min_iou = float(min_iou)
        self.patience = int(patience)
        self._tracks: dict[int, _Track] = {}
        self._next_id = 0
        self._frame = -1

    def reset(self) -> None:
        """Forget every track (a new shot)."""
        self._tracks.clear()
        self._frame = -1

    def update(self, masks: np.ndarray, boxes: np.ndarray | None = None) -> tuple[int, ...]:
        """The ids of this frame's instances, one per (H, W) bool mask of ``masks`` (N, H, W).

        ``boxes`` (N, 4) ``x0, y0, x1, y1`` are the masks' tight boxes (``MaskSet.boxes``), computed
        when not given.
        """
        self._frame += 1
        if boxes is None:
            boxes = MaskSet(masks).boxes() if len(masks) else np.zeros((0, 4), np.int32)
        current = [
            _Track(tuple(int(v) for v in box), crop, count_set(crop), self._frame)
            for box, crop in ((box, _crop(mask, box)) for mask, box in zip(masks, boxes))
        ]
        self._tracks = {i: t for i, t in self._tracks.items() if self._frame - t.last_seen <= self.patience + 1}
        ids = self._assign(current)
        for track_id, track in zip(ids, current):
            self._tracks[track_id] = track
        return tuple(ids)

    def _assign(self, current: list[_Track]) -> list[int]:
        """Greedy matching by IoU, best pair first; ties go to the most recently seen track."""
        tracks = sorted(self._tracks.items(), key=lambda item: -item[1].last_seen)
        iou = np.zeros((len(current), len(tracks)))
        for k, new in enumerate(current):
            for j, (_, old) in enumerate(tracks):
                inter = _overlap(new, old)
                if inter:
                    iou[k, j] = inter / (new.area + old.area - inter)
        matched = dict(greedy_match(iou, self.min_iou))
        ids = []
        for k in range(len(current)):
            if k in matched:
                ids.append(tracks[matched[k]][0])
            else:
                ids.append(self._next_id)
                self._next_id += 1
        return ids


def greedy_match(scores: np.ndarray, min_score: float) -> list[tuple[int, int]]:
    """Row-column pairs of an (R, C) score matrix, best first, each row and column used once,
    none below ``min_score``; equal scores go to the lower row, then the lower column."""
    rows, cols = np.nonzero(scores >= min_score)
    pairs = []
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    for k in np.lexsort((cols, rows, -scores[rows, cols])):
        r, c = int(rows[k]), int(cols[k])
        if r not in used_rows and c not in used_cols:
            pairs.append((r, c))
            used_rows.add(r)
            used_cols.add(c)
    return pairs


class TargetFollower:
    """Replaces one person through a stream, followed by id, among each frame's candidate targets.

    A frame lists as targets every person that could be replaced (``target="all"`` in the
    ``Frame.from_*`` adapters); the follower keeps the one whose instance id it follows and drops
    the rest. The first person followed is the largest candidate; while the followed person is
    missing the frame replaces no one, and after ``patience`` frames without them the largest
    candidate is followed instead.
    """

    def __init__(self, patience: int = 5) -> None:
        self.patience = int(patience)
        self.followed: int | None = None
        self._missing = 0

    def narrow(self, frame: Frame) -> Frame:
        """``frame`` (checked, with instance ids) with only the followed person as its target."""
        candidates = {frame.instance_ids[t]: k for k, t in enumerate(frame.target)}
        if self.followed not in candidates:
            self._missing += 1
            if self.followed is not None and self._missing <= self.patience or not candidates:
                return replace(frame, target=(), keypoints=())
            areas = {i: int(frame.masks[frame.target[k]].sum()) for i, k in candidates.items()}
            self.followed = max(areas, key=lambda i: (areas[i], -i))
        self._missing = 0
        k = candidates[self.followed]
        return replace(frame, target=(frame.target[k],), keypoints=(frame.keypoints[k],))
