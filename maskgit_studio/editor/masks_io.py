"""Import and export masks as greyscale PNG images the size of the document (white = edit).

Import reads masks exactly as the command line does (``image_io.load_mask``: the one safe
opener and the one rule for alpha), so a mask file selects the same cells in both.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..image_io import load_mask
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

    A pixel is selected when it is white (see ``image_io.load_mask`` for alpha); a cell is
    selected when any of its pixels is.

    Raises:
        ValueError: unreadable or unsupported image, or a size different from the document's.
    """
    pixels = load_mask(Path(path), tuple(shape_hw))
    return pixels_to_cells(pixels, cell)
