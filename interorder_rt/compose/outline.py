"""The outline a loose mask misses: pixels just beyond a removed person's region whose colours
are foreign to the background around them.

COCO polygons and segmenters' masks are often a few pixels loose, and what they miss of the
person (a glove's edge, hair, the rim of a shoe) stays as a strip along the fill. The removal
margin (``compose.grow_targets``) covers a fixed width; beyond it, this step takes the pixels
within one more ``reach`` (a square) whose colour lies more than ``SNAP_SIGMAS`` standard
deviations (plus ``SNAP_LEVELS`` grey levels) from the mean of the background ring 2 to 3 reaches
out, over the window of 2 reaches around each, and only where they join the region. A textured
background has a wide deviation, so its pixels stay.

The compiled core does it (``csrc/core/outline.cpp``, and its CUDA twin for the device path,
``backends.device_kernels.foreign_outline``): its window sums are integers and its colour test
the same double arithmetic as :func:`foreign_outline_reference`, the NumPy reference used
without the core, so all three give the same pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from interorder_rt import _ext
from interorder_rt.compose.instance_memory import HostArrays

SNAP_SIGMAS = 3.0  # a pixel is foreign beyond this many standard deviations of the background near it
SNAP_LEVELS = 12.0  # and this many grey levels more (sensor noise, compression)
SNAP_PAD = 3  # reaches of frame around a region that the snap reads (its ring reaches 3 out)


def foreign_outline(image: np.ndarray, region: np.ndarray, background: np.ndarray, reach: int) -> np.ndarray:
    """The ``background`` pixels within ``reach`` of ``region`` (joined to it through such pixels)
    whose colour is foreign to the background ring around them (module doc).

    ``image`` (h, w, 3) uint8 and the (h, w) bool masks are a window of the frame holding
    ``SNAP_PAD`` reaches around ``region``."""
    core = _ext.compiled()
    if core is None:
        return foreign_outline_reference(image, region, background, reach)
    planes = (np.ascontiguousarray(plane) for plane in (image, region, background))
    return core.foreign_outline(*planes, max(int(reach), 0), SNAP_SIGMAS, SNAP_LEVELS)


def foreign_outline_reference(image: np.ndarray, region: np.ndarray, background: np.ndarray,
                              reach: int) -> np.ndarray:
    """:func:`foreign_outline` in NumPy and OpenCV (the compiled kernel's reference)."""
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


def is_foreign(count: np.ndarray, total: np.ndarray, squares: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Whether each colour ((K, 3) float64) lies more than ``SNAP_SIGMAS`` deviations and
    ``SNAP_LEVELS`` levels from the ring pixels its window holds (their ``count``, sum ``total``
    and sum of squares ``squares``, per channel); the kernel's ``outline::is_foreign`` does the
    same operations in the same order."""
    scale = count.clip(min=1.0)[:, None]
    mean = total / scale
    deviation = np.sqrt(_channel_mean(squares / scale - mean * mean).clip(min=0.0))
    distance = np.sqrt(_channel_mean((colour - mean) * (colour - mean)))
    return (count > 0) & (distance > SNAP_SIGMAS * deviation + SNAP_LEVELS)


def _channel_mean(planes: np.ndarray) -> np.ndarray:
    """The mean of a (K, 3) array over its channels, summed in order."""
    return (planes[:, 0] + planes[:, 1] + planes[:, 2]) / 3.0
