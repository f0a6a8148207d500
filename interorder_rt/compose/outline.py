"""The outline a loose mask misses: pixels just beyond a removed person's region whose colours
are foreign to the background around them.

COCO polygons and segmenters' masks are often a few pixels loose, and what they miss of the
person (a glove's edge, hair, the rim of a shoe) stays as a strip along the fill. The removal
margin (``compose.grow_targets``) covers a fixed width; beyond it, this step takes the pixels
within one more ``reach`` (a square) whose colour lies more than ``SNAP_SIGMAS`` standard
deviations (plus ``SNAP_LEVELS`` grey levels) from the mean of the background ring 2 to 3 reaches
out, over the window of 2 reaches around each, and only where they join the region. A textured
background has a wide deviation, so its pixels stay. The window sums are integers (exact), so
the device twin (``backends.device_masks.foreign_outline``) gives the same pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from interorder_rt.compose.instance_memory import HostArrays

SNAP_SIGMAS = 3.0  # a pixel is foreign beyond this many standard deviations of the background near it
SNAP_LEVELS = 12.0  # and this many grey levels more (sensor noise, compression)
SNAP_PAD = 3  # reaches of frame around a region that the snap reads (its ring reaches 3 out)


def foreign_outline(image: np.ndarray, region: np.ndarray, background: np.ndarray, reach: int) -> np.ndarray:
    """The ``background`` pixels within ``reach`` of ``region`` (joined to it through such pixels)
    whose colour is foreign to the background ring around them (module doc).

    ``image`` (h, w, 3) uint8 and the (h, w) bool masks are a window of the frame holding
    ``SNAP_PAD`` reaches around ``region``."""
    out = np.zeros(region.shape, bool)
    if reach <= 0:
        return out
    near = HostArrays.grown(region, reach) & background & ~region
    ring = HostArrays.grown(region, 3 * reach) & ~HostArrays.grown(region, 2 * reach) & background
    ys, xs = np.nonzero(near)
    if not ys.size or not ring.any():
        return out
    shown = cv2.bitwise_and(image, image, mask=ring.view(np.uint8))  # the ring's colours, zero elsewhere
    side = (4 * reach + 1,) * 2
    count, total, squares = (
        cv2.boxFilter(plane, depth, side, normalize=False, borderType=cv2.BORDER_CONSTANT)[ys, xs].astype(np.float64)
        for plane, depth in ((ring.view(np.uint8), cv2.CV_32S), (shown, cv2.CV_32S),
                             (np.square(shown, dtype=np.uint16), cv2.CV_64F)))
    foreign = is_foreign(count, total, squares, image[ys, xs].astype(np.float64))
    candidates = np.zeros(region.shape, bool)
    candidates[ys[foreign], xs[foreign]] = True
    edge = region
    for _ in range(reach):  # one ring at a time, so that the growth stays joined to the region
        edge = HostArrays.grown(edge, 1) & candidates & ~out
        if not edge.any():
            break
        out |= edge
    return out


def is_foreign(count, total, squares, colour, sqrt=np.sqrt):
    """Whether each colour ((K, 3) float64) lies more than ``SNAP_SIGMAS`` deviations and
    ``SNAP_LEVELS`` levels from the ring pixels its window holds (their ``count``, sum ``total``
    and sum of squares ``squares``, per channel): NumPy arrays, or torch tensors with
    ``sqrt=torch.sqrt`` (the same operations in the same order, so the same answers)."""
    scale = count.clip(min=1.0)[:, None]
    mean = total / scale
    deviation = sqrt(channel_mean(squares / scale - mean * mean).clip(min=0.0))
    distance = sqrt(channel_mean((colour - mean) * (colour - mean)))
    return (count > 0) & (distance > SNAP_SIGMAS * deviation + SNAP_LEVELS)


def channel_mean(planes):
    """The mean of a (K, 3) array over its channels, summed in order (NumPy or torch alike)."""
    return (planes[:, 0] + planes[:, 1] + planes[:, 2]) / 3.0
