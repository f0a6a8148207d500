"""PatchGAN discriminator for MNet's adversarial loss (training only).

It scores overlapping patches of a crop as real or completed. Its input is the RGB over the
crop's support (zero elsewhere, so it cannot tell real from fake by the unsupervised pixels
outside an instance), the support mask and the hole mask.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm


class PatchDiscriminator(nn.Module):
    """(B, 5, S, S) -> (B, 1, S/8, S/8) real/fake logits, one per receptive-field patch."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 5
        for cout in (width, 2 * width, 4 * width):
            layers += [spectral_norm(nn.Conv2d(cin, cout, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, inplace=True)]
            cin = cout
        layers.append(spectral_norm(nn.Conv2d(cin, 1, 3, padding=1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def discriminator_input(rgb: torch.Tensor, support: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """The discriminator's view of a crop: RGB over the support, support mask, hole mask."""
    return torch.cat([rgb * support, support, hole], dim=1)
