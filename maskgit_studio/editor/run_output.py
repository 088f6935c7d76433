"""What a run made, kept with its log so it can be brought back: the pixels it may have changed.

A run's output is stored as the rectangle around its changed pixels, one patch per variation
(never the untouched rest of the image), so a project with many runs stays small. Restoring
pastes the patch back: onto the canvas it was made on, or onto its input canvas for an outpaint
that was undone; a run that made the whole canvas (a generation) replaces it.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from PIL import Image

from ..image_io import DECODE_ERRORS, open_image


def png_text(image: np.ndarray) -> str:
    """An (H, W, 3) or (H, W) uint8 array as base64 PNG text (for JSON)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", compress_level=6)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def png_array(text: str, mode: str = "RGB") -> np.ndarray:
    """The array of ``png_text`` (ValueError when it is not a PNG, or over the pixel limit:
    read with the one safe image opener)."""
    try:
        data = base64.b64decode(text, validate=True)
        with open_image(data, name="a run's stored picture", formats=("PNG",)) as im:
            return np.asarray(im.convert(mode), dtype=np.uint8)
    except (*DECODE_ERRORS, binascii.Error) as exc:
        raise ValueError(f"a run's stored picture is damaged ({exc})") from None


@dataclass(frozen=True)
class RunOutput:
    """The pixels of a run's K candidate documents that may differ from its input.

    Attributes:
        shape: (H, W) of the output document.
        input_shape: (h, w) of the document the run started from.
        offset: (dx, dy) of the input's top-left inside the output (outpainting).
        rect: (y0, x0, y1, x1) the rectangle around the changed pixels (output pixels).
        changed: (y1 - y0, x1 - x0) bool the pixels inside ``rect`` that may differ.
        patches: (K, y1 - y0, x1 - x0, 3) uint8 each variation's pixels inside ``rect``.
    """

    shape: tuple[int, int]
    input_shape: tuple[int, int]
    offset: tuple[int, int]
    rect: tuple[int, int, int, int]
    changed: np.ndarray
    patches: np.ndarray

    def __post_init__(self) -> None:
        y0, x0, y1, x1 = self.rect
        size = (y1 - y0, x1 - x0)
        if self.changed.shape != size or self.patches.shape[1:] != (*size, 3):
            raise ValueError(f"a run's output does not match its rectangle {self.rect}")

    @classmethod
    def from_images(
        cls,
        images: list[np.ndarray],
        changed: np.ndarray,
        offset: tuple[int, int],
        input_shape: tuple[int, int],
    ) -> RunOutput:
        """From a run's K candidate documents and their (H, W) ``changed`` pixels."""
        changed = np.asarray(changed, dtype=bool)
        height, width = changed.shape
        if changed.any():
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            rect = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
        else:
            rect = (0, 0, 0, 0)
        y0, x0, y1, x1 = rect
        patches = np.stack([np.asarray(im)[y0:y1, x0:x1] for im in images]).astype(np.uint8)
        return cls(
            (int(height), int(width)),
            (int(input_shape[0]), int(input_shape[1])),
            (int(offset[0]), int(offset[1])),
            rect,
            changed[y0:y1, x0:x1].copy(),
            patches,
        )

    @property
    def variations(self) -> int:
        return int(self.patches.shape[0])

    @property
    def whole(self) -> bool:
        """The run made the whole canvas (a generation): restoring replaces the image."""
        return self.rect == (0, 0, *self.shape) and bool(self.changed.all())

    def over(self, image: np.ndarray, variation: int) -> tuple[np.ndarray, tuple[int, int]] | None:
        """Variation ``variation`` pasted onto ``image``: (new image, offset of ``image`` in it),
        or None when ``image`` is neither the canvas the run made nor the one it started from."""
        patch = self.patches[variation]
        if self.whole:
            return patch.copy(), (0, 0)
        shape = tuple(image.shape[:2])
        if shape == self.shape:
            out, offset = np.array(image), (0, 0)
        elif shape == self.input_shape and self._covers_new_area():
            out, offset = np.zeros((*self.shape, 3), np.uint8), self.offset
            dx, dy = offset
            out[dy : dy + shape[0], dx : dx + shape[1]] = image
        else:
            return None
        y0, x0, y1, x1 = self.rect
        region = out[y0:y1, x0:x1]
        region[self.changed] = patch[self.changed]
        return out, offset

    def _covers_new_area(self) -> bool:
        new = np.ones(self.shape, dtype=bool)
        dx, dy = self.offset
        h, w = self.input_shape
        new[dy : dy + h, dx : dx + w] = False
        y0, x0, y1, x1 = self.rect
        covered = np.zeros(self.shape, dtype=bool)
        covered[y0:y1, x0:x1] = self.changed
        return bool((covered | ~new).all())

    @cached_property
    def _json(self) -> dict[str, Any]:  # PNG encoding is slow: once per output, not per save
        return {
            "shape": list(self.shape),
            "input_shape": list(self.input_shape),
            "offset": list(self.offset),
            "rect": list(self.rect),
            "changed": png_text(self.changed.astype(np.uint8) * 255) if self.changed.size else "",
            "patches": [png_text(p) for p in self.patches] if self.changed.size else [],
        }

    def to_json(self) -> dict[str, Any]:
        return self._json

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunOutput:
        y0, x0, y1, x1 = (int(v) for v in data["rect"])
        if data["changed"]:
            changed = png_array(data["changed"], "L") > 127
            patches = np.stack([png_array(p) for p in data["patches"]])
        else:
            changed = np.zeros((y1 - y0, x1 - x0), dtype=bool)
            patches = np.zeros((1, y1 - y0, x1 - x0, 3), np.uint8)
        return cls(
            tuple(int(v) for v in data["shape"]),  # type: ignore[arg-type]
            tuple(int(v) for v in data["input_shape"]),  # type: ignore[arg-type]
            tuple(int(v) for v in data["offset"]),  # type: ignore[arg-type]
            (y0, x0, y1, x1),
            changed,
            patches,
        )
