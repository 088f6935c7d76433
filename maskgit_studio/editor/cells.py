"""Token-cell geometry of a document: the grid, brush stamps, snapping, mask conversions.

The cell grid is anchored at document pixel (0, 0); a cell is ``cell`` x ``cell`` document
pixels (``cell = f * scale``, f the model's downsample factor). The last row and column may be
partial. A cell mask is a (rows, cols) bool array; a pixel mask is (H, W) bool.
"""

from __future__ import annotations

import numpy as np

from .pixels import grow_pixels


def grid_shape(height: int, width: int, cell: int) -> tuple[int, int]:
    """(rows, cols) of the grid covering an (height, width) image; partial cells count."""
    if cell < 1:
        raise ValueError(f"cell size must be >= 1 px, got {cell}")
    return -(-height // cell), -(-width // cell)


def cells_to_pixels(cells: np.ndarray, shape_hw: tuple[int, int], cell: int) -> np.ndarray:
    """Upsample a (rows, cols) cell mask to an (H, W) pixel mask (partial cells cropped)."""
    height, width = shape_hw
    if cells.shape != grid_shape(height, width, cell):
        raise ValueError(f"cell mask {cells.shape} does not match image {shape_hw} / cell {cell}")
    full = np.repeat(np.repeat(cells, cell, axis=0), cell, axis=1)  # (rows*cell, cols*cell)
    return full[:height, :width]


def pixels_to_cells(pixels: np.ndarray, cell: int) -> np.ndarray:
    """A cell is selected when any of its pixels is: (H, W) bool -> (rows, cols) bool."""
    height, width = pixels.shape
    rows, cols = grid_shape(height, width, cell)
    padded = np.zeros((rows * cell, cols * cell), dtype=bool)
    padded[:height, :width] = pixels
    return padded.reshape(rows, cell, cols, cell).any(axis=(1, 3))


def cell_at(x: float, y: float, cell: int) -> tuple[int, int]:
    """(row, col) of the cell holding document point (x, y); may lie outside the grid."""
    return int(np.floor(y / cell)), int(np.floor(x / cell))


def line_cells(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    """Every (row, col) on the straight segment between two cells (Bresenham), ends included.

    A fast mouse skips cells between move events; the stroke must not have gaps.
    """
    (r0, c0), (r1, c1) = start, end
    dr, dc = abs(r1 - r0), abs(c1 - c0)
    sr, sc = (1 if r1 > r0 else -1), (1 if c1 > c0 else -1)
    err = dc - dr
    out = [(r0, c0)]
    while (r0, c0) != (r1, c1):
        e2 = 2 * err
        if e2 > -dr:
            err -= dr
            c0 += sc
        if e2 < dc:
            err += dc
            r0 += sr
        out.append((r0, c0))
    return out


def brush_footprint(row: int, col: int, size: int) -> tuple[int, int, int, int]:
    """Cell rectangle (r0, c0, r1, c1), end-exclusive, of a square brush of ``size`` cells.

    Odd sizes are centred on the cell; even sizes extend one more cell up/left.
    """
    if size < 1:
        raise ValueError(f"brush size must be >= 1 cell, got {size}")
    r0, c0 = row - size // 2, col - size // 2
    return r0, c0, r0 + size, c0 + size


def stamp(cells: np.ndarray, row: int, col: int, size: int, value: bool) -> bool:
    """Set the brush footprint at (row, col) to ``value`` in place (clipped to the grid).

    Returns:
        True if any cell changed.
    """
    r0, c0, r1, c1 = brush_footprint(row, col, size)
    rows, cols = cells.shape
    r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, rows), min(c1, cols)
    if r0 >= r1 or c0 >= c1:
        return False
    region = cells[r0:r1, c0:c1]
    changed = bool((region != value).any())
    region[...] = value
    return changed


def grow(cells: np.ndarray, steps: int = 1) -> np.ndarray:
    """Dilate a cell mask by ``steps`` cells in all 8 directions: (rows, cols) -> same shape."""
    out = cells.copy()
    for _ in range(steps):
        padded = np.pad(out, 1)
        grown = np.zeros_like(out)
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                grown |= padded[dr : dr + out.shape[0], dc : dc + out.shape[1]]
        out = grown
    return out


def regrid(
    cells: np.ndarray, shape_hw: tuple[int, int], old_cell: int, new_cell: int
) -> np.ndarray:
    """Carry a cell mask to another cell size: every new cell touching an old selected pixel."""
    if old_cell == new_cell:
        return cells.copy()
    return pixels_to_cells(cells_to_pixels(cells, shape_hw, old_cell), new_cell)


def snap_rect(
    x0: float, y0: float, x1: float, y1: float, cell: int, shape_hw: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Snap a dragged rectangle (any corner order) outward to whole cells, clipped to the image.

    Returns:
        (x, y, w, h) in document pixels, at least one cell (or up to the image edge) each way.
    """
    height, width = shape_hw
    rows, cols = grid_shape(height, width, cell)

    def snap(a: float, b: float, limit: int, count: int) -> tuple[int, int]:
        lo, hi = sorted((min(max(a, 0.0), limit), min(max(b, 0.0), limit)))
        start = min(int(np.floor(lo / cell)), count - 1)  # a click on the far edge -> last cell
        stop = max(int(np.ceil(hi / cell)), start + 1)
        return start * cell, min(stop * cell, limit)

    left, right = snap(x0, x1, width, cols)
    top, bottom = snap(y0, y1, height, rows)
    return left, top, right - left, bottom - top


def rect_cells(
    box_xywh: tuple[int, int, int, int], shape_hw: tuple[int, int], cell: int, ring: int = 0
) -> np.ndarray:
    """(rows, cols) bool: cells touched by a pixel box, grown by ``ring`` cells, clipped."""
    x, y, w, h = box_xywh
    rows, cols = grid_shape(*shape_hw, cell)
    out = np.zeros((rows, cols), dtype=bool)
    r0, c0 = y // cell - ring, x // cell - ring
    r1, c1 = -(-(y + h) // cell) + ring, -(-(x + w) // cell) + ring
    out[max(r0, 0) : max(r1, 0), max(c0, 0) : max(c1, 0)] = True
    return out


def carry_selection(
    mask_pixels: np.ndarray,
    boxes: tuple,
    old_shape: tuple[int, int],
    new_shape: tuple[int, int],
    offset: tuple[int, int],
    cell: int,
    replaced: bool,
) -> tuple[np.ndarray, tuple]:
    """The mask and boxes after a result lands on the canvas.

    Args:
        mask_pixels: (H, W) bool the selected cells in pixels of the old canvas.
        boxes: the edit boxes (with ``moved(dx, dy)`` and ``xywh``).
        old_shape / new_shape: (H, W) of the canvas before and after.
        offset: (dx, dy) of the old canvas inside the new one (a grown canvas).
        cell: document pixels per cell.
        replaced: a whole new canvas (a generation): the mask goes, boxes that fit stay.

    Returns:
        (mask, boxes): the mask on the new grid, with the cells of new canvas added; the boxes
        moved by ``offset``.
    """
    height, width = new_shape
    if replaced:
        fits = tuple(b for b in boxes if b.x + b.w <= width and b.y + b.h <= height)
        return np.zeros(grid_shape(height, width, cell), dtype=bool), fits
    dx, dy = offset
    pixels = np.ones(new_shape, dtype=bool)  # new canvas is selected...
    pixels[dy : dy + old_shape[0], dx : dx + old_shape[1]] = mask_pixels  # ...the old keeps its
    return pixels_to_cells(pixels, cell), tuple(b.moved(dx, dy) for b in boxes)


MAX_RING_PIXELS = 4_000_000  # the ring is drawn on a coarser grid beyond this


def feather_ring(
    cells: np.ndarray, shape_hw: tuple[int, int], cell: int, radius: int
) -> tuple[np.ndarray, int]:
    """The band a feather of ``radius`` px blends outside the selected cells.

    Returns:
        (ring, unit): (h, w) bool on a grid of ``unit`` px squares (``unit`` divides the cell
        size and, where it can, the radius, so the band is exact): the pixels within
        ``radius`` (square distance, as the composite) of a selected cell, not in one.
    """
    height, width = shape_hw
    if radius <= 0 or not cells.any():
        return np.zeros((1, 1), dtype=bool), max(cell, 1)
    unit = np.gcd(cell, radius)
    while unit < cell and -(-height // unit) * -(-width // unit) > MAX_RING_PIXELS:
        unit = next(u for u in range(unit + 1, cell + 1) if cell % u == 0)
    per_cell, reach = cell // unit, max(round(radius / unit), 1)
    fine = np.repeat(np.repeat(cells, per_cell, axis=0), per_cell, axis=1)
    fine = fine[: -(-height // unit), : -(-width // unit)]
    return grow_pixels(fine, reach) & ~fine, int(unit)
