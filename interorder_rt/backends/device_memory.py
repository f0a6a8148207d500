"""A stream's memories on the device path: ``compose.BackgroundMemory``, ``InstanceMemory`` and
``RepeatCache`` with their state held as torch tensors on the Engine's device.

The memories' logic (what is recorded, recalled, reused, when a shot is cut, how long an instance
is kept) is the host classes' own: they take their array steps from an ``arrays`` namespace, and
:class:`TensorArrays` is the tensor twin of ``compose.instance_memory.HostArrays``. What stays here
is what cannot be shared: allocating on the device, the homography memory's resampling, and the
few reads that go to the host.

What crosses to the host is small: boxes and pixel counts; the samples the cut and stillness
tests read (about ``CUT_SAMPLES`` pixels a frame, ``SAMPLES`` an instance); and, for
``align="homography"``, a grey copy of each frame and its background mask, for OpenCV's ORB
features and RANSAC (host code) to estimate the homography. By default the frame is matched at
full size, as the host memory matches it: the same homography to the bit. ``match_side`` bounds
the copy instead: a frame larger than that is matched on a copy shrunk by an integer factor (a
block average; a block counts as background only where all its pixels are), its keypoints
refined to a fraction of a pixel there (``cv2.cornerSubPix``: without it the shrinking would
cost the homography a pixel or two) and scaled back to the frame. On a textured frame that is
as close to the true motion (``tests/test_device_memory.py`` measures it); on a flat one too few
features survive: the benchmark's panning scene at 720p gives 50 to 60 of them at half size
(about 170 at full size), RANSAC then keeps fewer than ``MIN_INLIERS``, and the memory is cut
in most frames.

The canvas is resampled on the device as ``cv2.warpPerspective`` does it in OpenCV 5 (installed
here): the map in float32, fused multiply-adds along each row, bilinear weights in float32, round
half to even; the tests find it equal to OpenCV bit for bit. An OpenCV that interpolates in fixed
point (1/32 pixel, as older releases did) would differ from it by a few grey levels where the
image changes sharply (not measured here).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from interorder_rt.compose.background_memory import BackgroundMemory, Features, cut_samples, orb_features, shot_changed
from interorder_rt.compose.boxes import Box, plane_box
from interorder_rt.compose.repeat_cache import RepeatCache

MATCH_SIDE = 640  # a bound for the grey copy a homography is estimated on, when one is asked (pixels)
SUBPIXEL_WINDOW = (5, 5)  # half-size of cv2.cornerSubPix's window on a shrunk copy (11 x 11 pixels)
SUBPIXEL_STOP = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 20, 0.01)


class TensorArrays:
    """``compose.instance_memory.HostArrays`` on torch tensors: the same steps, where the tensors are."""

    box = staticmethod(plane_box)
    copy = staticmethod(torch.clone)
    zeros_like = staticmethod(torch.zeros_like)

    @staticmethod
    def copy_masked(dst: torch.Tensor, src: torch.Tensor, mask: torch.Tensor) -> None:
        """``dst[mask] = src[mask]`` in place for (h, w, 3) images (views allowed)."""
        dst.copy_(torch.where(mask[..., None], src, dst))

    @staticmethod
    def mask_like(image: torch.Tensor) -> torch.Tensor:
        """An all-False (H, W) mask the size of an (H, W, 3) image, on its device."""
        return torch.zeros(image.shape[:2], dtype=torch.bool, device=image.device)

    @staticmethod
    def grown(mask: torch.Tensor, radius: int) -> torch.Tensor:
        """``mask`` grown by ``radius`` pixels (a square)."""
        return F.max_pool2d(mask[None, None].float(), 2 * radius + 1, stride=1, padding=radius)[0, 0] > 0

    @staticmethod
    def eroded(mask: torch.Tensor) -> torch.Tensor:
        """``cv2.erode`` of an (H, W) bool mask by a 3 x 3 square (outside the mask counts as set)."""
        return F.max_pool2d((~mask)[None, None].float(), 3, stride=1, padding=1)[0, 0] == 0

    @staticmethod
    def counts(*masks: torch.Tensor) -> list[int]:
        """The set pixels of each mask, read back at once."""
        return [int(c) for c in torch.stack([m.sum() for m in masks]).tolist()]

    @staticmethod
    def to_host(*tensors: torch.Tensor) -> tuple[np.ndarray, ...]:
        """The (small) tensors as NumPy arrays, in one copy to the host."""
        flat = torch.cat([t.contiguous().reshape(-1).view(torch.uint8) for t in tensors]).cpu().numpy()
        out, start = [], 0
        for t in tensors:
            size = t.numel() * t.element_size()
            out.append(flat[start : start + size].view(str(t.dtype).removeprefix("torch.")).reshape(t.shape))
            start += size
        return tuple(out)

    @staticmethod
    def read_only(tensor: torch.Tensor) -> torch.Tensor:
        """The tensor itself: torch has no read-only tensors, and the device path only reads what
        a memory hands out."""
        return tensor


class DeviceBackgroundMemory(BackgroundMemory):
    """``compose.BackgroundMemory`` (and its ``InstanceMemory``) with the canvas, the seen mask and
    the kept fills as tensors on ``device``; ``match_side`` (None: the frame's size) bounds the
    grey copy a homography is estimated on (module docstring)."""

    arrays = TensorArrays

    def __init__(self, align: str = "static", device: torch.device | str = "cpu", *,
                 match_side: int | None = None) -> None:
        if match_side is not None and match_side < 64:
            raise ValueError(f"match_side must be at least 64 pixels, got {match_side}")
        self.device = torch.device(device)
        self.match_side = None if match_side is None else int(match_side)
        super().__init__(align)

    def _blank(self, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """An empty canvas and seen mask on the device."""
        return (torch.zeros((*shape, 3), dtype=torch.uint8, device=self.device),
                torch.zeros(shape, dtype=torch.bool, device=self.device))

    def _warped(self, src: torch.Tensor, to_src: np.ndarray, box: Box, nearest: bool = False) -> torch.Tensor:
        """The host's resampling over a destination box, on the device."""
        return warp_nearest(src, to_src, box) if nearest else warp_linear(src, to_src, box)

    def _features(self, image: torch.Tensor, background: torch.Tensor) -> Features:
        """ORB features of the frame's background, found on the host in a grey copy of the frame,
        or at most ``match_side`` pixels on its longer side, in frame pixels (module docstring)."""
        h, w = background.shape
        factor = 1 if self.match_side is None else max(1, math.ceil(max(h, w) / self.match_side))
        if factor == 1:
            return orb_features(*self.arrays.to_host(grey(image), background))
        gray = F.avg_pool2d(grey(image)[None, None].float(), factor)[0, 0].round().to(torch.uint8)
        mask = F.max_pool2d((~background)[None, None].float(), factor)[0, 0] == 0  # blocks all background
        gray, mask = self.arrays.to_host(gray, mask)
        points, descriptors = orb_features(gray, mask)
        if len(points):  # to a fraction of a pixel of the copy: the shrinking costs no accuracy
            points = cv2.cornerSubPix(gray, points[:, None].copy(), SUBPIXEL_WINDOW, (-1, -1), SUBPIXEL_STOP)[:, 0]
        return points * factor + (factor - 1) / 2, descriptors

    def _disagrees(self, image: torch.Tensor, background: torch.Tensor) -> bool:
        """The host's cut test on the same samples, gathered on the device and read back together."""
        ys, xs, cy, cx, inside = cut_samples(tuple(background.shape), self._to_canvas, tuple(self.seen.shape))
        ch, cw = self.seen.shape
        ys, xs, cy, cx = (torch.from_numpy(i).to(self.device) for i in (ys, xs, cy.clip(0, ch - 1), cx.clip(0, cw - 1)))
        known = background[ys, xs] & self.seen[cy, cx]
        now, before, known = self.arrays.to_host(image[ys, xs], self.canvas[cy, cx], known)
        ok = inside & known  # in the canvas, background now and seen before
        return shot_changed(now[ok], before[ok])


class DeviceRepeatCache(RepeatCache):
    """``compose.RepeatCache`` of tensors: inputs compared where they are (``torch.equal``, one
    bool back) and kept as copies there. Results are handed out as they are (torch has no
    read-only tensors): the device path only reads them."""

    @staticmethod
    def _same(x: torch.Tensor, y: torch.Tensor) -> bool:
        """Element-for-element equality on the tensors' device."""
        return x.shape == y.shape and x.dtype == y.dtype and x.device == y.device and torch.equal(x, y)

    _kept = staticmethod(torch.clone)

    @staticmethod
    def _frozen(result: Any) -> Any:
        """The result as it is (class docstring)."""
        return result


def grey(image: torch.Tensor) -> torch.Tensor:
    """``cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)`` of an (H, W, 3) uint8 tensor, bit for bit:
    OpenCV's 15-bit fixed-point weights, rounded."""
    rgb = image.to(torch.int32)
    return ((rgb[..., 0] * 9798 + rgb[..., 1] * 19235 + rgb[..., 2] * 3735 + (1 << 14)) >> 15).to(torch.uint8)


def warp_linear(src: torch.Tensor, to_src: np.ndarray, box: Box) -> torch.Tensor:
    """``cv2.warpPerspective(src, to_src, ..., INTER_LINEAR | WARP_INVERSE_MAP)`` (border 0) of an
    (H, W, 3) uint8 tensor, over the destination ``box``: its (h, w, 3) pixels."""
    sx, sy = _source_points(to_src, box, src.shape, src.device)
    ix, iy = sx.floor(), sy.floor()
    ax, ay = (sx - ix)[..., None], (sy - iy)[..., None]
    ix, iy = ix.long(), iy.long()
    f00, f01, f10, f11 = (_pixels(src, iy + dy, ix + dx).float() for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)))
    top, bottom = _fma(ax, f01 - f00, f00), _fma(ax, f11 - f10, f10)
    return _fma(ay, bottom - top, top).round().clamp(0, 255).to(torch.uint8)


def warp_nearest(src: torch.Tensor, to_src: np.ndarray, box: Box) -> torch.Tensor:
    """``cv2.warpPerspective(src, to_src, ..., INTER_NEAREST | WARP_INVERSE_MAP)`` (border 0) of an
    (H, W) tensor, over the destination ``box``."""
    sx, sy = _source_points(to_src, box, src.shape, src.device)
    return _pixels(src, sy.round().long(), sx.round().long())


def _source_points(to_src: np.ndarray, box: Box, shape: torch.Size,
                   device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each pixel of the destination ``box`` samples the source, as OpenCV computes it: the
    map in float32, each row's terms, then a fused multiply-add along the row and a division.
    Points far outside the (H, W) source are clamped to 2 pixels outside it (they sample nothing)."""
    m = torch.from_numpy(np.asarray(to_src, np.float32)).to(device)
    x0, y0, x1, y1 = box
    xs = torch.arange(x0, x1, dtype=torch.float32, device=device)[None, :]
    ys = torch.arange(y0, y1, dtype=torch.float32, device=device)[:, None]
    sx, sy, sw = (_fma(m[k, 0], xs, ys * m[k, 1] + m[k, 2]) for k in range(3))
    h, w = shape[:2]
    return ((sx / sw).nan_to_num(-2.0).clamp(-2.0, w + 1.0), (sy / sw).nan_to_num(-2.0).clamp(-2.0, h + 1.0))


def _fma(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``a * b + c`` of float32 tensors as a fused multiply-add rounds it: the product exact in
    float64, the sum rounded to float32 (through float64 first, which matters only on exact ties)."""
    return (a.double() * b.double() + c.double()).float()


def _pixels(src: torch.Tensor, iy: torch.Tensor, ix: torch.Tensor) -> torch.Tensor:
    """``src`` at rows ``iy`` and columns ``ix``, zero outside it."""
    h, w = src.shape[:2]
    inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    index = (iy.clamp(0, h - 1) * w + ix.clamp(0, w - 1)).reshape(-1)
    values = src.reshape(h * w, -1).index_select(0, index) * inside.reshape(-1, 1)
    return values.reshape(*iy.shape, *src.shape[2:])
