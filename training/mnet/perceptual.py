"""Perceptual loss on a small VGG-like feature net whose weights the user supplies.

No ImageNet VGG weights can be downloaded here, so the term exists only when a weights file is
given (a state dict of :class:`FeatureNet`); without one training leaves it out and says so.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# Per-channel statistics the feature net expects its [0, 1] RGB input to be normalised with.
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)


class FeatureNet(nn.Module):
    """VGG-style stack: three stages of two 3x3 conv + ReLU, max-pooled between stages."""

    def __init__(self, widths: tuple[int, int, int] = (32, 64, 128)) -> None:
        super().__init__()
        stages, cin = [], 3
        for cout in widths:
            stages.append(nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True),
            ))
            cin = cout
        self.stages = nn.ModuleList(stages)
        self.register_buffer("mean", torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGE_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        """Features after each stage for a (B, 3, S, S) RGB batch in [0, 1]."""
        x, out = (rgb - self.mean) / self.std, []
        for k, stage in enumerate(self.stages):
            if k:
                x = F.max_pool2d(x, 2)
            x = stage(x)
            out.append(x)
        return out


def load_feature_net(path: str | Path) -> FeatureNet:
    """A frozen :class:`FeatureNet` from a state-dict file; clear errors when it does not fit."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"perceptual feature-net weights not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for a damaged file
        raise ValueError(f"cannot read perceptual feature-net weights {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise ValueError(f"{path} must hold a FeatureNet state dict, got {type(state).__name__}")
    widths = tuple(state[f"stages.{k}.0.weight"].shape[0] for k in range(3) if f"stages.{k}.0.weight" in state)
    if len(widths) != 3:
        raise ValueError(f"{path} is not a FeatureNet state dict (needs stages.0-2.0.weight)")
    net = FeatureNet(widths)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path} does not match the FeatureNet architecture: {exc}") from exc
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def perceptual_loss(features: FeatureNet, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of the feature maps of ``fake`` and ``real`` (paper eq. 12)."""
    return sum(F.mse_loss(a, b) for a, b in zip(features(fake), features(real), strict=True))
