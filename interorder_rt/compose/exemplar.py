"""Exemplar fill: a region of a frame re-synthesised from patches of the same frame.

The compiled core's PatchMatch (``csrc/core/patchmatch.cpp``: Barnes et al. 2009 nearest-neighbour
fields over an image pyramid, 7 x 7 patches, each hole pixel voted from the patches covering it)
runs on the region of interest only: the hole's box plus a band of context, so its cost follows
the hole, not the frame. A hole in parts far apart (slivers a stream's memory could not put
back, around a moving person) is filled part by part, each in its own region
(:func:`fill_regions`), not in the one box that spans them all.

Patches are copied only from ``source`` pixels: outside the hole and outside removed people for
a freed background, an instance's own visible pixels for its revealed part. Pixels to avoid
(other instances) near the hole are solved as hole too (:func:`matched_as_hole`), so that the
fill beside an instance is matched against background, not against the instance's colours.
Where no whole patch fits in the source (a thin instance, a hole filling its box) the patch
shrinks, the box widens to the frame, and OpenCV Telea is the last resort.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from interorder_rt import _ext
from interorder_rt.compose.boxes import intersection, mask_box, union_box
from interorder_rt.compose.instance_memory import HostArrays
from interorder_rt.compose.painter import copy_masked

PATCH_SIZES = (7, 5, 3)  # tried in turn until some patch lies wholly in the source
TELEA_RADIUS = 3
MAX_PARTS = 32  # a hole in more parts is filled as one region


@dataclass(frozen=True)
class ExemplarOptions:
    """Knobs of :func:`exemplar_fill` (defaults measured by ``interorder eval removal``).

    ``context`` pads the hole's box by that share of its longer side (at least ``min_context``
    pixels) to make the region the fill samples from. ``iterations`` are the search and vote
    rounds at the coarsest pyramid level (halved per finer level); ``finest_iterations`` at full size (0: vote the upsampled field only).
    """

    context: float = 0.25
    min_context: int = 24
    iterations: int = 6
    finest_iterations: int = 0
    coarsest_side: int = 40
    local_radius: int = 8
    seed: int = 0


def padded(box: tuple[int, int, int, int], context: float, min_context: int, height: int,
           width: int) -> tuple[int, int, int, int]:
    """``box`` padded by ``context`` x its longer side (at least ``min_context``), in a frame of that size."""
    x0, y0, x1, y1 = box
    pad = _pad(box, context, min_context)
    return max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, width), min(y1 + pad, height)


def context_box(box: tuple[int, int, int, int], context: float, min_context: int, height: int,
                width: int) -> tuple[int, int, int, int]:
    """``box`` with the context band of :func:`padded`, where a band that the frame's edge cuts
    off is added on the opposite side instead: a hole at the edge keeps as much context as one
    inside. (A person removed at a photo's edge, another person beside it: with the clipped band
    alone, the only background left to copy from was the sky above, and the snow it stood on
    came back as sky.)"""
    x0, y0, x1, y1 = box
    pad = _pad(box, context, min_context)
    (x0, x1), (y0, y1) = _band(x0, x1, pad, width), _band(y0, y1, pad, height)
    return x0, y0, x1, y1


def _pad(box: tuple[int, int, int, int], context: float, min_context: int) -> int:
    x0, y0, x1, y1 = box
    return max(int(np.ceil(context * max(x1 - x0, y1 - y0))), min_context)


def _band(lo: int, hi: int, pad: int, size: int) -> tuple[int, int]:
    """``[lo - pad, hi + pad)`` moved off the edges of ``[0, size)`` it crosses, then cut to it."""
    start, stop = lo - pad, hi + pad
    shift = max(-start, 0) - max(stop - size, 0)
    return max(start + shift, 0), min(stop + shift, size)


def fill_regions(hole: np.ndarray, at: tuple[int, int], context: float, min_context: int, height: int,
                 width: int) -> list[tuple[int, int, int, int]]:
    """The regions to fill a hole in: its connected parts' boxes, each with its :func:`context_box`,
    parts whose regions overlap taken together (their tight boxes' union padded again); one
    region when they all meet. ``hole`` is the hole's tight box, whose corner is ``at`` (x, y)
    in a ``height`` x ``width`` frame. Beyond ``MAX_PARTS`` parts, the one region of the whole hole."""
    ax, ay = at
    count, _, stats, _ = cv2.connectedComponentsWithStats(hole.view(np.uint8), connectivity=8)
    tights = [(ax + x, ay + y, ax + x + w, ay + y + h) for x, y, w, h, _ in stats[1:count].tolist()]
    if len(tights) > MAX_PARTS:
        tights = [union_box(tights)]
    regions = [context_box(t, context, min_context, height, width) for t in tights]
    merged = True
    while merged:
        merged = False
        for i, j in itertools.combinations(range(len(regions)), 2):
            if intersection(regions[i], regions[j]) is not None:
                tights[i] = union_box([tights[i], tights.pop(j)])
                regions.pop(j)
                regions[i] = context_box(tights[i], context, min_context, height, width)
                merged = True
                break
    return regions


def _patchmatch(image: np.ndarray, hole: np.ndarray, source: np.ndarray, options: ExemplarOptions,
                shown: np.ndarray | None) -> np.ndarray | None:
    core = _ext.compiled()
    if core is None:
        return None
    for patch in PATCH_SIZES:
        out = core.patchmatch_fill(
            image, hole, source, patch_size=patch, iterations=options.iterations,
            finest_iterations=options.finest_iterations, coarsest_side=max(options.coarsest_side, 2 * patch),
            local_radius=options.local_radius, seed=options.seed, shown=shown,
        )
        if out is not None:
            return out
    return None


def exemplar_fill(
    image: np.ndarray, hole: np.ndarray, *, source: np.ndarray | None = None, avoid: np.ndarray | None = None,
    options: ExemplarOptions = ExemplarOptions(), shown: np.ndarray | None = None,
) -> np.ndarray:
    """``image`` with its ``hole`` pixels synthesised from patches of the same image; others unchanged.

    ``image`` (H, W, 3) uint8; ``hole`` (H, W) bool. Patches come from ``source`` pixels (default:
    every pixel not in ``avoid``); hole pixels never serve. Without the compiled core, or with no
    usable source at all, OpenCV Telea fills the hole from the source pixels around it.
    ``shown`` (H, W) bool, when given, marks the hole pixels whose fill will be seen (not under an
    opaque new person): PatchMatch still solves the whole hole at its coarse levels, so those
    pixels come out as without it, but the full-size level votes only them and the other hole
    pixels may keep their colours.
    """
    out = image.copy()
    tight = mask_box(hole)
    if tight is None:
        return out
    h, w = hole.shape
    x0, y0, x1, y1 = tight
    regions = fill_regions(hole[y0:y1, x0:x1], (x0, y0), options.context, options.min_context, h, w)
    if len(regions) > 1 and all(_fill_in(out, image, hole, box, source, avoid, options, shown) for box in regions):
        return out
    whole = context_box(tight, options.context, options.min_context, h, w)  # one region, or a part no patch fits
    for box in (whole, (0, 0, w, h)):
        if _fill_in(out, image, hole, box, source, avoid, options, shown):
            return out
    x0, y0, x1, y1 = whole
    region = hole[y0:y1, x0:x1]
    unknown = ~source_in(source, avoid, region, whole)
    if unknown.all():
        out[y0:y1, x0:x1][region] = 128
        return out
    known = np.ascontiguousarray(image[y0:y1, x0:x1])
    out[y0:y1, x0:x1][region] = cv2.inpaint(known, unknown.astype(np.uint8), TELEA_RADIUS, cv2.INPAINT_TELEA)[region]
    return out


def _fill_in(out: np.ndarray, image: np.ndarray, hole: np.ndarray, box: tuple[int, int, int, int],
             source: np.ndarray | None, avoid: np.ndarray | None, options: ExemplarOptions,
             shown: np.ndarray | None) -> bool:
    """PatchMatch of the hole pixels in ``box`` from ``image``'s patches there, written to ``out``;
    False when no patch fits the source (True too when none of them is ``shown``)."""
    x0, y0, x1, y1 = box
    region = np.ascontiguousarray(hole[y0:y1, x0:x1])
    seen = None if shown is None else np.ascontiguousarray(shown[y0:y1, x0:x1])
    if seen is not None and not (region & seen).any():
        return True  # nothing of the hole here in sight
    allowed = source_in(source, avoid, region, box)
    work = region
    if avoid is not None:
        work = matched_as_hole(region, avoid[y0:y1, x0:x1], patch_reach(y1 - y0, x1 - x0, options))
    filled = _patchmatch(np.ascontiguousarray(image[y0:y1, x0:x1]), work, allowed, options, seen)
    if filled is None:
        return False
    copy_masked(out[y0:y1, x0:x1], filled, region)
    return True


def patch_reach(height: int, width: int, options: ExemplarOptions) -> int:
    """How far, in full-size pixels, the patches that vote on a hole pixel read beyond the hole at
    the finest level PatchMatch searches for a region of that size: a voting patch is centred up
    to a patch radius away and reads a radius further, at that level's scale (half size when the
    full-size level only votes, as by default)."""
    patch = PATCH_SIZES[0]
    core = _ext.compiled()
    levels = core.fill_levels(height, width, patch, max(options.coarsest_side, 2 * patch)) if core is not None else 1
    scale = 2 if levels > 1 and options.finest_iterations == 0 else 1
    return 2 * (patch // 2) * scale


def matched_as_hole(region: Any, avoid: Any, reach: int, arrays: type = HostArrays) -> Any:
    """The hole PatchMatch solves: ``region`` and the ``avoid`` pixels (other instances) within
    ``reach`` of it (a square). Treated as known, an instance's colours in the patches on the hole
    pull the background fill towards what resembles them (a grey halo of stairs around a person on
    a yellow wall); as hole they are matched as background, and only ``region`` is written back.
    NumPy arrays, or torch tensors with ``arrays`` = ``backends.device_memory.TensorArrays``."""
    if not avoid.any():
        return region
    return region | (arrays.grown(region, reach) & avoid)


def source_in(source: Any, avoid: Any, region: Any, box: tuple[int, int, int, int]) -> Any:
    """The pixels of ``box`` patches may come from: ``source`` (or not ``avoid``), never the hole
    (NumPy arrays or torch tensors alike)."""
    x0, y0, x1, y1 = box
    allowed = ~region
    if source is not None:
        allowed &= source[y0:y1, x0:x1]
    if avoid is not None:
        allowed &= ~avoid[y0:y1, x0:x1]
    return allowed


def patchmatch_cuda(
    image: np.ndarray, hole: np.ndarray, source: np.ndarray, options: ExemplarOptions = ExemplarOptions(),
    patch_size: int = PATCH_SIZES[0], device: int = 0, shown: np.ndarray | None = None,
) -> np.ndarray | None:
    """The compiled core's CUDA PatchMatch on host arrays (copied to ``device`` and back): the
    same pixels as the CPU kernel (``_C.patchmatch_fill``), or None when no patch fits the source.
    RuntimeError when no CUDA kernels or GPU are usable."""
    core = _ext.require_cuda()
    h, w = hole.shape
    planes = [image, hole, source] + ([] if shown is None else [shown])
    buffers = []
    for array in planes:
        buffer = core.DeviceBuffer(list(array.shape), "|u1", device)
        buffer.copy_from(np.ascontiguousarray(array, dtype=np.uint8))
        buffers.append(buffer)
    filled = core.cuda_patchmatch_fill(
        buffers[0].ptr, buffers[1].ptr, buffers[2].ptr, h, w, patch_size=patch_size, iterations=options.iterations,
        finest_iterations=options.finest_iterations, coarsest_side=max(options.coarsest_side, 2 * patch_size),
        local_radius=options.local_radius, seed=options.seed, device=device,
        shown=0 if shown is None else buffers[3].ptr,
    )
    return buffers[0].to_numpy() if filled else None
