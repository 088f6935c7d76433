"""A small PatchGAN discriminator (training only): one real/fake logit per image patch."""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    """Strided 4x4 convs, GroupNorm + LeakyReLU; (B, 3, H, W) in [0, 1] -> (B, 1, H/8, W/8).

    Args:
        channels: width of the first layer (doubled twice).
        in_channels: image channels.
        full_resolution: start with a stride-1 3x3 conv, so the critic sees every pixel
            phase: a stride-2 first layer samples a 4-px periodic pattern (a pixel-shuffle
            decoder's favourite artifact) at only two phases and can miss it.
    """

    def __init__(
        self, channels: int = 32, in_channels: int = 3, full_resolution: bool = False
    ) -> None:
        super().__init__()
        c = channels
        stem: list[nn.Module] = []
        if full_resolution:
            stem = [nn.Conv2d(in_channels, c // 2, 3, padding=1), nn.LeakyReLU(0.2)]
            in_channels = c // 2

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [
                nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=False),
                nn.GroupNorm(min(8, cout), cout),
                nn.LeakyReLU(0.2),
            ]

        self.net = nn.Sequential(
            *stem,
            nn.Conv2d(in_channels, c, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            *block(c, 2 * c),
            *block(2 * c, 4 * c),
            nn.Conv2d(4 * c, 1, 3, padding=1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # Inputs are shifted to [-1, 1] so the first layer sees zero-centred pixels.
        return self.net(images * 2 - 1)
