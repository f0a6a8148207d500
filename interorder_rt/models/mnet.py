"""MNet: the content-completion network of InterOrderNet's merging stage (paper sec. 3.3).

A U-shaped generator: an encoder ``E_q`` (trained first by momentum contrast, with a momentum
twin ``E_k`` that only training keeps) and a decoder ``G_2`` that paints RGB. The input is an
S x S crop: the known RGB (zero where unknown), the known-pixel mask and the hole mask (the region
to fill). The same net fills the hidden part of an occluded instance (known = the instance's
visible pixels) and a freed background hole (known = everything around the hole).

The crop also carries a classical fill of its unknown pixels (OpenCV Telea inpainting, computed
with the crop); the net predicts a correction to it in logit space. The correction starts near
zero, so an untrained net returns about the classical fill, and training spends its steps on what
a diffusion-like fill cannot do (edges, patterns, shapes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from interorder_rt.models.checkpoint import load_checkpoint

CHECKPOINT_FORMAT = "interorder_rt.mnet/1"
IN_CHANNELS = 8  # known RGB (3), known mask (1), hole mask (1), classical fill (3)
BASE_EPS = 1e-3  # the classical fill is kept this far from 0 and 1 before its logit is taken


@dataclass(frozen=True)
class MNetConfig:
    """Architecture hyper-parameters, stored in every checkpoint."""

    crop_size: int = 64
    widths: tuple[int, int, int, int] = (16, 32, 64, 128)  # channels at 1, 1/2, 1/4, 1/8 scale
    embed_dim: int = 64

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if self.crop_size % 8 or self.crop_size < 16:
            raise ValueError(f"crop_size must be a multiple of 8 and >= 16, got {self.crop_size}")
        if len(self.widths) != 4 or min(self.widths) < 4 or self.embed_dim < 8:
            raise ValueError(f"need 4 widths >= 4 and embed_dim >= 8, got {self.widths}, {self.embed_dim}")


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation),
        nn.LeakyReLU(0.2, inplace=True),
    )


class DilatedResidual(nn.Module):
    """Two dilated 3x3 convolutions with a skip: a wide receptive field at the bottleneck."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, dilation=dilation),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x + self.body(x), 0.2)


class MNetEncoder(nn.Module):
    """E_q / E_k: the crop at 1, 1/2, 1/4, 1/8 resolution, plus a unit embedding for contrast."""

    def __init__(self, config: MNetConfig) -> None:
        super().__init__()
        w0, w1, w2, w3 = config.widths
        self.stem = _conv(IN_CHANNELS, w0)
        self.down1 = nn.Sequential(_conv(w0, w1, stride=2), _conv(w1, w1))
        self.down2 = nn.Sequential(_conv(w1, w2, stride=2), _conv(w2, w2))
        self.down3 = nn.Sequential(_conv(w2, w3, stride=2), DilatedResidual(w3, 2), DilatedResidual(w3, 4))
        self.project = nn.Sequential(nn.Linear(w3, w3), nn.ReLU(inplace=True), nn.Linear(w3, config.embed_dim))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps from fine to coarse (the decoder's skips and bottleneck)."""
        f0 = self.stem(x)
        f1 = self.down1(f0)
        f2 = self.down2(f1)
        return [f0, f1, f2, self.down3(f2)]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, embed_dim) L2-normalised embedding of the crop: the contrastive query / key."""
        pooled = self.forward(x)[-1].mean(dim=(2, 3))
        return F.normalize(self.project(pooled), dim=1)


class MNetDecoder(nn.Module):
    """G_2: upsample the bottleneck with the encoder's skips to a (B, 3, S, S) logit correction."""

    def __init__(self, config: MNetConfig) -> None:
        super().__init__()
        w0, w1, w2, w3 = config.widths
        self.up2 = nn.Sequential(_conv(w3 + w2, w2), _conv(w2, w2))
        self.up1 = nn.Sequential(_conv(w2 + w1, w1), _conv(w1, w1))
        self.up0 = nn.Sequential(_conv(w1 + w0, w0), _conv(w0, w0))
        self.rgb = nn.Conv2d(w0, 3, 3, padding=1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        f0, f1, f2, x = features
        for skip, block in ((f2, self.up2), (f1, self.up1), (f0, self.up0)):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = block(torch.cat([x, skip], dim=1))
        return self.rgb(x)


def mnet_input(known_rgb: torch.Tensor, known: torch.Tensor, hole: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """Stack the (B,3,S,S) RGB and classical fill in [0,1] and the (B,1,S,S) masks into the net's input.

    RGB outside ``known`` is zeroed here, so unknown content can never leak into the input.
    """
    known = known.to(known_rgb.dtype)
    return torch.cat([known_rgb * known, known, hole.to(known_rgb.dtype), base], dim=1)


class MNet(nn.Module):
    """Encoder E_q + decoder G_2: ``forward(x)`` predicts the RGB of the whole crop."""

    def __init__(self, config: MNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or MNetConfig()
        self.encoder = MNetEncoder(self.config)
        self.decoder = MNetDecoder(self.config)
        self._init_weights()

    def _init_weights(self) -> None:
        """He init for the leaky-ReLU convolutions (there is no normalisation layer to rescue a poor
        scale); the last layer scaled down so the net starts close to the classical fill."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, a=0.2, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            self.decoder.rgb.weight.mul_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 8, S, S) input (see :func:`mnet_input`) -> (B, 3, S, S) RGB in [0, 1] over the crop."""
        base = x[:, 5:8].clamp(BASE_EPS, 1 - BASE_EPS)
        return torch.sigmoid(torch.logit(base) + self.decoder(self.encoder(x)))

    @staticmethod
    def blend(prediction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Keep the known pixels of the input, take predicted ones everywhere else."""
        known = x[:, 3:4]
        return x[:, :3] * known + prediction * (1 - known)

    def checkpoint(self, **meta) -> dict:
        """The shipped-weights dict: format tag, config, inference state dict, free metadata."""
        state = {k: v.detach().cpu().clone() for k, v in self.state_dict().items()}
        return {"format": CHECKPOINT_FORMAT, "config": asdict(self.config), "state_dict": state, "meta": meta}

    @classmethod
    def from_checkpoint(cls, path: str | Path, map_location: str = "cpu") -> "MNet":
        """Load weights saved by :meth:`checkpoint`; clear errors for missing or corrupt files."""
        return load_checkpoint(path, "MNet", CHECKPOINT_FORMAT, lambda config: cls(MNetConfig(**config)), map_location)
