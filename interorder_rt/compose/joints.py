"""Order evidence from a replaced person's keypoints.

The frame gives the keypoints of each person to replace, hidden joints included where the
annotation has them (COCO marks them "labelled, not visible"). A joint that lies well inside
another instance's visible mask, away from the person's own, is hidden by that instance: it is
direct evidence that the instance is in front, independent of ORNet's mask completion. The merge
uses it to overrule a recovered "person in front of k", the costlier of the two order mistakes
(``interorder_rt.compose.layering``). Keypoints that only mark visible joints never fire.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from interorder_rt.ops.order import OrderResult, layering_from_order

JOINT_MARGIN = 2  # pixels a joint must lie inside the occluder and away from the person's own mask


def joint_windows(height: int, width: int, keypoints: np.ndarray,
                  margin: int = JOINT_MARGIN) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (2 margin + 1)² pixels around each in-frame keypoint of an ``height x width`` frame:
    (P, k, k) row and column indices (clipped to the frame) and in-frame flags."""
    points = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    points = np.floor(points[~np.isnan(points).any(axis=1)]).astype(np.int64)
    points = points[(points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)]
    dy, dx = np.mgrid[-margin : margin + 1, -margin : margin + 1]
    ys, xs = points[:, 1, None, None] + dy, points[:, 0, None, None] + dx
    inside = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
    return np.clip(ys, 0, height - 1), np.clip(xs, 0, width - 1), inside


def occluders_in_windows(values: np.ndarray, inside: np.ndarray, person: int) -> np.ndarray:
    """(N,) bool: the instances whose mask covers the whole window of a joint that lies away from
    ``person``'s. ``values`` (N, P, k, k) bool: every mask in the windows of :func:`joint_windows`;
    pixels outside the frame count as neither the person's nor against an occluder."""
    hidden = np.zeros(values.shape[0], dtype=bool)
    if not inside.shape[0]:
        return hidden
    far = ~(values[person] & inside).any(axis=(1, 2))
    well_inside = (values | ~inside[None]).all(axis=(2, 3))  # (N, P)
    hidden[:] = (well_inside & far[None]).any(axis=1)
    hidden[person] = False
    return hidden


def joint_occluders(masks: np.ndarray, person: int, keypoints: np.ndarray, margin: int = JOINT_MARGIN) -> np.ndarray:
    """(N,) bool: the instances hiding a joint of ``person``.

    ``masks`` (N, H, W) bool visible masks; ``keypoints`` (K, 2) x, y pixels, NaN where missing. A
    joint counts for instance k when it lies at least ``margin`` pixels inside k's mask and at
    least ``margin`` pixels away from the person's mask. Only the pixels around the joints are read.
    """
    ys, xs, inside = joint_windows(*masks.shape[1:], keypoints, margin)
    return occluders_in_windows(np.asarray(masks, dtype=bool)[:, ys, xs], inside, person)


def with_joint_evidence(
    result: OrderResult, masks: np.ndarray, targets: Sequence[int], keypoints: Sequence[np.ndarray],
    occluders: Callable[[Any, int, np.ndarray], np.ndarray] = joint_occluders,
) -> OrderResult:
    """``result`` with every instance that hides a joint of a replaced person put in front of it.

    The layering is recomputed when a relation changes; ``targets[i]`` has ``keypoints[i]``.
    ``occluders`` is the test of which masks hide a joint (``joint_occluders``; the device path
    passes its tensor twin).
    """
    order = np.array(result.order, dtype=np.int8, copy=True)
    for person, points in zip(targets, keypoints):
        for k in np.flatnonzero(occluders(masks, int(person), points)):
            order[k, person], order[person, k] = 1, -1
    if np.array_equal(order, result.order):
        return result
    layering, dropped = layering_from_order(order, result.growth)
    return replace(result, order=order, layering=layering, dropped=dropped)
