"""Iterative parallel decoding (official libml/parallel_decode.py), as a pure generator.

``decode_steps`` takes an injected ``tokens_to_logits`` function and an explicit
``torch.Generator`` and yields one immutable ``DecodeStep`` per iteration, so the GUI can show
each iteration live and tests can drive it with a fake logits function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import torch

from .config import SamplerConfig
from .mask_schedule import mask_ratio

# Known tokens get infinite confidence so they are never re-masked (the bug class to avoid).
CONFIDENCE_OF_KNOWN_TOKENS = math.inf
# The official code marks masked tokens with -1 (jnp.take wraps it to the last vocabulary row).
OFFICIAL_MASK_ID = -1

TokensToLogits = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class DecodeStep:
    """One decoding iteration. All tensors are (B, N) over the image tokens.

    Attributes:
        index: iteration t in [start_iter, total).
        total: T.
        ids: committed tokens after this step; mask_id where still masked.
        sampled: the full sampled canvas of this step (known tokens kept as given).
        masked: bool, still masked after this step.
        revealed: bool, committed at this step.
        confidence: float, probability of each sampled token (1.0 for given tokens).
    """

    index: int
    total: int
    ids: torch.Tensor
    sampled: torch.Tensor
    masked: torch.Tensor
    revealed: torch.Tensor
    confidence: torch.Tensor


def gumbel_noise(
    shape: torch.Size, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Gumbel(0, 1) samples: -log(-log(u)), u ~ U(0, 1), kept finite at both ends."""
    u = torch.rand(shape, generator=generator, device=generator.device).to(device)
    neg_log_u = (-torch.log(u.clamp_min(1e-20))).clamp_min(1e-20)
    return -torch.log(neg_log_u)


def _sample(logits: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    """Categorical sample per position via the Gumbel-max trick (one RNG draw, batch-exact)."""
    noise = gumbel_noise(logits.shape, generator, logits.device)
    return (logits.float() / temperature + noise).argmax(dim=-1)


def _halton(index: int, base: int) -> float:
    result, f = 0.0, 1.0
    while index > 0:
        f /= base
        result += f * (index % base)
        index //= base
    return result


@lru_cache(maxsize=16)
def halton_order(height: int, width: int) -> torch.Tensor:
    """(h*w,) rank of each grid position in a 2-D Halton (2, 3) sequence (low rank = early).

    Revealing tokens in this order spreads them evenly over the image (Halton-MaskGIT).
    """
    rank = torch.full((height * width,), -1, dtype=torch.long)
    seen = 0
    i = 1
    while seen < height * width:
        y = int(_halton(i, 2) * height)
        x = int(_halton(i, 3) * width)
        pos = y * width + x
        if rank[pos] < 0:
            rank[pos] = seen
            seen += 1
        i += 1
    return rank


def decode_steps(
    tokens_to_logits: TokensToLogits,
    ids: torch.Tensor,
    mask_id: int,
    config: SamplerConfig,
    generator: torch.Generator,
    grid_shape: tuple[int, int] | None = None,
) -> Iterator[DecodeStep]:
    """Fill the masked tokens of ``ids`` in ``config.steps - config.start_iter`` iterations.

    Args:
        tokens_to_logits: (B, N) ids -> (B, N, C) logits over the C image codes.
        ids: (B, N) int64 start tokens; ``mask_id`` (or the official -1) marks unknown
            positions.
        mask_id: the mask token id; yielded ids hold it where still masked.
        config: steps T, schedule, choice/sample temperature, start_iter, reveal policy.
        generator: seeded RNG; same generator state + inputs = same output.
        grid_shape: (h, w) with h*w = N; needed by the "halton" policy.

    Yields:
        One DecodeStep per iteration t = start_iter .. T-1; the last has nothing masked.

    As in the official decode, each row's schedule counts N0, its number of masked tokens at the
    start: step t keeps ``floor(N0 * gamma((t + 1) / T; N0))`` tokens masked, clamped to
    [1, still masked - 1], so an edit with few masked tokens follows the schedule of its own size.
    """
    cur = torch.where(ids == OFFICIAL_MASK_ID, mask_id, ids)
    known = cur != mask_id
    n_unknown_start = (~known).sum(dim=1, keepdim=True)  # (B, 1): N0, class token excluded
    # float64 on the CPU (MPS has no float64); (B, 1) gamma is moved back to the ids' device.
    n0_cpu = n_unknown_start.cpu()
    committed_conf = torch.where(known, 1.0, 0.0)
    halton_rank = None
    if config.policy == "halton":
        h, w = grid_shape or (int(math.isqrt(ids.shape[1])),) * 2
        halton_rank = halton_order(h, w).to(ids.device)

    for t in range(config.start_iter, config.steps):
        unknown = cur == mask_id
        logits = tokens_to_logits(cur)
        sampled = torch.where(unknown, _sample(logits, config.sample_temperature, generator), cur)
        probs = torch.softmax(logits.float(), dim=-1)
        picked = probs.gather(-1, sampled.clamp_max(probs.shape[-1] - 1)[..., None])[..., 0]
        picked = torch.where(unknown, picked, 1.0)

        ratio = (t + 1) / config.steps
        if t == config.steps - 1:
            remask = torch.zeros_like(unknown)  # the last step commits the whole canvas
        else:
            n_masked = unknown.sum(dim=1, keepdim=True)
            gamma = mask_ratio(config.schedule, ratio, n0_cpu).to(ids.device)  # (B, 1)
            mask_len = torch.floor(n_unknown_start * gamma).long()
            mask_len = torch.maximum(
                torch.ones_like(mask_len), torch.minimum(n_masked - 1, mask_len)
            )
            if halton_rank is not None:
                # Keep masked the unknown positions that come latest in the Halton order.
                score = halton_rank[None].expand_as(cur).float().neg()
            else:
                noise = gumbel_noise(picked.shape, generator, picked.device)
                score = (
                    torch.log(picked.clamp_min(1e-30))
                    + config.choice_temperature * (1 - ratio) * noise
                )
            score = torch.where(unknown, score, CONFIDENCE_OF_KNOWN_TOKENS)
            remask = _lowest_k(score, mask_len) & unknown
            remask &= n_masked > 0  # a fully known sample has nothing to re-mask

        new_ids = torch.where(remask, mask_id, sampled)
        revealed = unknown & ~remask
        committed_conf = torch.where(revealed, picked, committed_conf)
        yield DecodeStep(
            index=t,
            total=config.steps,
            ids=new_ids,
            sampled=sampled,
            masked=remask,
            revealed=revealed,
            confidence=picked,
        )
        cur = new_ids


def _lowest_k(score: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """(B, N) bool marking each row's k[b] lowest scores (exactly k, ties broken by position)."""
    order = score.argsort(dim=1, stable=True)  # ascending
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(score.shape[1], device=score.device).expand_as(order))
    return ranks < k


def class_conditional_logits(
    model: torch.nn.Module,
    class_tokens: torch.Tensor,
    guidance_scale: float = 0.0,
    null_token: int | None = None,
) -> TokensToLogits:
    """Build ``tokens_to_logits`` for a MaskGitTransformer and per-sample class token ids.

    Args:
        model: a MaskGitTransformer (its ``image_logits`` is used).
        class_tokens: (B,) int64 class token ids (label + codebook_size, or the null id).
        guidance_scale: s >= 0; with s > 0 logits = (1 + s) * cond - s * uncond (needs a null
            class). Conditional and unconditional passes share one batched forward.
        null_token: the null class token id (required when guidance_scale > 0).
    """
    if guidance_scale > 0 and null_token is None:
        raise ValueError("this model has no null class, so guidance is not available")

    def tokens_to_logits(image_ids: torch.Tensor) -> torch.Tensor:
        seq = torch.cat([class_tokens[:, None], image_ids], dim=1)  # (B, 1+N)
        if guidance_scale <= 0:
            return model.image_logits(seq)
        uncond = seq.clone()
        uncond[:, 0] = null_token
        cond_logits, uncond_logits = model.image_logits(torch.cat([seq, uncond])).chunk(2)
        return cond_logits + guidance_scale * (cond_logits - uncond_logits)

    return tokens_to_logits
