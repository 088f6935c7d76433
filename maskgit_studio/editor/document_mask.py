"""The selection methods of ``Document``: the cell mask and the painted pixels."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from . import cells as cellmath
from . import pixels as pixelmath


class MaskMixin:
    """Selection methods of ``Document`` (its fields: _mask, _pixels, and the gestures)."""

    @property
    def pixels(self) -> np.ndarray | None:
        """(H, W) bool pixels painted with the round brush (read-only), or None."""
        return self._pixels

    def pixel_mask(self) -> np.ndarray:
        """(H, W) bool: the selection in document pixels (selected cells and painted pixels)."""
        mask = cellmath.cells_to_pixels(self._mask, self.shape, self.cell_size)
        return mask | self._pixels if self._pixels is not None else mask

    def selection_cells(self) -> np.ndarray:
        """(rows, cols) bool: every cell the selection touches (what regenerates at the
        document's scale)."""
        if self._pixels is None:
            return self._mask
        return self._mask | cellmath.pixels_to_cells(self._pixels, self.cell_size)

    def mask_display(self) -> tuple[np.ndarray, int]:
        """What to draw as the selection: (cells, cell px), or (pixels, 1) when pixels exist."""
        if self._pixels is None:
            return self._mask, self.cell_size
        return self.pixel_mask(), 1

    # ---- mask ------------------------------------------------------------------------------
    def paint(self, cells: Iterable[tuple[int, int]], size: int = 1, value: bool = True) -> bool:
        """Stamp a square brush of ``size`` cells at each (row, col); True if anything changed.
        Erasing also erases the painted pixels inside those cells."""
        changed = False
        with self.gesture("Erase" if not value else "Brush stroke"):
            stamped = np.zeros(self.grid_shape, dtype=bool)
            for row, col in cells:
                changed |= cellmath.stamp(self._mask, row, col, size, value)
                cellmath.stamp(stamped, row, col, size, True)
            if not value and self._pixels is not None:
                inside = cellmath.cells_to_pixels(stamped, self.shape, self.cell_size)
                if (self._pixels & inside).any():
                    self._set_pixels(self._pixels & ~inside)
                    changed = True
            if changed:
                self._touch("mask")
        return changed

    def paint_pixels(
        self, centres: Iterable[tuple[float, float]], radius: float, value: bool = True
    ) -> bool:
        """Stamp a round brush of ``radius`` px at each (x, y) document point (pixel centres
        within the radius); True if anything changed. The cell mask becomes pixels first."""
        centres = list(centres)
        with self.gesture("Erase" if not value else "Brush stroke"):
            pixels = self.pixel_mask()  # the whole selection, as pixels
            had_cells = bool(self._mask.any())
            changed = False
            for x, y in centres:
                changed |= pixelmath.stamp_disc(pixels, x, y, radius, value)
            if changed or had_cells:
                self._mask = np.zeros(self.grid_shape, dtype=bool)
                self._set_pixels(pixels)
                self._touch("mask")
        return changed

    def _set_pixels(self, pixels: np.ndarray | None) -> None:
        if pixels is None or not pixels.any():
            self._pixels = None
            return
        pixels = np.array(pixels, dtype=bool)  # our own copy, frozen: snapshots share it
        pixels.flags.writeable = False
        self._pixels = pixels

    def set_mask(self, cells: np.ndarray, label: str = "Set mask") -> None:
        """Replace the whole (rows, cols) cell mask."""
        cells = np.asarray(cells, dtype=bool)
        if cells.shape != self.grid_shape:
            raise ValueError(f"mask has {cells.shape} cells, the document has {self.grid_shape}")
        with self.gesture(label):
            self._mask = cells.copy()
            self._pixels = None
            self._touch("mask")

    def set_pixels(self, pixels: np.ndarray, label: str = "Set mask") -> None:
        """Replace the whole selection by an (H, W) pixel mask."""
        pixels = np.asarray(pixels, dtype=bool)
        if pixels.shape != self.shape:
            raise ValueError(f"mask is {pixels.shape}, the document is {self.shape}")
        with self.gesture(label):
            self._mask = np.zeros(self.grid_shape, dtype=bool)
            self._set_pixels(pixels)
            self._touch("mask")

    def clear_mask(self) -> None:
        self.set_mask(np.zeros(self.grid_shape, dtype=bool), "Clear mask")

    def invert_mask(self) -> None:
        if self._pixels is not None:
            self.set_pixels(~self.pixel_mask(), "Invert mask")
        else:
            self.set_mask(~self._mask, "Invert mask")

    def grow_mask(self, steps: int = 1) -> None:
        """Add ``steps`` rings of cells (a painted-pixel selection grows by as many cell
        widths)."""
        if self._pixels is not None:
            grown = pixelmath.grow_pixels(self.pixel_mask(), steps * self.cell_size)
            self.set_pixels(grown, "Grow mask")
        else:
            self.set_mask(cellmath.grow(self._mask, steps), "Grow mask")
