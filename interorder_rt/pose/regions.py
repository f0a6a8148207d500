"""Which body part each pixel of a source person shows: nearest bone measured inside the mask.

Seeds are the pose's bones drawn on the mask back to front in the source's view (facing the
camera: the torso, the legs, the face, then the arms, so an arm lying across the chest keeps its
own pixels; from the side the far limbs go under the torso, which keeps its pixels from them).
The head's seed is the hull of the face keypoints, so the throat is the torso's and hair or a hat
grows from the face. Labels then spread from the seeds
through the mask only (a breadth-first front, alternating 4- and 8-neighbour steps), so a pixel
goes to the bone it is closest to *inside* the body: a hand touching the hip stays the arm's
when it is geodesically nearer the arm. Mask pieces no seed reaches take the Euclidean nearest.

From the side, the far limbs' bones run behind the trunk: what of them lies within the trunk's
side-on thickness (``TRUNK_HALF_DEPTH`` either side of the spine, between shoulders and hips)
shows the trunk, and is the torso's; only what sticks out is the far limb's.
"""

from __future__ import annotations

import cv2
import numpy as np

from interorder_rt.keypoints import INDEX, visible
from interorder_rt.pose.parts import HEAD, PARTS, TORSO
from interorder_rt.pose.skeleton import nearest_part, part_distances, spine
from interorder_rt.pose.views import DEPTH, SIDE_VIEWS

FACE = tuple(INDEX[k] for k in ("nose", "right_eye", "left_eye", "right_ear", "left_ear"))
# The torso's seed: the shoulder line, the hip line and neck to each hip (not its sides, which
# would claim the pixels of arms held along them).
_TORSO_SEEDS = tuple((INDEX[a], INDEX[b]) for a, b in (
    ("right_shoulder", "left_shoulder"), ("right_hip", "left_hip"), ("neck", "right_hip"), ("neck", "left_hip"),
))
_TRUNK_CORNERS = tuple(INDEX[k] for k in ("right_shoulder", "left_shoulder", "right_hip", "left_hip"))
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
_SQUARE = np.ones((3, 3), np.uint8)
TRUNK_HALF_DEPTH = 0.2  # half the trunk's thickness seen side-on, as a share of the body scale


def face_polygon(keypoints: np.ndarray, scale: float) -> np.ndarray | None:
    """(K, 2) int32 hull of the face keypoints, widened to a disk for one point; None without any."""
    points = keypoints[[k for k in FACE if visible(keypoints)[k]]]
    if not len(points):
        return None
    radius = max(0.06 * scale, 2.0)
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius
    return cv2.convexHull(np.round((points[:, None] + ring[None]).reshape(-1, 2)).astype(np.int32)).reshape(-1, 2)


def _seeds(mask: np.ndarray, keypoints: np.ndarray, scale: float, depth: np.ndarray) -> np.ndarray:
    present = visible(keypoints)
    seeds = np.zeros(mask.shape, np.uint8)
    thickness = max(1, int(round(0.02 * scale)))
    points = np.round(np.nan_to_num(keypoints)).astype(np.int64)
    face = face_polygon(keypoints, scale)
    for p in sorted(range(len(PARTS)), key=lambda q: (depth[q], q)):
        if p == HEAD:
            if face is not None:
                cv2.fillConvexPoly(seeds, face, HEAD + 1)
            continue
        for a, b in (_TORSO_SEEDS if p == TORSO else PARTS[p].segments):
            if present[a] and present[b]:
                cv2.line(seeds, tuple(map(int, points[a])), tuple(map(int, points[b])), p + 1, thickness)
    seeds[~mask] = 0
    return seeds


def _trunk(shape: tuple[int, int], keypoints: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) bool: the trunk seen side-on, the hull of shoulders, hips and the spine's ends
    widened by ``TRUNK_HALF_DEPTH`` across it."""
    present = visible(keypoints)
    down = spine(keypoints)
    across = np.array([-down[1], down[0]]) / max(float(np.hypot(*down)), 1e-6) * TRUNK_HALF_DEPTH * scale
    neck = keypoints[INDEX["neck"]].astype(np.float64)
    ends = [neck + across, neck - across, neck + down + across, neck + down - across]
    corners = [keypoints[k] for k in _TRUNK_CORNERS if present[k]]
    hull = cv2.convexHull(np.round(np.array(ends + corners)).astype(np.int32))
    out = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(out, hull, 1)
    return out > 0


def geodesic_labels(mask: np.ndarray, keypoints: np.ndarray, scale: float, view: str) -> np.ndarray:
    """(H, W) uint8: 1 + the part of each mask pixel (module doc), 0 outside the mask; seeds are
    drawn back to front by the depth of the source's ``view`` (``pose.views``)."""
    depth = DEPTH[view]
    labels = _seeds(mask, keypoints, scale, depth)
    open_ = mask & (labels == 0)
    step = 0
    while open_.any():
        grown = cv2.dilate(labels, _CROSS if step % 2 == 0 else _SQUARE)
        reached = open_ & (grown > 0)
        if not reached.any():
            break
        labels[reached] = grown[reached]
        open_ &= ~reached
        step += 1
    if open_.any():  # pieces of the mask without a bone on them
        nearest = nearest_part(part_distances(keypoints, *mask.shape)) + 1
        labels[open_] = nearest[open_]
    if view in SIDE_VIEWS:
        behind = np.isin(labels, np.flatnonzero(depth < depth[TORSO]) + 1) & _trunk(mask.shape, keypoints, scale)
        labels[behind] = TORSO + 1
    return labels


def limb_reach(labels: np.ndarray, distances: np.ndarray, part: int) -> float:
    """How far ``part``'s pixels reach from its skeleton (``distances``: ``part_distances``): the
    90th percentile, its outer edge even where a limb beside it took its inner half (0 without any)."""
    own = distances[part][labels == part + 1]
    own = own[np.isfinite(own)]
    return float(np.percentile(own, 90)) if len(own) else 0.0
