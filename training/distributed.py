"""Multi-process training via torchrun: process-group setup, sharding and collectives.

Launch any stage with ``torchrun --nproc-per-node N -m training transformer ...`` (add
``--nnodes/--node-rank/--master-addr`` for several machines). The backend is gloo on CPU and
nccl on CUDA. Rank 0 alone logs progress, writes metrics and saves checkpoints; every rank
reads the same checkpoint on resume. Without torchrun (no WORLD_SIZE in the environment) all
helpers degrade to single-process no-ops.
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from maskgit_studio.engine.device import pick_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: rank among world_size, and the device it trains on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def local_batch(self, global_batch: int) -> int:
        """This rank's share of a global batch (which must divide evenly)."""
        if global_batch % self.world_size:
            raise ValueError(
                f"batch size {global_batch} is not divisible by the {self.world_size} processes"
            )
        return global_batch // self.world_size


def init_distributed(device: str = "auto") -> DistContext:
    """Join the torchrun process group if launched by torchrun, else a single-process context.

    Args:
        device: "auto", "cpu", "cuda"...; under torchrun with CUDA each rank takes
            cuda:LOCAL_RANK.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(device=pick_device(device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = pick_device(device)
    if chosen.type == "cuda":
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    backend = "nccl" if chosen.type == "cuda" else "gloo"
    if not dist.is_initialized():
        # Long timeout: other ranks wait at a barrier while rank 0 alone pretokenizes.
        dist.init_process_group(backend, timeout=datetime.timedelta(hours=3))
    log.info("rank %d/%d on %s (%s)", rank, world, chosen, backend)
    return DistContext(rank, world, local_rank, chosen)


def shutdown(ctx: DistContext) -> None:
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        dist.barrier()


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place (no-op for one process)."""
    if ctx.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_reduce_mean(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    if ctx.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        tensor /= ctx.world_size
    return tensor


def broadcast(tensor: torch.Tensor, ctx: DistContext, src: int = 0) -> torch.Tensor:
    """Overwrite ``tensor`` on every rank with rank ``src``'s value."""
    if ctx.distributed:
        dist.broadcast(tensor, src)
    return tensor


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True on every rank if ``flag`` is true on any rank (used for stop requests)."""
    if not ctx.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=_collective_device(ctx))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def _collective_device(ctx: DistContext) -> torch.device:
    return ctx.device if ctx.device.type == "cuda" else torch.device("cpu")


def shard(indices: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """This rank's slice of a global batch of sample indices (strided, DistributedSampler-style).

    Args:
        indices: (B,) global batch; B must be divisible by world_size.

    Returns:
        (B / world_size,) indices for this rank.
    """
    ctx.local_batch(indices.shape[0])
    return indices[ctx.rank :: ctx.world_size]


def wrap(module: nn.Module, ctx: DistContext) -> nn.Module:
    """DistributedDataParallel around ``module`` when distributed, else the module itself."""
    if not ctx.distributed:
        return module
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids)


def unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module
