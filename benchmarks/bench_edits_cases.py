"""The edit cases of bench_edits: held-out procedural scenes with a box, a blob or a strip."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from training.procedural import ProceduralScenes

KINDS = ("box", "blob", "outpaint")
STRIP = 64  # px cut off and grown back by the outpaint cases
GRAIN = 3.0  # luma noise (grey levels) of the "photo" half of the cases, like a camera's


@dataclass
class Case:
    """One edit: its input, what to regenerate and the truth to compare with.

    Attributes:
        kind: "box" | "blob" | "outpaint".
        grainy: the scene carries camera-like grain (every other pair of cases); the clean
            renders are flat-shaded, their only fine detail is edges and stripes.
        image: (h, w, 3) uint8 the input.
        mask: (h, w) bool pixels to inpaint (None for outpainting).
        growth: (left, top, right, bottom) px to outpaint (zeros for inpainting).
        reference: (H, W, 3) uint8 the truth (the input itself, or the full render).
        fill: (H, W) bool the pixels the edit must fill, in reference coordinates.
        origin: (x, y) of the input inside the reference.
    """

    kind: str
    grainy: bool
    image: np.ndarray
    mask: np.ndarray | None
    growth: tuple[int, int, int, int]
    reference: np.ndarray
    fill: np.ndarray
    origin: tuple[int, int]


@lru_cache(maxsize=4)
def scenes(size: int) -> ProceduralScenes:
    return ProceduralScenes(image_size=size, train=False, length=2**31 - 1)


def make_case(index: int, i: int, size: int = 512) -> Case:
    """Case ``i`` on held-out scene ``index``: kinds in turn, shapes from a seeded generator."""
    image, _ = scenes(size).render(index)
    rng = np.random.default_rng([index, 10])
    kind = KINDS[i % len(KINDS)]
    grainy = (i // len(KINDS)) % 2 == 1
    if grainy:
        noise = rng.normal(0, GRAIN, image.shape[:2])[..., None] + rng.normal(0, 1, image.shape)
        image = np.clip(image + noise, 0, 255).astype(np.uint8)
    height, width = image.shape[:2]
    if kind == "outpaint":
        fill = np.zeros((height, width), dtype=bool)
        if rng.random() < 0.5:  # grow right
            fill[:, width - STRIP :] = True
            part = image[:, : width - STRIP].copy()
            return Case(kind, grainy, part, None, (0, 0, STRIP, 0), image, fill, (0, 0))
        fill[:, :STRIP] = True
        part = image[:, STRIP:].copy()
        return Case(kind, grainy, part, None, (STRIP, 0, 0, 0), image, fill, (STRIP, 0))
    mask = box_mask(rng, (height, width)) if kind == "box" else blob_mask(rng, (height, width))
    return Case(kind, grainy, image, mask, (0, 0, 0, 0), image, mask, (0, 0))


def box_mask(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    w, h = (int(v) for v in rng.integers(40, 97, 2))
    x, y = int(rng.integers(8, width - w - 8)), int(rng.integers(8, height - h - 8))
    mask = np.zeros(shape, dtype=bool)
    mask[y : y + h, x : x + w] = True
    return mask


def blob_mask(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A union of 3-5 discs (radius 10-26 px) around one centre, like a quick brush stroke."""
    height, width = shape
    cy, cx = int(rng.integers(60, height - 60)), int(rng.integers(60, width - 60))
    yy, xx = np.mgrid[0:height, 0:width]
    mask = np.zeros(shape, dtype=bool)
    for _ in range(int(rng.integers(3, 6))):
        r = int(rng.integers(10, 27))
        y, x = cy + int(rng.integers(-30, 31)), cx + int(rng.integers(-30, 31))
        mask |= (yy - y) ** 2 + (xx - x) ** 2 <= r * r
    return mask


def edit_bbox(fill: np.ndarray, changed: np.ndarray, margin: int = 48) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) a square around the edit with ``margin`` px of picture, in the image."""
    ys, xs = np.nonzero(fill | changed)
    height, width = fill.shape
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    half = max(xs.max() - xs.min(), ys.max() - ys.min()) / 2 + margin
    half = min(half, min(height, width) / 2)
    x0 = int(np.clip(cx - half, 0, width - 2 * half))
    y0 = int(np.clip(cy - half, 0, height - 2 * half))
    return x0, y0, x0 + int(2 * half), y0 + int(2 * half)
