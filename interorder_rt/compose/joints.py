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

import cv2
import numpy as np

from interorder_rt.ops.order import OrderResult, layering_from_order

JOINT_MARGIN = 2  # pixels a joint must lie inside the occluder and away from the person's own mask


def joint_occluders(masks: np.ndarray, person: int, keypoints: np.ndarray, margin: int = JOINT_MARGIN) -> np.ndarray:
    """(N,) bool: the instances hiding a joint of ``person``.

    ``masks`` (N, H, W) bool visible masks; ``keypoints`` (K, 2) x, y pixels, NaN where missing. A
    joint counts for instance k when it lies at least ``margin`` pixels inside k's mask and at
    least ``margin`` pixels away from the person's mask.
    """
    n, height, width = masks.shape
    points = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    points = np.floor(points[~np.isnan(points).any(axis=1)]).astype(np.int64)
    points = points[(points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)]
    hidden = np.zeros(n, dtype=bool)
    if not len(points):
        return hidden
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    near_person = cv2.dilate(masks[person].astype(np.uint8), kernel)[points[:, 1], points[:, 0]].astype(bool)
    points = points[~near_person]
    on_mask = masks[:, points[:, 1], points[:, 0]].any(axis=1)  # only these can hold a joint well inside
    on_mask[person] = False
    for k in np.flatnonzero(on_mask):
        inside = cv2.erode(masks[k].astype(np.uint8), kernel)
        hidden[k] = bool(inside[points[:, 1], points[:, 0]].any())
    return hidden


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
