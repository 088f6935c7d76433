"""Real images for evaluation: the judge's training and held-out sets and the FD reference set.

Splits never overlap. Procedural data has a training stream and a disjoint held-out stream
(``train=False``: a different random stream, so no held-out scene is any training scene whatever
the recipe's ``data.length``). Training uses the held-out stream's first items (``data.held_out``,
``pretokenize.held_out``) to watch its losses, so evaluation starts at item EVAL_OFFSET of it:
no image evaluated here was ever seen by training, not even for monitoring. The judge trains on
the training stream (natural, independent-backdrop and no-object scenes); the held-out stream
gives, in order, the judge's held-out test images, the real reference set for FD/KID, and a
second real set of the same size (the FD floor: the distance between two real sets), plus
held-out independent-backdrop and no-object scenes. An image folder is split by index: every
fifth image is held out (the judge's test set and the FD reference); the rest trains the judge.
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
from training.procedural import NO_OBJECT, ProceduralScenes

log = logging.getLogger(__name__)

HOLDOUT_EVERY = 5  # image folders: every 5th image is held out
# Procedural evaluation images start at this item of the held-out stream; training's monitoring
# sets (data.held_out, pretokenize.held_out: at most a few thousand) lie below it. A multiple of
# the class count, so a reference set of N x 12 images holds every class N times.
EVAL_OFFSET = 1_200_000


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

    @staticmethod
    def cat(parts: Sequence[ImageSet]) -> ImageSet:
        return ImageSet(torch.cat([p.images for p in parts]), torch.cat([p.labels for p in parts]))


def _area_resize(array: np.ndarray, size: int) -> np.ndarray:
    """(S, S, 3) uint8 -> (size, size, 3) uint8 by area averaging (exact for integer factors)."""
    side = array.shape[0]
    if side % size == 0 and array.shape[1] == side:
        k = side // size
        mean = array.reshape(size, k, size, k, 3).mean(axis=(1, 3))
        return np.clip(np.rint(mean), 0, 255).astype(np.uint8)
    return np.array(Image.fromarray(array).resize((size, size), Image.Resampling.BOX))


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


def judge_class_names(spec: str, image_size: int) -> list[str]:
    """The judge's classes: the dataset's, plus NO_OBJECT for procedural data."""
    names = dataset_class_names(spec, image_size)
    return names + [NO_OBJECT] if _is_procedural(spec) else names


def dataset_identity(spec: str, image_size: int) -> dict:
    """What identifies a dataset for the judge cache: spec, size, and (folders) its size."""
    identity: dict = {"spec": spec, "image_size": image_size}
    if not _is_procedural(spec):
        ds = make_dataset(spec, image_size=image_size, train=False)
        identity |= {"images": len(ds), "classes": list(ds.class_names)}
    return identity


@dataclass
class HeldOut:
    """Held-out real images at the model's size.

    judge_test: the judge's test set (and the tokenizer's); reference: the FD reference; floor:
    a second real set for the FD floor; independent / empty: independent-backdrop scenes (their
    class labels) and no-object scenes (labelled NO_OBJECT). The last three: procedural only.
    """

    judge_test: ImageSet
    reference: ImageSet
    floor: ImageSet | None
    independent: ImageSet | None = None
    empty: ImageSet | None = None


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


def _procedural_items(
    spec: str, image_size: int, train: bool, scenes: str, start: int, count: int, size=None
) -> ImageSet | None:
    if count < 1:
        return None
    ds = make_dataset(spec, image_size=image_size, train=train, length=start + count, scenes=scenes)
    return load_images(ds, range(start, start + count), size=size)


def judge_training_set(
    spec: str,
    image_size: int,
    count: int,
    independent_share: float = 0.0,
    empty_share: float = 0.0,
) -> ImageSet:
    """Up to ``count`` real training-split images of a model of ``image_size``, as 64 px.

    Procedural data (rendered at 64 px, or ``image_size`` if smaller): ``independent_share``
    of them independent-backdrop scenes and ``empty_share`` no-object scenes (label
    ``len(class_names)``, i.e. NO_OBJECT), the rest natural scenes, each kind from the start
    of its own training stream.
    """
    if _is_procedural(spec):
        n_independent = round(count * independent_share)
        n_empty = round(count * empty_share)
        counts = {
            "natural": count - n_independent - n_empty,
            "independent": n_independent,
            "empty": n_empty,
        }
        log.info("rendering judge training scenes from %s: %s", spec, counts)
        # Scenes live in world units, so rendering at the judge's 64 px is the model-size
        # render area-downsampled, at a fraction of the cost.
        render_size = min(image_size, JUDGE_SIZE)
        parts = [
            _procedural_items(spec, render_size, True, kind, 0, n, size=JUDGE_SIZE)
            for kind, n in counts.items()
        ]
        return ImageSet.cat([p for p in parts if p is not None])
    ds = make_dataset(spec, image_size=image_size, train=True)
    indices = [i for i in range(len(ds)) if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1][:count]
    log.info("loading %d judge training images from %s", len(indices), spec)
    return load_images(ds, indices, size=JUDGE_SIZE)


def held_out_sets(
    spec: str, image_size: int, judge_test: int, reference: int, scene_test: int = 0
) -> HeldOut:
    """Held-out real images at ``image_size`` (see the module docstring for the splits).

    Args:
        spec: a ``make_dataset`` spec.
        image_size: the model's image size.
        judge_test: images for the judge's held-out accuracy.
        reference: images in the FD reference set (and in the floor set, procedural only).
        scene_test: independent-backdrop scenes, and half as many no-object scenes
            (procedural only; 0 = none).
    """
    if _is_procedural(spec):
        total = judge_test + 2 * reference
        log.info("rendering %d held-out images from %s", total + scene_test * 3 // 2, spec)
        everything = _procedural_items(spec, image_size, False, "natural", EVAL_OFFSET, total)
        assert everything is not None
        test = everything.subset(torch.arange(0, judge_test))
        ref = everything.subset(torch.arange(judge_test, judge_test + reference))
        floor = everything.subset(torch.arange(judge_test + reference, total))
        independent = _procedural_items(
            spec, image_size, False, "independent", EVAL_OFFSET, scene_test
        )
        empty = _procedural_items(
            spec,
            image_size,
            False,
            "empty",
            EVAL_OFFSET,
            max(scene_test // 2, 1 if scene_test else 0),
        )
        return HeldOut(test, ref, floor, independent, empty)
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
    "EVAL_OFFSET",
    "HeldOut",
    "ImageSet",
    "dataset_class_names",
    "dataset_identity",
    "held_out_sets",
    "judge_class_names",
    "judge_training_set",
    "load_images",
]
