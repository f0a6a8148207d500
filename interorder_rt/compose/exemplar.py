"""Exemplar fill: a region of a frame re-synthesised from patches of the same frame.

The compiled core's PatchMatch (``csrc/core/patchmatch.cpp``: Barnes et al. 2009 nearest-neighbour
fields over an image pyramid, 7 x 7 patches, each hole pixel voted from the patches covering it)
runs on the region of interest only: the hole's box plus a band of context, so its cost follows
the hole, not the frame. Patches are copied only from ``source`` pixels: outside the hole and
outside removed people for a freed background, an instance's own visible pixels for its revealed
part. Where no whole patch fits in the source (a thin instance, a hole filling its box) the patch
shrinks, the box widens to the frame, and OpenCV Telea is the last resort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from interorder_rt import _ext
from interorder_rt.compose.painter import copy_masked

PATCH_SIZES = (7, 5, 3)  # tried in turn until some patch lies wholly in the source
TELEA_RADIUS = 3


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


def padded_box(mask: np.ndarray, context: float, min_context: int) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``: ``mask``'s tight box padded by ``context`` x its longer side, in the frame."""
    ys = np.flatnonzero(mask.any(axis=1))
    if ys.size == 0:
        raise ValueError("cannot place a fill region around an empty mask")
    xs = np.flatnonzero(mask[ys[0] : ys[-1] + 1].any(axis=0))
    return padded((int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1), context, min_context, *mask.shape)


def padded(box: tuple[int, int, int, int], context: float, min_context: int, height: int,
           width: int) -> tuple[int, int, int, int]:
    """``box`` padded by ``context`` x its longer side (at least ``min_context``), in a frame of that size."""
    x0, y0, x1, y1 = box
    pad = max(int(np.ceil(context * max(x1 - x0, y1 - y0))), min_context)
    return max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, width), min(y1 + pad, height)


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
    if not hole.any():
        return out
    h, w = hole.shape
    boxes = [padded_box(hole, options.context, options.min_context), (0, 0, w, h)]
    for x0, y0, x1, y1 in boxes:
        region = np.ascontiguousarray(hole[y0:y1, x0:x1])
        seen = None if shown is None else np.ascontiguousarray(shown[y0:y1, x0:x1])
        if seen is not None and not (region & seen).any():
            return out  # nothing of the hole in sight
        allowed = source_in(source, avoid, region, (x0, y0, x1, y1))
        filled = _patchmatch(np.ascontiguousarray(image[y0:y1, x0:x1]), region, allowed, options, seen)
        if filled is not None:
            copy_masked(out[y0:y1, x0:x1], filled, region)
            return out
    x0, y0, x1, y1 = boxes[0]
    region = hole[y0:y1, x0:x1]
    unknown = ~source_in(source, avoid, region, boxes[0])
    if unknown.all():
        out[y0:y1, x0:x1][region] = 128
        return out
    known = np.ascontiguousarray(image[y0:y1, x0:x1])
    out[y0:y1, x0:x1][region] = cv2.inpaint(known, unknown.astype(np.uint8), TELEA_RADIUS, cv2.INPAINT_TELEA)[region]
    return out


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
