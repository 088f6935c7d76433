"""Region masks shaped like the edits people make in the studio, for MVTM training.

Random-token MVTM masks (the paper's) teach sampling from scratch, but an inpaint, outpaint or
box edit asks something else: fill a connected region while everything around it is given.
A share of training sequences therefore masks a region of one of these shapes:

- ``box``: an axis-aligned rectangle (the brush's cell rectangles, the box tool);
- ``box_ring``: a box grown by its one-token ring, as box + class edits regenerate it;
- ``blob``: a union of a few ellipses (a free brush stroke);
- ``strip``: one or two border strips (outpainting: the new cells lie along an edge).

Inside the region only a schedule-drawn fraction is masked, as at a later decoding iteration
of an edit, where the tokens committed earlier are given.
"""

from __future__ import annotations

import math

import torch

from maskgit_studio.engine.mask_schedule import mask_ratio

SHAPES = ("box", "box_ring", "blob", "strip")


def _randint(low: int, high: int, generator: torch.Generator | None) -> int:
    """Uniform integer in [low, high] (inclusive)."""
    return int(torch.randint(low, high + 1, (1,), generator=generator))


def _box(side: int, generator: torch.Generator | None, ring: bool) -> torch.Tensor:
    """(side, side) bool: a rectangle of 2..3/4 side per edge, grown by one cell if ``ring``."""
    hi = max(2, (3 * side) // 4)
    bh, bw = _randint(2, hi, generator), _randint(2, hi, generator)
    top, left = _randint(0, side - bh, generator), _randint(0, side - bw, generator)
    if ring:
        top, left, bh, bw = top - 1, left - 1, bh + 2, bw + 2
    region = torch.zeros(side, side, dtype=torch.bool)
    region[max(top, 0) : top + bh, max(left, 0) : left + bw] = True
    return region


def _blob(side: int, generator: torch.Generator | None) -> torch.Tensor:
    """(side, side) bool: the union of 1-4 random ellipses (a painted stroke)."""
    yy, xx = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    region = torch.zeros(side, side, dtype=torch.bool)
    for _ in range(_randint(1, 4, generator)):
        cy, cx = torch.rand(2, generator=generator) * side
        ry, rx = 1.0 + torch.rand(2, generator=generator) * side / 4
        # radii >= 1 cell, so each ellipse holds at least the cell under its centre
        region |= ((yy + 0.5 - cy) / ry) ** 2 + ((xx + 0.5 - cx) / rx) ** 2 <= 1.0
    return region


def _strip(side: int, generator: torch.Generator | None) -> torch.Tensor:
    """(side, side) bool: one border strip, or two adjacent ones (a corner drag)."""
    region = torch.zeros(side, side, dtype=torch.bool)
    sides = torch.randperm(4, generator=generator)[: _randint(1, 2, generator)].tolist()
    for s in sides:
        width = _randint(1, side // 2, generator)
        if s == 0:
            region[:width] = True
        elif s == 1:
            region[-width:] = True
        elif s == 2:
            region[:, :width] = True
        else:
            region[:, -width:] = True
    return region


def edit_region(shape: str, side: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One edit-shaped region on a (side, side) token grid.

    Returns:
        (side, side) bool tensor, True on the cells the edit regenerates (never empty).
    """
    if shape == "box":
        return _box(side, generator, ring=False)
    if shape == "box_ring":
        return _box(side, generator, ring=True)
    if shape == "blob":
        return _blob(side, generator)
    if shape == "strip":
        return _strip(side, generator)
    raise ValueError(f"unknown edit shape {shape!r}; choose from {', '.join(SHAPES)}")


def edit_masks(
    batch: int, side: int, schedule: str, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Masks for ``batch`` sequences: a random edit shape each, gamma(r) of its cells masked.

    Returns:
        (B, side*side) bool tensor; every row masks at least one cell, all inside its region.
    """
    masks = torch.zeros(batch, side * side, dtype=torch.bool)
    shape_ids = torch.randint(len(SHAPES), (batch,), generator=generator).tolist()
    r = torch.rand(batch, generator=generator)
    ratios = mask_ratio(schedule, r, side * side)
    for i, shape_id in enumerate(shape_ids):
        region = edit_region(SHAPES[shape_id], side, generator).flatten()
        cells = region.nonzero().squeeze(1)
        count = max(1, math.ceil(float(ratios[i]) * len(cells)))
        chosen = cells[torch.randperm(len(cells), generator=generator)[:count]]
        masks[i, chosen] = True
    return masks
