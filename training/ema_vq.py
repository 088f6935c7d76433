"""EMA codebook training for the engine's VectorQuantizer: k-means init and calm dead-code resets.

The engine quantizer only holds ``codebook`` (K, D); here it is trained without gradients:
each code moves to the EMA mean of the encoder vectors assigned to it (VQ-VAE-2 style, with
Laplace smoothing of the counts). After a warm-up without quantisation the codebook starts as
k-means centroids of real encoder outputs, so almost every code is alive from step one.

Dead codes and churn: a code whose EMA use per step falls below ``dead_threshold`` is moved onto
an encoder vector that the current codebook serves badly (sampled in proportion to its
quantisation error). To avoid churn (codes bouncing between resets) a reset code gets the
average code's usage as its EMA count, so it has hundreds of steps of grace to attract vectors
before it could be called dead again, and at most ``max_reset_fraction`` of the codebook is
moved per check.
"""

from __future__ import annotations

import logging

import torch

from maskgit_studio.engine.quantizer import VectorQuantizer
from training.distributed import DistContext, all_reduce_sum, broadcast

log = logging.getLogger(__name__)


def flatten_latents(z: torch.Tensor) -> torch.Tensor:
    """(B, D, h, w) -> (B*h*w, D) float32 vectors."""
    return z.permute(0, 2, 3, 1).reshape(-1, z.shape[1]).float()


def _sq_dist(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """(N, D), (K, D) -> (N, K) squared distances."""
    return (
        x.pow(2).sum(1, keepdim=True) - 2 * x @ centroids.t() + centroids.pow(2).sum(1)[None]
    ).clamp_min(0)


def kmeans(
    x: torch.Tensor, k: int, iters: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """k-means++ seeding then Lloyd iterations.

    Args:
        x: (N, D) float vectors (N >= 1).
        k: number of centroids.
        iters: Lloyd iterations.
        generator: CPU generator (repeatable init).

    Returns:
        (K, D) centroids and (K,) float assignment counts of the last iteration.
    """
    x = x.float().cpu()
    n = x.shape[0]
    first = torch.randint(n, (1,), generator=generator)
    centroids = [x[first[0]]]
    closest = _sq_dist(x, centroids[0][None])[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct vectors than codes: pick uniformly
            idx = torch.randint(n, (1,), generator=generator)[0]
        else:
            idx = torch.multinomial(closest / total, 1, generator=generator)[0]
        centroids.append(x[idx])
        closest = torch.minimum(closest, _sq_dist(x, x[idx][None])[:, 0])
    c = torch.stack(centroids)
    counts = torch.zeros(k)
    for _ in range(iters):
        assign = _sq_dist(x, c).argmin(1)
        counts = torch.bincount(assign, minlength=k).float()
        sums = torch.zeros_like(c).index_add_(0, assign, x)
        used = counts > 0
        c[used] = sums[used] / counts[used, None]
    return c, counts


class EMACodebook:
    """Trains ``quantizer.codebook`` by EMA; all ranks end every update with identical codes.

    Args:
        quantizer: the engine quantizer whose ``codebook`` parameter is updated in place
            (its requires_grad is switched off).
        decay: EMA decay (0.99).
        dead_threshold: EMA uses per step below which a code counts as dead.
        max_reset_fraction: at most this share of codes is reset per check.
    """

    def __init__(
        self,
        quantizer: VectorQuantizer,
        decay: float = 0.99,
        dead_threshold: float = 0.03,
        max_reset_fraction: float = 0.1,
        eps: float = 1e-5,
    ) -> None:
        self.quantizer = quantizer
        quantizer.codebook.requires_grad_(False)
        k, d = quantizer.codebook.shape
        device = quantizer.codebook.device
        self.decay = decay
        self.dead_threshold = dead_threshold
        self.max_reset = max(1, int(max_reset_fraction * k))
        self.eps = eps
        self.cluster_size = torch.zeros(k, device=device)
        self.embed_sum = torch.zeros(k, d, device=device)
        self.initialized = False
        self.total_resets = 0

    @property
    def codebook(self) -> torch.Tensor:
        return self.quantizer.codebook.data

    @torch.no_grad()
    def init_kmeans(
        self,
        vectors: torch.Tensor,
        iters: int,
        generator: torch.Generator,
        ctx: DistContext,
        vectors_per_step: float,
    ) -> None:
        """Set the codebook to k-means centroids of (N, D) encoder ``vectors`` (rank 0's).

        ``vectors_per_step`` (global batch x tokens per image) scales the starting EMA counts.
        """
        k = self.codebook.shape[0]
        if ctx.is_main:
            centroids, counts = kmeans(vectors, k, iters, generator)
            share = counts / counts.sum().clamp_min(1)
            self.codebook.copy_(centroids.to(self.codebook.device))
            self.cluster_size.copy_((share * vectors_per_step).to(self.cluster_size.device))
        broadcast(self.codebook, ctx)
        broadcast(self.cluster_size, ctx)
        self.embed_sum.copy_(self.codebook * self.cluster_size[:, None])
        self.initialized = True
        alive = int((self.cluster_size >= self.dead_threshold).sum())
        log.info("k-means codebook init: %d vectors, %d/%d codes in use", len(vectors), alive, k)

    @torch.no_grad()
    def init_from_codebook(self, vectors_per_step: float) -> None:
        """Start the EMA from the quantizer's current codebook (a warm start), as if every
        code had an equal share of ``vectors_per_step`` vectors per step."""
        k = self.codebook.shape[0]
        self.cluster_size.fill_(vectors_per_step / k)
        self.embed_sum.copy_(self.codebook * self.cluster_size[:, None])
        self.initialized = True

    @torch.no_grad()
    def update(self, z: torch.Tensor, indices: torch.Tensor, ctx: DistContext) -> None:
        """One EMA step from this rank's (N, D) vectors ``z`` and their (N,) code ``indices``."""
        k = self.codebook.shape[0]
        counts = torch.bincount(indices, minlength=k).float()
        sums = torch.zeros_like(self.embed_sum).index_add_(0, indices, z.float())
        all_reduce_sum(counts, ctx)
        all_reduce_sum(sums, ctx)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (n + k * self.eps) * n
        self.codebook.copy_(self.embed_sum / smoothed[:, None])

    @torch.no_grad()
    def reset_dead(self, z: torch.Tensor, generator: torch.Generator, ctx: DistContext) -> int:
        """Move dead codes onto badly served vectors of rank 0's (N, D) ``z``; returns count."""
        dead = (self.cluster_size < self.dead_threshold).nonzero().flatten()
        n_dead = torch.tensor([min(len(dead), self.max_reset)], device=self.codebook.device)
        broadcast(n_dead, ctx)
        count = int(n_dead.item())
        if count == 0:
            return 0
        if ctx.is_main:
            dead = dead[:count]
            zc = z.float()
            err = _sq_dist(zc, self.codebook).min(1).values.cpu() + 1e-12
            picks = torch.multinomial(
                err / err.sum(), count, replacement=len(err) < count, generator=generator
            )
            new = zc[picks.to(zc.device)]
            self.codebook[dead] = new
            # Grace period: the average code's usage, so the code is not "dead" again at once.
            self.cluster_size[dead] = self.cluster_size.mean().clamp_min(self.dead_threshold * 4)
            self.embed_sum[dead] = new * self.cluster_size[dead, None]
        for t in (self.codebook, self.cluster_size, self.embed_sum):
            broadcast(t, ctx)
        self.total_resets += count
        return count

    def alive_fraction(self) -> float:
        return float((self.cluster_size >= self.dead_threshold).float().mean())

    def state_dict(self) -> dict:
        return {
            "cluster_size": self.cluster_size.cpu(),
            "embed_sum": self.embed_sum.cpu(),
            "initialized": self.initialized,
            "total_resets": self.total_resets,
        }

    def load_state_dict(self, state: dict) -> None:
        self.cluster_size.copy_(state["cluster_size"])
        self.embed_sum.copy_(state["embed_sum"])
        self.initialized = bool(state["initialized"])
        self.total_resets = int(state["total_resets"])
