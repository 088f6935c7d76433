"""Real images for evaluation: the judge's training and held-out sets and the FD reference set.

Splits never overlap. Procedural data has a training stream and a disjoint held-out stream: the
judge trains on the training stream; the held-out stream gives, in order, the judge's held-out
test images, the real reference set for FD/KID, and a second real set of the same size (the FD
floor: the distance between two real sets). An image folder is split by index: every fifth
image is held out (the judge's test set and the FD reference); the rest trains the judge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from training.data import make_dataset
from training.judge import JUDGE_SIZE
from training.procedural import ProceduralScenes

log = logging.getLogger(__name__)

HOLDOUT_EVERY = 5  # image folders: every 5th image is held out


@dataclass
class ImageSet:
    """Real images with labels: images (N, 3, S, S) uint8, labels (N,) int64 (dataset classes)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, keep: torch.Tensor) -> ImageSet:
        return ImageSet(self.images[keep], self.labels[keep])

    def floats(self) -> torch.Tensor:
        """(N, 3, S, S) float32 in [0, 1]."""
        return self.images.float() / 255.0


def _area_resize(array: np.ndarray, size: int) -> np.ndarray:
    """(S, S, 3) uint8 -> (size, size, 3) uint8 by area averaging (exact for integer factors)."""
    side = array.shape[0]
    if side % size == 0 and array.shape[1] == side:
        k = side // size
        mean = array.reshape(size, k, size, k, 3).mean(axis=(1, 3))
        return np.clip(np.rint(mean), 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(array).resize((size, size), Image.Resampling.BOX))


def load_images(dataset, indices: Sequence[int], size: int | None = None) -> ImageSet:
    """Items ``indices`` of a dataset as uint8, optionally area-resized to ``size``.

    Args:
        dataset: a ProceduralScenes / ImageFolderDataset (``image(i)`` -> (uint8 HWC, label)) or
            any dataset whose items are ((3, S, S) float in [0, 1], label).
        indices: which items.
        size: output side (None keeps the dataset's size); 64 is the judge's size.
    """
    images, labels = [], []
    for i in indices:
        if hasattr(dataset, "image"):
            array, label = dataset.image(int(i))
        else:
            item, label = dataset[int(i)]
            array = (item.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        if size is not None and array.shape[0] != size:
            array = _area_resize(array, size)
        # Per-image work stays in numpy/PIL: tiny torch ops per image are slow when threaded.
        images.append(torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1))
        labels.append(int(label))
    if not images:
        raise ValueError("no images selected from the dataset")
    return ImageSet(torch.stack(images), torch.tensor(labels, dtype=torch.long))


def _is_procedural(spec: str) -> bool:
    return spec == "procedural" or spec.startswith("procedural:")


def dataset_class_names(spec: str, image_size: int) -> list[str]:
    """The class names of a dataset spec (cheap for procedural data; scans a folder)."""
    if _is_procedural(spec):
        return list(ProceduralScenes.class_names)
    return list(make_dataset(spec, image_size=image_size, train=False).class_names)


def dataset_identity(spec: str, image_size: int) -> dict:
    """What identifies a dataset for the judge cache: spec, size, and (folders) its size."""
    identity: dict = {"spec": spec, "image_size": image_size}
    if not _is_procedural(spec):
        ds = make_dataset(spec, image_size=image_size, train=False)
        identity |= {"images": len(ds), "classes": list(ds.class_names)}
    return identity


@dataclass
class HeldOut:
    """Held-out real images at the model's size: judge test set, FD reference, FD floor set."""

    judge_test: ImageSet
    reference: ImageSet
    floor: ImageSet | None


def _round_robin(indices: list[int], labels: Sequence[int]) -> list[int]:
    """Reorder indices so classes alternate: any prefix is as class-balanced as it can be."""
    by_class: dict[int, list[int]] = {}
    for i in indices:
        by_class.setdefault(int(labels[i]), []).append(i)
    queues = [by_class[k] for k in sorted(by_class)]
    order = []
    for rank in range(max((len(q) for q in queues), default=0)):
        order += [q[rank] for q in queues if rank < len(q)]
    return order


def judge_training_set(spec: str, image_size: int, count: int) -> ImageSet:
    """Up to ``count`` real training-split images, rendered at ``image_size``, as 64 px."""
    if _is_procedural(spec):
        ds = make_dataset(spec, image_size=image_size, train=True, length=max(count, 1))
        indices: Sequence[int] = range(count)
    else:
        ds = make_dataset(spec, image_size=image_size, train=True)
        indices = [i for i in range(len(ds)) if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1][:count]
    log.info("loading %d judge training images from %s", len(indices), spec)
    return load_images(ds, indices, size=JUDGE_SIZE)


def held_out_sets(spec: str, image_size: int, judge_test: int, reference: int) -> HeldOut:
    """Held-out real images at ``image_size`` (see the module docstring for the splits).

    Args:
        spec: a ``make_dataset`` spec.
        image_size: the model's image size.
        judge_test: images for the judge's held-out accuracy.
        reference: images in the FD reference set (and in the floor set, procedural only).
    """
    if _is_procedural(spec):
        total = judge_test + 2 * reference
        ds = make_dataset(spec, image_size=image_size, train=False, length=total)
        log.info("rendering %d held-out images from %s", total, spec)
        everything = load_images(ds, range(total))
        test = everything.subset(torch.arange(0, judge_test))
        ref = everything.subset(torch.arange(judge_test, judge_test + reference))
        floor = everything.subset(torch.arange(judge_test + reference, total))
        return HeldOut(test, ref, floor)
    ds = make_dataset(spec, image_size=image_size, train=False)
    held = _round_robin(
        [i for i in range(len(ds)) if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1], ds.labels
    )
    if not held:
        raise ValueError(f"dataset {spec} is too small to hold images out for evaluation")
    images = load_images(ds, held[: max(judge_test, reference)])
    # A folder's held-out images serve as both the judge's test set and the FD reference.
    test = images.subset(torch.arange(min(judge_test, len(images))))
    return HeldOut(test, images.subset(torch.arange(min(reference, len(images)))), None)


__all__ = [
    "HeldOut",
    "ImageSet",
    "dataset_class_names",
    "dataset_identity",
    "held_out_sets",
    "judge_training_set",
    "load_images",
]
