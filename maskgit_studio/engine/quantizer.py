"""Vector quantizer: nearest codebook entry by squared Euclidean distance (no normalisation).

Training-only machinery (EMA codebook updates, dead-code resets) lives in training/; this module
only holds the codebook and the lookup, so the engine stays inference-sized.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class QuantizerOutput(NamedTuple):
    """Named result of a quantization.

    quantized: (B, D, h, w) codes with straight-through gradients to the encoder output.
    indices: (B, h, w) int64 code ids.
    commitment_loss: scalar ||z - sg(e)||^2 (pulls the encoder to its codes).
    codebook_loss: scalar ||sg(z) - e||^2 (pulls codes to the encoder; unused with EMA codes).
    """

    quantized: torch.Tensor
    indices: torch.Tensor
    commitment_loss: torch.Tensor
    codebook_loss: torch.Tensor


class VectorQuantizer(nn.Module):
    def __init__(self, codebook_size: int, code_dim: int) -> None:
        super().__init__()
        self.codebook_size = codebook_size
        self.code_dim = code_dim
        # In place: the loader skips in-place init on the meta device (see checkpoint.py).
        self.codebook = nn.Parameter(torch.randn(codebook_size, code_dim).div_(code_dim**0.5))

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """Code ids of the nearest entries.

        Args:
            z: (B, D, h, w) encoder output.

        Returns:
            (B, h, w) int64 indices.
        """
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d).float()  # (B*h*w, D)
        codebook = self.codebook.float()
        # ||z - e||^2 = ||z||^2 - 2 z.e + ||e||^2 ; ||z||^2 is constant per row, so dropped.
        distances = codebook.pow(2).sum(1)[None, :] - 2 * flat @ codebook.t()  # (B*h*w, K)
        return distances.argmin(dim=1).view(b, h, w)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Codebook vectors for ids.

        Args:
            indices: (B, h, w) int64.

        Returns:
            (B, D, h, w) float codes.
        """
        if indices.numel() and (indices.min() < 0 or indices.max() >= self.codebook_size):
            raise ValueError(f"token ids must be in [0, {self.codebook_size - 1}]")
        return F.embedding(indices, self.codebook).permute(0, 3, 1, 2).contiguous()

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        indices = self.nearest(z)
        codes = self.lookup(indices).to(z.dtype)
        commitment = F.mse_loss(z, codes.detach())
        codebook = F.mse_loss(z.detach(), codes)
        quantized = z + (codes - z).detach()  # straight-through estimator
        return QuantizerOutput(quantized, indices, commitment, codebook)
