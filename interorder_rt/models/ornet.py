"""ORNet: the order-recovery network of InterOrderNet (paper sec. 3.2).

A small U-shaped net over an instance-centred S x S crop. Input channels: the target's visible
(modal) mask, the mask of a possible occluder, and optionally the RGB crop with the occluder's
pixels blanked. Output: logits of the target's complete (amodal) mask. The encoder also carries
the projection head used by the contrastive stage of training (``embed``); inference never
calls it. The forward pass has no data-dependent Python control flow, so it traces and exports
(TorchScript, ONNX) as is.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from interorder_rt.models.checkpoint import load_checkpoint

CHECKPOINT_FORMAT = "interorder_rt.ornet/1"


@dataclass(frozen=True)
class ORNetConfig:
    """Architecture and crop protocol, stored with every exported checkpoint.

    The crop protocol (the crop the net was trained on, which inference must reproduce): each
    crop side is ``enlarge`` x the side of the target's visible box, the margin the completion
    can grow into; ``max_aspect`` bounds the crop's aspect ratio (1: a square on the longer side;
    larger lets a thin instance fill more of the crop across its width). The crop is resized to
    ``size`` x ``size``.
    """

    size: int = 64
    widths: tuple[int, ...] = (8, 16, 32, 64)
    rgb: bool = False
    embed_dim: int = 64
    enlarge: float = 1.25
    max_aspect: float = 4.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if len(self.widths) < 2 or min(self.widths) < 4:
            raise ValueError(f"widths needs >= 2 levels of >= 4 channels, got {self.widths}")
        if self.size % (2 ** len(self.widths)):
            raise ValueError(f"size {self.size} must be divisible by 2**levels = {2 ** len(self.widths)}")
        if not 1.0 <= self.enlarge < math.inf:  # also refuses NaN
            raise ValueError(f"enlarge must be a finite number >= 1, got {self.enlarge}")
        if not 1.0 <= self.max_aspect < math.inf:
            raise ValueError(f"max_aspect must be a finite number >= 1, got {self.max_aspect}")

    @property
    def in_channels(self) -> int:
        return 5 if self.rgb else 2

    def to_dict(self) -> dict:
        out = asdict(self)
        out["widths"] = list(self.widths)
        return out


class ConvBlock(nn.Sequential):
    """Two 3x3 conv + batch-norm + ReLU layers; the first one may stride."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class ORNetEncoder(nn.Module):
    """E_q / E_k: features at 1/2, 1/4, ... of the crop, plus a unit embedding for contrast."""

    def __init__(self, config: ORNetConfig) -> None:
        super().__init__()
        widths = config.widths
        self.stages = nn.ModuleList(
            ConvBlock(cin, cout, stride=2) for cin, cout in zip((config.in_channels, *widths[:-1]), widths)
        )
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(widths[-1], widths[-1]),
            nn.ReLU(inplace=True),
            nn.Linear(widths[-1], config.embed_dim),
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalised projection of the deepest features, centred over the batch, (B, embed_dim).

        Centring removes what the whole batch shares: with a fast momentum encoder (m = 0.9) the
        contrastive loss otherwise learns to tell the current keys from the queue's older ones
        by a common drift, instead of telling targets apart.
        """
        projection = self.head(self.forward(x)[-1])
        return F.normalize(projection - projection.mean(dim=0, keepdim=True), dim=1)


class ORNetDecoder(nn.Module):
    """G_1: upsamples the deepest features, merging each encoder level, to full-size logits."""

    def __init__(self, config: ORNetConfig) -> None:
        super().__init__()
        widths = config.widths
        self.blocks = nn.ModuleList(
            ConvBlock(widths[k + 1] + widths[k], widths[k]) for k in reversed(range(len(widths) - 1))
        )
        self.out = nn.Conv2d(widths[0], 1, 1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = features[-1]
        for block, skip in zip(self.blocks, reversed(features[:-1])):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skip], dim=1))
        x = F.interpolate(self.out(x), scale_factor=2.0, mode="bilinear", align_corners=False)
        return x[:, 0]


class ORNet(nn.Module):
    """(B, C, S, S) float crops -> (B, S, S) amodal-mask logits of the target."""

    def __init__(self, config: ORNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or ORNetConfig()
        self.encoder = ORNetEncoder(self.config)
        self.decoder = ORNetDecoder(self.config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def _as_tensor(array: np.ndarray | torch.Tensor) -> torch.Tensor:
    return array if isinstance(array, torch.Tensor) else torch.as_tensor(np.ascontiguousarray(array))


def build_input(target: np.ndarray | torch.Tensor, occluder: np.ndarray | torch.Tensor,
                rgb: np.ndarray | torch.Tensor | None = None) -> torch.Tensor:
    """The net's input, (B, C, S, S) float32, from (B, S, S) target / occluder crops.

    Channel order: target mask, occluder mask, then (with ``rgb``, (B, S, S, 3) uint8) the RGB
    crop scaled to [0, 1] with the occluder's pixels blanked. Training and inference both build
    their input here, so the layout has one definition. Crops may be NumPy arrays or tensors; the
    input is made on the target's device.
    """
    target = _as_tensor(target).float()
    occluder = _as_tensor(occluder).to(target.device).float()
    if target.ndim != 3 or target.shape != occluder.shape:
        raise ValueError(f"target and occluder crops must be same-shape (B, S, S), got {tuple(target.shape)}, {tuple(occluder.shape)}")
    channels = [target[:, None], occluder[:, None]]
    if rgb is not None:
        if rgb.shape != (*target.shape, 3):
            raise ValueError(f"rgb crops must be {(*target.shape, 3)}, got {rgb.shape}")
        colour = _as_tensor(rgb).to(target.device).permute(0, 3, 1, 2).float() / 255.0
        channels.append(colour * (1.0 - occluder[:, None]))
    return torch.cat(channels, dim=1)


def fuse_batchnorm(model: ORNet) -> ORNet:
    """An eval-mode copy of ``model`` with every batch norm folded into the convolution before it.

    Same outputs up to float rounding, fewer layers to run: the form inference uses.
    """
    fused = copy.deepcopy(model).eval()
    for module in fused.modules():
        if isinstance(module, ConvBlock):
            for k in range(len(module) - 1):
                if isinstance(module[k], nn.Conv2d) and isinstance(module[k + 1], nn.BatchNorm2d):
                    module[k] = fuse_conv_bn_eval(module[k], module[k + 1])
                    module[k + 1] = nn.Identity()
    return fused


def export_checkpoint(model: ORNet) -> dict:
    """The small inference checkpoint: format tag, config and state dict (no training state)."""
    return {"format": CHECKPOINT_FORMAT, "config": model.config.to_dict(), "state_dict": model.state_dict()}


def load_ornet(path: str | Path, map_location: str | torch.device = "cpu") -> ORNet:
    """Rebuild an ORNet (eval mode) from an exported checkpoint.

    Raises FileNotFoundError naming ``path`` when it does not exist, ValueError when the file is
    not a readable ORNet checkpoint.
    """
    return load_checkpoint(path, "ORNet", CHECKPOINT_FORMAT, lambda config: ORNet(ORNetConfig(**config)), map_location)
