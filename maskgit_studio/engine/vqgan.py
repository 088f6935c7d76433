"""VQGAN tokenizer: encoder -> vector quantizer -> decoder.

``arch="vqgan"`` reproduces the official MaskGIT tokenizer (nets/vqgan_tokenizer.py): conv
pyramid, 2x2 average-pool down, nearest x2 up + 3x3 conv, no attention, GroupNorm + swish.
``arch="fast"`` replaces full-resolution convolutions with pixel-unshuffle stages, which is what
makes training and inference cheap on a CPU. Images are (B, 3, H, W) floats in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import TokenizerConfig
from .quantizer import VectorQuantizer


def _norm(config: TokenizerConfig, channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(config.norm_groups, channels), channels, eps=config.norm_eps)


class ResBlock(nn.Module):
    """GN -> swish -> conv3x3 -> GN -> swish -> conv3x3, plus a residual.

    When the width changes, the official code applies its 1x1 shortcut to the block OUTPUT
    (out = h + W h); ``shortcut_on_output=False`` gives the usual out = h + W x.
    """

    def __init__(self, config: TokenizerConfig, in_ch: int, out_ch: int) -> None:
        super().__init__()
        bias = config.conv_bias
        self.norm1 = _norm(config, in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=bias)
        self.norm2 = _norm(config, out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=bias)
        self.on_output = config.shortcut_on_output
        self.shortcut: nn.Module | None = None
        if in_ch != out_ch:
            shortcut_in = out_ch if self.on_output else in_ch
            self.shortcut = nn.Conv2d(shortcut_in, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.shortcut is None:
            return x + h
        return h + self.shortcut(h if self.on_output else x)


class VQGANEncoder(nn.Module):
    """Official layout: conv_in -> levels of res blocks (avg-pool between) -> mid -> GN/swish/1x1."""

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__()
        base, mults = config.base_channels, config.channel_mult
        self.conv_in = nn.Conv2d(config.in_channels, base, 3, padding=1, bias=False)
        blocks: list[nn.Module] = []
        self.pool_after: list[int] = []  # indices of blocks followed by a 2x2 average pool
        ch = base
        for level, mult in enumerate(mults):
            for _ in range(config.num_res_blocks):
                blocks.append(ResBlock(config, ch, base * mult))
                ch = base * mult
            if level < len(mults) - 1:
                self.pool_after.append(len(blocks) - 1)
        for _ in range(config.num_res_blocks):  # mid blocks
            blocks.append(ResBlock(config, ch, ch))
        self.res_blocks = nn.ModuleList(blocks)
        self.norm_out = _norm(config, ch)
        self.conv_out = nn.Conv2d(ch, config.code_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for i, block in enumerate(self.res_blocks):
            h = block(h)
            if i in self.pool_after:
                h = F.avg_pool2d(h, 2)
        return self.conv_out(F.silu(self.norm_out(h)))


class VQGANDecoder(nn.Module):
    """Official layout: conv_in -> mid -> levels high to low (nearest up + conv) -> GN/swish/conv."""

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__()
        base, mults = config.base_channels, config.channel_mult
        ch = base * mults[-1]
        self.conv_in = nn.Conv2d(config.code_dim, ch, 3, padding=1)
        blocks: list[nn.Module] = [ResBlock(config, ch, ch) for _ in range(config.num_res_blocks)]
        up_convs: list[nn.Module] = []
        self.upsample_after: list[int] = []
        for level in reversed(range(len(mults))):
            for _ in range(config.num_res_blocks):
                blocks.append(ResBlock(config, ch, base * mults[level]))
                ch = base * mults[level]
            if level > 0:
                self.upsample_after.append(len(blocks) - 1)
                up_convs.append(nn.Conv2d(ch, ch, 3, padding=1))
        self.res_blocks = nn.ModuleList(blocks)
        self.up_convs = nn.ModuleList(up_convs)
        self.norm_out = _norm(config, ch)
        self.conv_out = nn.Conv2d(ch, config.in_channels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        up = iter(self.up_convs)
        for i, block in enumerate(self.res_blocks):
            h = block(h)
            if i in self.upsample_after:
                h = next(up)(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


class FastEncoder(nn.Module):
    """Pixel-unshuffle stages: (B,3,H,W) -> unshuffle u0 -> conv -> res blocks -> ... -> 1x1."""

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__()
        stages: list[nn.Module] = []
        ch = config.in_channels
        for i, (u, mult) in enumerate(zip(config.unshuffle_factors, config.channel_mult)):
            width = config.base_channels * mult
            kernel = 3 if i == 0 else 1
            layers: list[nn.Module] = [
                nn.PixelUnshuffle(u),
                nn.Conv2d(ch * u * u, width, kernel, padding=kernel // 2),
            ]
            layers += [ResBlock(config, width, width) for _ in range(config.num_res_blocks)]
            stages.append(nn.Sequential(*layers))
            ch = width
        self.stages = nn.ModuleList(stages)
        self.norm_out = _norm(config, ch)
        self.conv_out = nn.Conv2d(ch, config.code_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for stage in self.stages:
            h = stage(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class FastDecoder(nn.Module):
    """Mirror of FastEncoder with pixel-shuffle: 1x1 -> res blocks -> conv -> shuffle -> ..."""

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__()
        widths = [config.base_channels * m for m in config.channel_mult]
        factors = config.unshuffle_factors
        self.conv_in = nn.Conv2d(config.code_dim, widths[-1], 1)
        stages: list[nn.Module] = []
        for i in reversed(range(len(factors))):
            out_ch = widths[i - 1] if i > 0 else config.in_channels
            kernel = 3 if i == 0 else 1
            layers: list[nn.Module] = [
                ResBlock(config, widths[i], widths[i]) for _ in range(config.num_res_blocks)
            ]
            if i == 0:  # the last stage ends in GN/swish before the pixel projection
                layers += [_norm(config, widths[i]), nn.SiLU()]
            layers += [
                nn.Conv2d(widths[i], out_ch * factors[i] ** 2, kernel, padding=kernel // 2),
                nn.PixelShuffle(factors[i]),
            ]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        for stage in self.stages:
            h = stage(h)
        return h


class Tokenizer(nn.Module):
    """Image <-> token grid. ``encode_to_indices`` and ``decode_indices`` are the public API."""

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__()
        self.config = config
        if config.arch == "vqgan":
            self.encoder: nn.Module = VQGANEncoder(config)
            self.decoder: nn.Module = VQGANDecoder(config)
        else:
            self.encoder = FastEncoder(config)
            self.decoder = FastDecoder(config)
        self.quantizer = VectorQuantizer(config.codebook_size, config.code_dim)

    @property
    def downsample_factor(self) -> int:
        return self.config.downsample_factor

    def _check_images(self, images: torch.Tensor) -> None:
        f = self.downsample_factor
        if images.ndim != 4 or images.shape[1] != self.config.in_channels:
            raise ValueError(
                f"expected (B, {self.config.in_channels}, H, W) images, got {tuple(images.shape)}"
            )
        if images.shape[2] % f or images.shape[3] % f:
            raise ValueError(f"image size {tuple(images.shape[2:])} is not a multiple of {f}")

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, D, H/f, W/f) continuous latents."""
        self._check_images(images)
        return self.encoder(images)

    def encode_to_indices(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, H/f, W/f) int64 token ids."""
        return self.quantizer.nearest(self.encode(images))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, D, h, w) codes -> (B, 3, h*f, w*f) images (unclamped)."""
        return self.decoder(codes)

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, h, w) token ids -> (B, 3, h*f, w*f) images clamped to [0, 1]."""
        codes = self.quantizer.lookup(indices).to(next(self.decoder.parameters()).dtype)
        return self.decode(codes).clamp(0.0, 1.0)
