"""Import and export masks as greyscale PNG images the size of the document (white = edit)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .atomic import atomic_write
from .cells import cells_to_pixels, pixels_to_cells


def export_mask(
    path: str | os.PathLike, cells: np.ndarray, shape_hw: tuple[int, int], cell: int
) -> None:
    """Write the (rows, cols) cell mask as an (H, W) PNG: 255 where selected, 0 elsewhere."""
    pixels = cells_to_pixels(cells, shape_hw, cell).astype(np.uint8) * 255
    atomic_write(path, lambda handle: Image.fromarray(pixels, mode="L").save(handle, "PNG"))


def import_mask(path: str | os.PathLike, shape_hw: tuple[int, int], cell: int) -> np.ndarray:
    """Read a mask image the size of the document into (rows, cols) cells.

    A pixel is selected when its grey value (or alpha, for images with transparency) is >= 128;
    a cell is selected when any of its pixels is.

    Raises:
        ValueError: unreadable image, or a size different from the document's.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA") or "transparency" in im.info:
                grey = np.asarray(im.convert("RGBA"))[..., 3]
            else:
                grey = np.asarray(im.convert("L"))
    except FileNotFoundError as exc:
        raise ValueError(f"{path} does not exist") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path.name} is not a readable image ({exc})") from exc
    if grey.shape != tuple(shape_hw):
        raise ValueError(
            f"the mask {path.name} is {grey.shape[1]}x{grey.shape[0]} px, "
            f"the document is {shape_hw[1]}x{shape_hw[0]} px"
        )
    return pixels_to_cells(grey >= 128, cell)
