"""Document <-> token-cell geometry for edits (pure numpy).

A document of any size is covered by a grid of token cells anchored at document pixel (0, 0).
At working scale ``s`` (a positive integer) one cell is ``c = f * s`` document pixels on a side,
where ``f`` is the tokenizer's downsample factor; the last row / column may be partial. The model
sees a *window* of ``g x g`` cells (``g`` = the transformer's grid size) which is cropped from
the document (edge-replicated where it reaches past the document), resized by ``1 / s`` to the
model resolution ``g * f``, edited, and resized back.

This module turns pixel masks, boxes and canvas growth into cell grids, picks working scales,
and (``editing_passes``) plans the window passes of an edit. Pixel work (resampling, feathered composite) lives in
``editing_composite``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .editing_passes import EditPass, Window, cells_bbox, dilate_cells, plan_passes

# The official box-edit recipe grows the token box by one token on every side.
BOX_RING = 1


def cell_grid_shape(shape_hw: tuple[int, int], cell: int) -> tuple[int, int]:
    """(rows, cols) of the cell grid covering a (H, W) document; the last ones may be partial."""
    height, width = _check_shape(shape_hw)
    if cell < 1:
        raise ValueError(f"cell size must be >= 1 px, got {cell}")
    return math.ceil(height / cell), math.ceil(width / cell)


def pixel_mask_to_cells(mask: np.ndarray, cell: int) -> np.ndarray:
    """Snap a pixel mask to token cells: a cell regenerates if ANY of its pixels is selected.

    Any-pixel snapping guarantees every pixel the user painted is regenerated.

    Args:
        mask: (H, W) bool (or 0/1) pixel mask.
        cell: document pixels per cell side.

    Returns:
        (rows, cols) bool cell grid.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be a 2-D (H, W) array, got shape {mask.shape}")
    rows, cols = cell_grid_shape(mask.shape, cell)
    padded = np.zeros((rows * cell, cols * cell), dtype=bool)
    padded[: mask.shape[0], : mask.shape[1]] = mask.astype(bool)
    return padded.reshape(rows, cell, cols, cell).any(axis=(1, 3))  # (rows, cols)


def cells_to_pixels(cells: np.ndarray, cell: int, shape_hw: tuple[int, int]) -> np.ndarray:
    """Upsample a (rows, cols) cell grid to a (H, W) bool pixel mask (cropped to the document)."""
    height, width = _check_shape(shape_hw)
    full = np.repeat(np.repeat(np.asarray(cells, dtype=bool), cell, axis=0), cell, axis=1)
    if full.shape[0] < height or full.shape[1] < width:
        raise ValueError(f"cell grid {cells.shape} x {cell} px does not cover {shape_hw}")
    return full[:height, :width]


def box_to_cells(
    shape_hw: tuple[int, int], box_xywh: tuple[int, int, int, int], cell: int, ring: int = BOX_RING
) -> np.ndarray:
    """Cells a box edit regenerates: every cell the box touches, grown by ``ring`` cells.

    Args:
        shape_hw: (H, W) of the document.
        box_xywh: (x, y, w, h) in document pixels; it is clipped to the document.
        cell: document pixels per cell side.
        ring: cells added on every side (official recipe: 1), clipped to the grid.

    Returns:
        (rows, cols) bool cell grid.
    """
    height, width = _check_shape(shape_hw)
    x, y, w, h = (int(v) for v in box_xywh)
    if w <= 0 or h <= 0:
        raise ValueError(f"box width and height must be > 0, got {w}x{h}")
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x0 >= x1 or y0 >= y1:
        raise ValueError(f"box {box_xywh} lies outside the {width}x{height} image")
    rows, cols = cell_grid_shape(shape_hw, cell)
    r0, c0 = y0 // cell, x0 // cell
    r1, c1 = math.ceil(y1 / cell), math.ceil(x1 / cell)  # exclusive
    cells = np.zeros((rows, cols), dtype=bool)
    cells[max(r0 - ring, 0) : min(r1 + ring, rows), max(c0 - ring, 0) : min(c1 + ring, cols)] = True
    return cells


@dataclass(frozen=True)
class Growth:
    """Outpainting growth in document pixels, each side a whole number of cells."""

    left: int
    top: int
    right: int
    bottom: int

    def new_shape(self, shape_hw: tuple[int, int]) -> tuple[int, int]:
        return shape_hw[0] + self.top + self.bottom, shape_hw[1] + self.left + self.right

    @property
    def is_empty(self) -> bool:
        return not (self.left or self.top or self.right or self.bottom)


def snap_growth(left: int, top: int, right: int, bottom: int, cell: int) -> Growth:
    """Round each requested growth (px) UP to a whole number of cells.

    Left/top growth by whole cells keeps the input's cells aligned with the grown canvas's grid.
    """
    sides = (left, top, right, bottom)
    if any(int(v) < 0 for v in sides):
        raise ValueError(f"outpaint growth must be >= 0 px on every side, got {sides}")
    return Growth(*(math.ceil(int(v) / cell) * cell for v in sides))


def outpaint_cells(shape_hw: tuple[int, int], growth: Growth, cell: int) -> np.ndarray:
    """Cells of the grown canvas that hold any new pixel (they all regenerate).

    Returns:
        (rows, cols) bool grid of the grown canvas.
    """
    height, width = _check_shape(shape_hw)
    new_h, new_w = growth.new_shape((height, width))
    new_pixels = np.ones((new_h, new_w), dtype=bool)
    new_pixels[growth.top : growth.top + height, growth.left : growth.left + width] = False
    return pixel_mask_to_cells(new_pixels, cell)


def default_scale(shape_hw: tuple[int, int], image_size: int) -> int:
    """Working scale at which the document's short side spans about one model window.

    ``floor(min(H, W) / image_size)``, at least 1: the model never sees more than one window of
    the short side, and never a down-sampled view of a document smaller than the model.
    """
    height, width = _check_shape(shape_hw)
    return max(1, min(height, width) // image_size)


# Cells of an earlier outpaint pass that a later one regenerates and cross-fades over.
PASS_OVERLAP = 1

# Context the model sees around a region, as a fraction of its window per side: measured by
# ``benchmarks/bench_edits.py --context`` (fill quality against context cells).
CONTEXT_FRACTION = 0.25


def default_context(grid: int) -> int:
    """Cells of context on each side of a region, for a model window of ``grid`` cells."""
    return max(1, round(grid * CONTEXT_FRACTION))


def auto_scale(
    shape_hw: tuple[int, int],
    region: np.ndarray | tuple[int, int, int, int],
    f: int,
    grid: int,
    ring: int = 0,
    context: int | None = None,
) -> int:
    """Region-sized working scale: the smallest at which one window holds ``region`` (a (H, W)
    pixel mask or an x, y, w, h box; its cells grown by ``ring``) and ``context`` cells around
    it on every side, or as many as the document has on a side where it ends sooner.

    So a small edit on a big document is decoded near native resolution, and the model still
    sees enough of the picture around it. A region too large for that at any scale gets the
    scale at which the whole document fits one window.

    Args:
        context: cells per side; None = ``default_context(grid)``.
    """
    height, width = _check_shape(shape_hw)
    if context is None:
        context = default_context(grid)
    if context < 0:
        raise ValueError(f"context must be >= 0 cells, got {context}")
    s_all = max(1, math.ceil(max(height, width) / (grid * f)))
    for s in range(1, s_all + 1):
        box = _region_box(shape_hw, region, f * s, ring)
        if box is None:
            continue
        rows, cols = cell_grid_shape(shape_hw, f * s)
        r0, c0, r1, c1 = box
        need_rows = r1 - r0 + min(context, r0) + min(context, rows - r1)
        need_cols = c1 - c0 + min(context, c0) + min(context, cols - c1)
        if max(need_rows, need_cols) <= grid:
            return s
    return s_all


def outpaint_scale(
    shape_hw: tuple[int, int], growth_px: tuple[int, int, int, int], f: int, grid: int,
    context: int | None = None,
) -> int:  # fmt: skip
    """Working scale of an outpaint: the document's own scale (``default_scale``: its short side
    spans one window), or larger until the deepest growth (in cells) plus ``context`` cells of
    the picture fit across one window; at most the scale at which the grown canvas fits one.

    Unlike an inpaint, an outpaint is not better at a smaller scale: with a window that sees
    only a strip of the picture, the bundled model invents a new little scene in every pass
    (``benchmarks/bench_edits.py``: the fill's distance to the true wider view was 36 at scale
    1, 30 at 2 and 21 at the document's 3, on 512 px scenes). The seamless composite and the
    detail match make up for the enlargement.
    """
    height, width = _check_shape(shape_hw)
    if context is None:
        context = default_context(grid)
    left, top, right, bottom = (max(int(v), 0) for v in growth_px)
    s_doc = default_scale(shape_hw, grid * f)
    grown = max(height + top + bottom, width + left + right)
    s_all = max(1, math.ceil(grown / (grid * f)), s_doc)
    for s in range(s_doc, s_all + 1):
        cell = f * s
        rows, cols = cell_grid_shape(shape_hw, cell)
        depth_x = math.ceil(max(left, right) / cell) + min(context, cols)
        depth_y = math.ceil(max(top, bottom) / cell) + min(context, rows)
        if max(depth_x, depth_y) <= grid:
            return s
    return s_all


# The detail pass may cover its region with at most this many windows (a finer scale needs more
# windows for the same region, and each costs a decode).
DETAIL_MAX_PASSES = 4


def detail_scale(
    shape_hw: tuple[int, int],
    mask: np.ndarray,
    f: int,
    grid: int,
    edit_scale: int,
    max_passes: int = DETAIL_MAX_PASSES,
) -> int | None:
    """The scale of a detail pass after an edit decoded at ``edit_scale``: the finest scale
    below it at which the cells ``mask`` (H, W) touches take at most ``max_passes`` windows.

    None when there is no such scale: the edit already ran at scale 1, or its region is too
    large for ``max_passes`` windows at any finer scale.
    """
    _check_shape(shape_hw)
    for s in range(1, int(edit_scale)):
        cells = pixel_mask_to_cells(mask, f * s)
        box = cells_bbox(cells)
        if box is None:
            return None
        r0, c0, r1, c1 = box
        if math.ceil((r1 - r0) / grid) * math.ceil((c1 - c0) / grid) > max_passes:
            continue  # more windows than allowed whatever their placement
        if len(plan_passes(cells, grid)) <= max_passes:
            return s
    return None


def _region_box(
    shape_hw: tuple[int, int], region: np.ndarray | tuple[int, int, int, int], cell: int, ring: int
) -> tuple[int, int, int, int] | None:
    if isinstance(region, np.ndarray):
        cells = pixel_mask_to_cells(region, cell)
        if ring:
            cells = dilate_cells(cells, ring)
    else:
        cells = box_to_cells(shape_hw, region, cell, ring)
    return cells_bbox(cells)


def editing_start_iter(steps: int, start_iter: int) -> int:
    """Official editing recipe: start at iteration 2 of 12, scaled to ``steps``.

    A caller-set ``start_iter`` (non-zero) is kept; 0 means "use the recipe":
    ``round(2 * steps / 12)``, kept below ``steps``.
    """
    if start_iter:
        return start_iter
    return min(round(2 * steps / 12), steps - 1)


def _check_shape(shape_hw: tuple[int, ...]) -> tuple[int, int]:
    if len(shape_hw) < 2:
        raise ValueError(f"expected an (H, W) shape, got {shape_hw}")
    height, width = int(shape_hw[0]), int(shape_hw[1])
    if height < 1 or width < 1:
        raise ValueError(f"image must be at least 1x1 px, got {width}x{height}")
    return height, width


__all__ = [
    "BOX_RING",
    "EditPass",
    "Growth",
    "Window",
    "CONTEXT_FRACTION",
    "PASS_OVERLAP",
    "auto_scale",
    "box_to_cells",
    "cell_grid_shape",
    "cells_bbox",
    "cells_to_pixels",
    "DETAIL_MAX_PASSES",
    "detail_scale",
    "default_context",
    "default_scale",
    "dilate_cells",
    "editing_start_iter",
    "outpaint_cells",
    "outpaint_scale",
    "pixel_mask_to_cells",
    "plan_passes",
    "snap_growth",
]
