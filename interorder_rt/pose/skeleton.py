"""Geometry of a pose's skeleton on a pixel grid: body scale and per-part distance maps."""

from __future__ import annotations

import cv2
import numpy as np

from interorder_rt.keypoints import INDEX, visible
from interorder_rt.pose.parts import PARTS

_SUBPIXEL_BITS = 2  # lines are drawn with quarter-pixel endpoint precision
_MAX_COORD = 1e7  # keeps fixed-point endpoints inside int32


def spine(keypoints: np.ndarray) -> np.ndarray:
    """The vector from the neck to the middle of the hips that are present, float64 (2,)."""
    hips = keypoints[[INDEX["right_hip"], INDEX["left_hip"]]]
    return hips[visible(hips)].mean(axis=0).astype(np.float64) - keypoints[INDEX["neck"]]


def body_scale(keypoints: np.ndarray) -> float:
    """Spine length in pixels (at least 1): the pose's size unit."""
    return max(float(np.hypot(*spine(keypoints))), 1.0)


def part_distances(keypoints: np.ndarray, height: int, width: int, margin: int = 0) -> np.ndarray:
    """(P, height, width) float32 Euclidean distance from each pixel to each part's skeleton.

    A part with no drawable segment (an end keypoint missing) gets +inf everywhere. Skeletons are
    rasterised on a canvas padded by ``margin`` pixels, so parts just outside the frame still count.
    """
    present = visible(keypoints)
    scale = 1 << _SUBPIXEL_BITS
    points = np.round((np.clip(np.nan_to_num(keypoints), -_MAX_COORD, _MAX_COORD) + margin) * scale).astype(np.int64)
    out = np.full((len(PARTS), height, width), np.inf, dtype=np.float32)
    canvas = np.empty((height + 2 * margin, width + 2 * margin), dtype=np.uint8)
    for p, part in enumerate(PARTS):
        segments = [(a, b) for a, b in part.segments if present[a] and present[b]]
        if not segments:
            continue
        canvas.fill(255)
        for a, b in segments:
            cv2.line(canvas, tuple(map(int, points[a])), tuple(map(int, points[b])), 0, 1, cv2.LINE_8, _SUBPIXEL_BITS)
        if canvas.all():  # the whole skeleton lies outside the padded canvas
            continue
        distance = cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_5)
        out[p] = distance[margin : margin + height, margin : margin + width]
    return out


def nearest_part(distances: np.ndarray) -> np.ndarray:
    """(H, W) int64 index of the nearest part per pixel (first on ties), from (K, H, W) distances."""
    nearest = np.zeros(distances.shape[1:], dtype=np.int64)
    best = distances[0].copy()
    for k in range(1, len(distances)):
        closer = distances[k] < best
        nearest[closer], best[closer] = k, distances[k][closer]
    return nearest
