"""Mask schedules gamma(r): the fraction of tokens still masked at progress r in [0, 1].

One module shared by sampling and training (official libml/mask_schedule.py). gamma(0) = 1
(everything masked), gamma(1) ~ 0, and every schedule is clipped to [1e-6, 1].
"""

from __future__ import annotations

import math

import torch

from .config import SCHEDULES


def mask_ratio(
    schedule: str, r: torch.Tensor | float, num_tokens: int | torch.Tensor = 256
) -> torch.Tensor:
    """Masked fraction gamma(r).

    Args:
        schedule: one of ``config.SCHEDULES``.
        r: progress in [0, 1], a float or a tensor of any shape.
        num_tokens: N, the number of maskable tokens (used by "log" and "exp"): an int, or a
            tensor broadcast against ``r`` (the sampler passes each row's N0, as the official
            decode does).

    Returns:
        A float tensor of the broadcast shape of ``r`` and ``num_tokens`` in [1e-6, 1].
    """
    r = torch.as_tensor(r, dtype=torch.float64)
    # log2(N) with N >= 2: N = 0 or 1 would divide by zero (the decode's clamp decides there).
    log2_n = torch.log2(torch.as_tensor(num_tokens, dtype=torch.float64).clamp_min(2))
    if schedule == "cosine":
        ratio = torch.cos(math.pi / 2 * r)
    elif schedule == "linear":
        ratio = 1 - r
    elif schedule == "square":
        ratio = 1 - r**2
    elif schedule == "cubic":
        ratio = 1 - r**3
    elif schedule == "sqrt":
        ratio = 1 - torch.sqrt(r)
    elif schedule == "log":
        ratio = -torch.log2(r.clamp_min(1e-12)) / log2_n
    elif schedule == "exp":
        ratio = 1 - torch.exp2(-log2_n * (1 - r))
    elif schedule == "arccos":
        ratio = torch.arccos(r.clamp(-1, 1)) / (math.pi / 2)
    else:
        raise ValueError(f"unknown schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
    ratio = torch.broadcast_tensors(ratio, log2_n)[0]  # (not broadcast_shapes: imports sympy)
    return ratio.clamp(1e-6, 1.0).float()


def num_masked_for_training(
    schedule: str, num_tokens: int, batch: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Per-example count of tokens to mask in MVTM training: ceil(gamma(r) * N), r ~ U(0, 1).

    Returns:
        (B,) int64 tensor with values in [1, N].
    """
    r = torch.rand(batch, generator=generator)
    counts = torch.ceil(mask_ratio(schedule, r, num_tokens) * num_tokens).long()
    return counts.clamp(1, num_tokens)
