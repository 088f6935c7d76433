"""The small, immutable document fields undo remembers, and the image validation rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shapes import Box, Growth


def check_image(image: np.ndarray) -> np.ndarray:
    """Validate an (H, W, 3) uint8 image and return a read-only C-contiguous copy-if-needed."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError("the image is empty")
    image = np.ascontiguousarray(image)
    if image.flags.writeable:
        image = image.copy()
        image.flags.writeable = False
    return image


@dataclass(frozen=True)
class Snapshot:
    """The small document fields, as remembered by undo (the image is kept as a delta)."""

    mask: np.ndarray
    boxes: tuple[Box, ...]
    growth: Growth
    factor: int
    scale: int
    original: np.ndarray  # shared reference, never copied
    origin: tuple[int, int]
    blank: bool
    pixels: np.ndarray | None = None  # (H, W) bool painted pixels; shared, read-only

    @property
    def nbytes(self) -> int:
        return int(self.mask.nbytes) + (int(self.pixels.nbytes) if self.pixels is not None else 0)

    def same_as(self, other: Snapshot) -> bool:
        return (
            self.boxes == other.boxes
            and self.growth == other.growth
            and (self.factor, self.scale, self.origin, self.blank)
            == (other.factor, other.scale, other.origin, other.blank)
            and self.original is other.original
            and np.array_equal(self.mask, other.mask)
            and _same_pixels(self.pixels, other.pixels)
        )


def _same_pixels(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a is b or np.array_equal(a, b)
