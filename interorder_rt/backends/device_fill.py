"""The exemplar fill of the device path: ``compose.exemplar.exemplar_fill`` on tensors.

The same regions and patch sizes as the host fill: each part's region (``compose.exemplar.fill_regions``,
worked out from the hole's box read on the host), else the hole's box with its context band,
then the whole frame, with patches of 7, 5 and 3 pixels in turn, PatchMatch
(``backends.device_kernels``) run on the region where it lies, and the filled hole pixels
written back there. Only where no patch at all lies in the source does the region go to the
host, for OpenCV Telea (the host fill's last resort too).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from interorder_rt.backends import device_kernels
from interorder_rt.compose.boxes import Box, plane_box
from interorder_rt.backends.device_memory import TensorArrays
from interorder_rt.compose.exemplar import (
    PATCH_SIZES, TELEA_RADIUS, ExemplarOptions, context_box, fill_regions, matched_as_hole, patch_reach, source_in,
)


def exemplar_fill_tensor(
    image: torch.Tensor, hole: torch.Tensor, *, source: torch.Tensor | None = None, avoid: torch.Tensor | None = None,
    options: ExemplarOptions = ExemplarOptions(), shown: torch.Tensor | None = None,
) -> torch.Tensor:
    """``image`` (H, W, 3) uint8 with its ``hole`` (H, W) bool filled from patches of ``source``
    pixels (default: those not in ``avoid``), on the image's device; other pixels unchanged.
    ``shown``: the hole pixels whose fill is seen, as for the host fill."""
    out = image.clone()
    tight = plane_box(hole)
    if tight is None:
        return out
    h, w = hole.shape
    x0, y0, x1, y1 = tight
    parts = hole[y0:y1, x0:x1].cpu().numpy()  # the hole's box only goes to the host
    regions = fill_regions(parts, (x0, y0), options.context, options.min_context, h, w)
    if len(regions) > 1 and all(_fill_in(out, image, hole, box, source, avoid, options, shown) for box in regions):
        return out
    whole = context_box(tight, options.context, options.min_context, h, w)
    for box in (whole, (0, 0, w, h)):
        if _fill_in(out, image, hole, box, source, avoid, options, shown):
            return out
    return _telea_on_host(out, hole, source, avoid, whole)


def _fill_in(out: torch.Tensor, image: torch.Tensor, hole: torch.Tensor, box: Box, source: torch.Tensor | None,
             avoid: torch.Tensor | None, options: ExemplarOptions, shown: torch.Tensor | None) -> bool:
    """PatchMatch of the hole pixels in ``box`` on the device, written to ``out``; False when no
    patch fits the source (True too when none of them is ``shown``), as the host fill's ``_fill_in``."""
    x0, y0, x1, y1 = box
    region = hole[y0:y1, x0:x1].contiguous()
    seen = None if shown is None else shown[y0:y1, x0:x1].contiguous()
    if seen is not None and not bool((region & seen).any()):
        return True  # nothing of the hole here in sight
    allowed = source_in(source, avoid, region, box).contiguous()
    work = region
    if avoid is not None:
        reach = patch_reach(y1 - y0, x1 - x0, options)
        work = matched_as_hole(region, avoid[y0:y1, x0:x1], reach, TensorArrays).contiguous()
    patch = image[y0:y1, x0:x1].contiguous().clone()
    for size in PATCH_SIZES:
        if device_kernels.patchmatch_fill(
            patch, work, allowed, patch_size=size, iterations=options.iterations,
            finest_iterations=options.finest_iterations, coarsest_side=max(options.coarsest_side, 2 * size),
            local_radius=options.local_radius, seed=options.seed, shown=seen,
        ):
            out[y0:y1, x0:x1] = torch.where(region[..., None], patch, out[y0:y1, x0:x1])
            return True
    return False


def _telea_on_host(out: torch.Tensor, hole: torch.Tensor, source: torch.Tensor | None, avoid: torch.Tensor | None,
                   box: Box) -> torch.Tensor:
    """No patch fits the source anywhere: OpenCV Telea on the padded box, as the host fill does
    (the box goes to the host and back, never the frame)."""
    x0, y0, x1, y1 = box
    region = hole[y0:y1, x0:x1]
    unknown = ~source_in(source, avoid, region, box)
    if bool(unknown.all()):
        out[y0:y1, x0:x1][region] = 128
        return out
    known = out[y0:y1, x0:x1].cpu().numpy()
    filled = cv2.inpaint(known, unknown.cpu().numpy().astype(np.uint8), TELEA_RADIUS, cv2.INPAINT_TELEA)
    out[y0:y1, x0:x1] = torch.where(region[..., None], torch.from_numpy(filled).to(out.device), out[y0:y1, x0:x1])
    return out
