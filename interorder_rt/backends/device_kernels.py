"""The compiled core's per-pixel kernels on torch tensors, wherever the tensors live.

On CUDA tensors the CUDA twins run on the tensors' memory (``_C.cuda_*``, device pointers) and on
torch's current stream, so nothing is copied and no call waits for the GPU. On CPU tensors the
CPU kernels run on the tensors' NumPy views. The device path of the Engine
(``backends.device_engine``) calls these only, so its array plumbing runs and is tested on the
CPU with the same kernels' CPU twins, which match the CUDA ones byte for byte
(``tests/test_ops_cuda.py``). Telea alone has no CUDA twin (:func:`telea_inpaint`).
"""

from __future__ import annotations

from typing import Sequence

import torch

from interorder_rt import _ext
from interorder_rt.completion import inpaint
from interorder_rt.compose import outline

Box = tuple[int, int, int, int]


def _cuda(tensor: torch.Tensor) -> bool:
    return tensor.device.type == "cuda"


def _ptr(tensor: torch.Tensor | None) -> int:
    """The device address of a contiguous tensor (0 for None)."""
    if tensor is None:
        return 0
    if not tensor.is_contiguous():
        raise ValueError(f"a kernel argument of shape {tuple(tensor.shape)} must be contiguous")
    return tensor.data_ptr()


def _stream(tensor: torch.Tensor) -> tuple[int, int]:
    """(device index, torch's current stream on it) for a CUDA kernel call."""
    return tensor.device.index, torch.cuda.current_stream(tensor.device).cuda_stream


def rasterize(
    texture: torch.Tensor, target: torch.Tensor, source: torch.Tensor, triangles: torch.Tensor, planes: torch.Tensor,
    depth: torch.Tensor, internal: torch.Tensor, height: int, width: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(rgb (h, w, 3) uint8, alpha (h, w) uint8) of the textured mesh (``pose.raster.rasterize``),
    on the texture's device. Mesh arrays: float32 / int32 / uint8 as ``_C.rasterize`` takes them."""
    if not _cuda(texture):
        core = _ext.compiled()
        if core is None:
            raise RuntimeError("the device pose path needs the compiled core (interorder_rt._C is not built)")
        arrays = [t.numpy() for t in (texture, target, source, triangles, planes, depth, internal)]
        rgb, alpha, _, _ = core.rasterize(*arrays[:6], arrays[6], int(height), int(width))
        return torch.from_numpy(rgb), torch.from_numpy(alpha)
    core = _ext.require_cuda()
    device = texture.device
    rgb = torch.empty((height, width, 3), dtype=torch.uint8, device=device)
    alpha = torch.empty((height, width), dtype=torch.uint8, device=device)
    owner = torch.empty((height, width), dtype=torch.int32, device=device)
    source_xy = torch.empty((height, width, 2), dtype=torch.float32, device=device)
    core.cuda_rasterize(
        _ptr(texture), list(texture.shape[:3]), _ptr(target), _ptr(source), int(target.shape[0]), _ptr(triangles),
        _ptr(planes), _ptr(depth), _ptr(internal), int(triangles.shape[0]), int(height), int(width), _ptr(rgb),
        _ptr(alpha), _ptr(owner), _ptr(source_xy), *_stream(texture),
    )
    return rgb, alpha


def paint_layers(
    canvas: torch.Tensor, owner: torch.Tensor, rgbs: Sequence[torch.Tensor], masks: Sequence[torch.Tensor],
    alphas: Sequence[torch.Tensor | None], boxes: Sequence[Box],
) -> None:
    """Paint layers back to front onto ``canvas`` (H, W, 3) uint8 in place, each within its box;
    ``owner`` (H, W) int32 gets the layer index of every pixel painted (``_C.paint_layers``)."""
    if not _cuda(canvas):
        core = _ext.compiled()
        if core is None:
            raise RuntimeError("the device compositing path needs the compiled core (interorder_rt._C is not built)")
        core.paint_layers(canvas.numpy(), owner.numpy(), [r.numpy() for r in rgbs], [m.numpy() for m in masks],
                          [None if a is None else a.numpy() for a in alphas], [tuple(b) for b in boxes])
        return
    core = _ext.require_cuda()
    h, w = canvas.shape[:2]
    core.cuda_paint_layers(_ptr(canvas), _ptr(owner), int(h), int(w), [_ptr(r) for r in rgbs],
                           [_ptr(m) for m in masks], [_ptr(a) for a in alphas], [list(b) for b in boxes],
                           *_stream(canvas))


def patchmatch_fill(rgb: torch.Tensor, hole: torch.Tensor, source: torch.Tensor, *, patch_size: int, iterations: int,
                    finest_iterations: int, coarsest_side: int, local_radius: int, seed: int,
                    shown: torch.Tensor | None = None) -> bool:
    """PatchMatch fill of ``rgb`` (h, w, 3) uint8 in place from bool ``hole`` / ``source`` planes
    and the optional ``shown`` one (``_C.patchmatch_fill``); False, ``rgb`` unchanged, when no
    patch lies wholly in the source."""
    options = dict(patch_size=patch_size, iterations=iterations, finest_iterations=finest_iterations,
                   coarsest_side=coarsest_side, local_radius=local_radius, seed=seed)
    if not _cuda(rgb):
        core = _ext.compiled()
        if core is None:
            return False
        filled = core.patchmatch_fill(rgb.numpy(), hole.numpy(), source.numpy(), **options,
                                      shown=None if shown is None else shown.numpy())
        if filled is None:
            return False
        rgb.copy_(torch.from_numpy(filled))
        return True
    core = _ext.require_cuda()
    h, w = hole.shape
    device, stream = _stream(rgb)
    return bool(core.cuda_patchmatch_fill(_ptr(rgb), _ptr(hole), _ptr(source), int(h), int(w), **options,
                                          device=device, stream=stream, shown=0 if shown is None else _ptr(shown)))


def telea_inpaint(rgb: torch.Tensor, unknown: torch.Tensor) -> torch.Tensor:
    """``completion.inpaint`` (OpenCV's Telea, radius 3) of an (h, w, 3) uint8 crop's ``unknown``
    pixels, returned on the crop's device. It runs on the host: Telea's march takes pixels one by
    one from a heap, which a GPU runs on one thread (71 ms a call on an H200, 99 % of a moving
    stream's GPU time, when it had a CUDA twin); a crop's round trip costs far less."""
    filled = inpaint(rgb.cpu().numpy(), unknown.cpu().numpy())
    return torch.from_numpy(filled).to(rgb.device)


def foreign_outline(image: torch.Tensor, region: torch.Tensor, background: torch.Tensor, reach: int) -> torch.Tensor:
    """``compose.outline.foreign_outline`` of an (h, w, 3) uint8 window and its (h, w) bool masks,
    on the image's device: the compiled core's CPU or CUDA twin (the same pixels)."""
    if not _cuda(image):
        return torch.from_numpy(outline.foreign_outline(image.numpy(), region.numpy(), background.numpy(), reach))
    core = _ext.require_cuda()
    h, w = region.shape
    out = torch.empty((h, w), dtype=torch.bool, device=image.device)
    image, region, background = (plane.contiguous() for plane in (image, region, background))
    core.cuda_foreign_outline(_ptr(image), _ptr(region), _ptr(background), _ptr(out), int(h), int(w),
                              max(int(reach), 0), outline.SNAP_SIGMAS, outline.SNAP_LEVELS, *_stream(image))
    return out
