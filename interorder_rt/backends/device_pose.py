"""The pose stage of the device path: the moved mesh rasterized on the frame's device.

A pose transfer with a ``raster_job`` (``pose.mesh_warp.MeshWarp``) plans on the host what is
small (the moved mesh: a few thousand vertices, its box, the view); its texture planes go to the
device once per source person and the rasterizer (``backends.device_kernels``) fills the person's
box there. Any other ``PoseTransfer`` runs as it is, on the host, and its output is uploaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from interorder_rt.backends import device_kernels
from interorder_rt.compose.painter import Layer
from interorder_rt.pose.output import alpha_of
from interorder_rt.pose.protocol import PoseTransfer, SourcePerson

_DTYPES = (np.uint8, np.float32, np.float32, np.int32, np.int32, np.float32, np.uint8)  # a RasterJob's arrays


class DevicePose:
    """``pose`` with its output as a :class:`Layer` of tensors on ``device`` (rgb, mask, alpha, box)."""

    def __init__(self, pose: PoseTransfer, device: torch.device) -> None:
        self.pose = pose
        self.device = device
        self._texture: tuple[np.ndarray, torch.Tensor] | None = None  # the last source's planes, uploaded

    def __call__(self, source: SourcePerson, keypoints: np.ndarray, size: tuple[int, int]) -> Layer:
        if not hasattr(self.pose, "raster_job"):
            return self._uploaded(self.pose(source, keypoints, size))
        job, _ = self.pose.raster_job(source, keypoints, size)
        height, width = size
        rgb = torch.zeros((height, width, 3), dtype=torch.uint8, device=self.device)
        alpha = torch.zeros((height, width), dtype=torch.uint8, device=self.device)
        if job is None:
            return Layer(rgb, alpha > 0, alpha, (0, 0, 0, 0))
        texture, *mesh = (np.ascontiguousarray(a, dtype) for a, dtype in zip(job.arrays, _DTYPES))
        x0, y0, x1, y1 = job.box
        box_rgb, box_alpha = device_kernels.rasterize(
            self._device_texture(texture), *(torch.from_numpy(a).to(self.device) for a in mesh), y1 - y0, x1 - x0
        )
        rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1] = box_rgb, box_alpha
        return Layer(rgb, alpha > 0, alpha, job.box)

    def _device_texture(self, texture: np.ndarray) -> torch.Tensor:
        """The texture planes on the device, uploaded again only when the source person changes."""
        if self._texture is None or self._texture[0] is not texture:
            self._texture = (texture, torch.from_numpy(texture).to(self.device))
        return self._texture[1]

    def _uploaded(self, out: Any) -> Layer:
        rgb, mask = out[0], out[1]
        alpha = alpha_of(out)
        return Layer(torch.from_numpy(np.ascontiguousarray(rgb, np.uint8)).to(self.device),
                     torch.from_numpy(np.ascontiguousarray(mask, bool)).to(self.device),
                     None if alpha is None else torch.from_numpy(np.ascontiguousarray(alpha, np.uint8)).to(self.device))
