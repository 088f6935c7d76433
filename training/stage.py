"""Machinery shared by the training stages: data order, budgets, LR schedule, checkpoint timing.

Data order is a pure function of (seed, dataset length, global batch, step): step s reads the
global sample positions [s*B, (s+1)*B) of an endless stream of seeded epoch permutations. So a
resumed run reads exactly the batches an uninterrupted one would, with any number of workers
or DDP ranks (each rank takes a strided slice of the global batch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from training.distributed import DistContext, shard


@lru_cache(maxsize=4)
def _permutation(seed: int, length: int, epoch: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(length, generator=g)


def global_batch_indices(
    seed: int, length: int, batch: int, step: int, with_epoch: bool = False
) -> torch.Tensor:
    """(batch,) int64 dataset indices read at ``step`` (epochs are seeded permutations).

    With ``with_epoch`` each entry is ``epoch * length + index`` (see EpochIndexed).
    """
    start = step * batch
    out: list[int] = []
    while len(out) < batch:
        epoch, offset = divmod(start + len(out), length)
        take = min(batch - len(out), length - offset)
        chunk = _permutation(seed, length, epoch)[offset : offset + take]
        out.extend((chunk + epoch * length if with_epoch else chunk).tolist())
    return torch.tensor(out, dtype=torch.long)


class EpochIndexed:
    """Dataset view addressed by ``epoch * len + index``: calls ``set_epoch`` on datasets that
    have it (image folders: a fresh random crop per epoch) before reading ``index``."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset
        self.class_names = dataset.class_names
        self._epoch = None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, position: int):
        epoch, index = divmod(int(position), len(self.dataset))
        if epoch != self._epoch and hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        self._epoch = epoch
        return self.dataset[index]


class StepBatchSampler:
    """DataLoader batch sampler yielding this rank's positions for steps start, start+1, ...

    Positions are ``epoch * length + index``: read them through EpochIndexed. Endless: the
    training loop decides when to stop.
    """

    def __init__(
        self, seed: int, length: int, global_batch: int, start_step: int, ctx: DistContext
    ) -> None:
        self.seed, self.length, self.batch = seed, length, global_batch
        self.start_step = start_step
        self.ctx = ctx
        ctx.local_batch(global_batch)

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            idx = global_batch_indices(self.seed, self.length, self.batch, step, True)
            yield shard(idx, self.ctx).tolist()
            step += 1


class Budget:
    """A stage's budget: a step count and an optional wall-clock limit across resumes.

    Args:
        steps: total optimisation steps.
        max_minutes: total training minutes (0 = unlimited), counted across resumes.
        elapsed_before: seconds spent by earlier runs of this stage (from the checkpoint).
    """

    def __init__(self, steps: int, max_minutes: float, elapsed_before: float = 0.0) -> None:
        self.steps = steps
        self.max_seconds = max_minutes * 60.0
        self.elapsed_before = elapsed_before
        self._t0 = time.monotonic()

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self._t0

    def progress(self, step: int) -> float:
        """Fraction of the budget used: the larger of the step and time fractions."""
        p = step / self.steps
        if self.max_seconds > 0:
            p = max(p, self.elapsed() / self.max_seconds)
        return min(p, 1.0)

    def finished(self, step: int) -> str | None:
        """None while budget is left, else why the stage is complete."""
        if step >= self.steps:
            return "steps"
        if self.max_seconds > 0 and self.elapsed() >= self.max_seconds:
            return "time limit"
        return None


def lr_factor(step: int, warmup: int, progress: float, final_fraction: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``final_fraction``.

    ``progress`` in [0, 1] is the budget fraction (Budget.progress), so under a time limit the
    decay follows the clock and still ends near the final LR.
    """
    warm = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    cosine = 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    return warm * (final_fraction + (1 - final_fraction) * cosine)


class CheckpointTimer:
    """Due every ``every`` steps or every ``minutes`` of wall-clock time, whichever comes first."""

    def __init__(self, every: int, minutes: float) -> None:
        self.every = max(int(every), 0)
        self.seconds = minutes * 60.0
        self._last = time.monotonic()

    def due(self, step: int) -> bool:
        if self.every and step % self.every == 0:
            return True
        return self.seconds > 0 and time.monotonic() - self._last >= self.seconds

    def mark(self) -> None:
        self._last = time.monotonic()


def is_procedural(recipe: dict) -> bool:
    source = str(recipe["data"]["source"])
    return source == "procedural" or source.startswith("procedural:")


def open_dataset(
    recipe: dict, train: bool = True, length: int | None = None, cache_dir: Path | None = None
):
    """The recipe's dataset: items ((3, S, S) float in [0, 1], label), with ``class_names``.

    Procedural data has a disjoint held-out stream (``train=False``); for an image folder the
    evaluation view is the centre crop of the same images (no separate split). With
    ``cache_dir`` (procedural only) the first ``data.length`` training images are cached.
    """
    from training.data import make_dataset

    data = recipe["data"]
    kwargs = {}
    if is_procedural(recipe):
        kwargs["length"] = int(length or data["length"])
    dataset = make_dataset(
        data["source"], image_size=data["image_size"], train=train, seed=recipe["seed"], **kwargs
    )
    if cache_dir is not None and data["cache"] and is_procedural(recipe) and train:
        return CachedImages(dataset, cache_dir, data["length"])
    return dataset


def held_out_images(recipe: dict) -> torch.Tensor:
    """(N, 3, S, S) the recipe's ``data.held_out`` evaluation images, in [0, 1]."""
    count = recipe["data"]["held_out"]
    held = open_dataset(recipe, train=False, length=count)
    return torch.stack([held[i][0] for i in range(count)])


def image_batches(recipe: dict, section: str, out_dir: Path, step: int, ctx: DistContext):
    """(dataset, iterator of (images, labels) batches of ``recipe[section]["batch_size"]``)
    over the training images from ``step`` on (the run's cache; this rank's share)."""
    from torch.utils.data import DataLoader

    from training.run_state import ignore_stop_signals

    dataset = open_dataset(recipe, train=True, cache_dir=out_dir / "cache")
    workers = recipe["data"]["workers"]
    loader = DataLoader(
        EpochIndexed(dataset),
        batch_sampler=StepBatchSampler(
            recipe["seed"], len(dataset), recipe[section]["batch_size"], step, ctx
        ),
        num_workers=workers,
        prefetch_factor=4 if workers else None,
        worker_init_fn=ignore_stop_signals,
    )
    return dataset, iter(loader)


def step_seed(seed: int, step: int, rank: int = 0, salt: int = 0) -> int:
    """A seed for the randomness of one step on one rank (repeatable on resume, any world size)."""
    return (seed * 1_000_003 + step * 7_919 + rank * 104_729 + salt * 15_485_863) % (2**63 - 1)


class CachedImages:
    """A procedural dataset whose rendered images are kept in a uint8 .npy memmap on disk.

    Items are pure functions of the index, so the first read renders and stores an image and
    later epochs (and the pretokenize stage) just read it back: rendering a 128 px scene costs
    about as much CPU as a tokenizer training step on it. Safe with DataLoader workers (each
    index is written by whoever reads it first; the flag is set after the pixels).

    Args:
        dataset: items ((3, S, S) float, label), with ``image(i)`` -> (uint8 (S, S, 3), label).
        folder: where the cache files live.
        count: cached items (indices >= count pass through uncached).
    """

    def __init__(self, dataset, folder: Path, count: int) -> None:
        self.dataset = dataset
        self.class_names = dataset.class_names
        self.count = count  # the cache's identity: the same file whatever len(dataset) is
        s = dataset.image_size
        stem = f"{type(dataset).__name__}-{dataset.seed}-{dataset.split}-{s}px-{self.count}"
        self.paths = [folder / f"{stem}.{kind}.npy" for kind in ("images", "labels", "done")]
        folder.mkdir(parents=True, exist_ok=True)
        specs = [
            ((self.count, s, s, 3), np.uint8),
            ((self.count,), np.int32),
            ((self.count,), np.uint8),
        ]
        for path, (shape, dtype) in zip(self.paths, specs):
            if not path.is_file():  # created once, in the main process, before workers start
                np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape).flush()
        self._arrays = None

    def __len__(self) -> int:
        return len(self.dataset)

    def _open(self):
        if self._arrays is None:  # opened lazily so that workers open their own maps
            self._arrays = [np.load(p, mmap_mode="r+") for p in self.paths]
        return self._arrays

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_arrays": None}

    def image(self, index: int) -> tuple[np.ndarray, int]:
        if index >= self.count:
            return self.dataset.image(index)
        images, labels, done = self._open()
        if done[index]:
            return np.array(images[index]), int(labels[index])
        image, label = self.dataset.image(index)
        images[index], labels[index] = image, label
        done[index] = 1
        return image, label

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.image(index)
        return torch.from_numpy(image).permute(2, 0, 1).float().div_(255.0), label
