"""What the part-wise warp derives once from a source person: which part each pixel shows."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from interorder_rt.pose.fill import fill_from_nearest
from interorder_rt.pose.parts import PARTS
from interorder_rt.pose.protocol import SourcePerson
from interorder_rt.pose.skeleton import nearest_part, part_distances

_BORDER = 2  # pixels kept around the person: bilinear samples at its edge read one beyond


@dataclass(frozen=True)
class SourceParts:
    labels: np.ndarray  # (H, W) uint8: 1 + index of the nearest part's skeleton inside the mask, 0 outside
    extents: np.ndarray  # (H, W) uint16: bit q set where part q's extent (convex hull of its pixels) meets the mask
    image: np.ndarray  # (H, W, 3) uint8: the source image with the person's colours carried past the mask
    reach: np.ndarray  # (P,) float64: farthest pixel of each part from its skeleton, in source pixels (0 if none)


def _extents(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Bit q: the convex hull of part q's pixels, within the mask.

    The hull also covers the part where another part lay on top of it in the source (an arm
    across the chest), so the moved part keeps its full shape and the uncovered spot becomes a
    hole to fill instead of a gap in the silhouette.
    """
    extents = np.zeros(labels.shape, dtype=np.uint16)
    hull = np.empty(labels.shape, dtype=np.uint8)
    for q in range(len(PARTS)):
        points = cv2.findNonZero((labels == q + 1).view(np.uint8))
        if points is None:
            continue
        hull.fill(0)
        cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
        extents[(hull > 0) & mask] |= np.uint16(1 << q)
    return extents


def analyse_source(source: SourcePerson) -> SourceParts:
    """Assign every person pixel of ``source`` to its nearest part skeleton (work limited to the person's box)."""
    height, width = source.mask.shape
    x0, y0, x1, y1 = source.box(_BORDER)
    box = (slice(y0, y1), slice(x0, x1))
    mask = source.mask[box]
    distances = part_distances(source.keypoints - np.float32([x0, y0]), y1 - y0, x1 - x0)
    labels = np.zeros((height, width), dtype=np.uint8)
    labels[box] = np.where(mask, nearest_part(distances) + 1, 0)
    reach = np.array([distances[q][labels[box] == q + 1].max(initial=0.0) for q in range(len(PARTS))])
    extents = np.zeros((height, width), dtype=np.uint16)
    extents[box] = _extents(labels[box], mask)
    image = source.image.copy()
    image[box] = fill_from_nearest(source.image[box], mask, ~mask)
    return SourceParts(labels, extents, image, reach)
