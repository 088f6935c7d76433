"""Refine (MaskGIT's image-to-image): which of a region's tokens to re-mask and decode again."""

from __future__ import annotations

import math

import torch

from .model import LoadedModel


def refine_start_ids(
    model: LoadedModel,
    ids: torch.Tensor,
    editable: torch.Tensor,
    class_tokens: list[int],
    strength: float,
    order: str,
    generator: torch.Generator,
) -> torch.Tensor:
    """Re-mask ``ceil(strength * n)`` of the ``n`` editable tokens of each sample.

    Args:
        ids: (K, N) int64 the window's tokens as encoded.
        editable: (N,) bool the tokens the refine may change.
        strength: in (0, 1]; 1 re-masks every editable token (an inpaint).
        order: "confidence" re-masks the tokens the model finds least likely first: each
            editable token is scored by the model's probability of it with half of the editable
            tokens (a random half, then the other) masked, so every score sees context from
            inside the region too. "random" picks them at random.
        generator: the run's seeded generator (the halves and the random order come from it).

    Returns:
        (K, N) int64 ids with ``mask_id`` at the re-masked positions; never outside ``editable``.
    """
    k, n = ids.shape
    editable = editable.to(ids.device)
    count = int(editable.sum())
    pick = min(max(math.ceil(strength * count - 1e-9), 1), count)
    if order == "random":
        score = torch.rand((k, n), generator=generator).to(ids.device)
    else:
        score = -_token_log_prob(model, ids, editable, class_tokens, generator)
    # Highest score first = least confident first; non-editable tokens are never picked.
    score = torch.where(editable[None], score, -math.inf)
    chosen = score.argsort(dim=1, descending=True, stable=True)[:, :pick]  # (K, pick)
    remask = torch.zeros_like(ids, dtype=torch.bool).scatter_(1, chosen, True)
    return torch.where(remask, model.config.mask_id, ids)


def _token_log_prob(
    model: LoadedModel,
    ids: torch.Tensor,
    editable: torch.Tensor,
    class_tokens: list[int],
    generator: torch.Generator,
) -> torch.Tensor:
    """(K, N) log p(current token) for the editable tokens (each scored while masked)."""
    k, n = ids.shape
    logits_fn = model.logits_fn(class_tokens, 0.0)
    half = (torch.rand(n, generator=generator) < 0.5).to(ids.device) & editable
    out = torch.zeros(k, n, device=ids.device)
    for part in (half, editable & ~half):
        if not bool(part.any()):
            continue
        masked = torch.where(part[None], model.config.mask_id, ids)
        logp = torch.log_softmax(logits_fn(masked).float(), dim=-1)  # (K, N, C)
        got = logp.gather(-1, ids.clamp_max(logp.shape[-1] - 1)[..., None])[..., 0]
        out = torch.where(part[None], got, out)
    return out


__all__ = ["refine_start_ids"]
