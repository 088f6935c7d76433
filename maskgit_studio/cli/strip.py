"""Step strips and GIFs: every iteration's token mask above its decoded image (paper Figure 2)."""

from __future__ import annotations

import numpy as np

from ..engine.results import StepResult

# Token-mask colours: still masked, given (never masked), committed earlier, revealed this step.
MASKED = (40, 40, 40)
GIVEN = (150, 150, 150)
COMMITTED = (235, 235, 235)
REVEALED = (255, 140, 0)
GAP = 4


def mask_tile(step: StepResult, variation: int, size: int) -> np.ndarray:
    """(size, size, 3) uint8 picture of one step's token mask for one variation."""
    g = step.ids.shape[1]
    grid = np.empty((g, g, 3), dtype=np.uint8)
    grid[:] = COMMITTED
    grid[~step.editable] = GIVEN
    grid[step.masked[variation]] = MASKED
    grid[step.revealed[variation]] = REVEALED
    cell = max(size // g, 1)
    tile = np.repeat(np.repeat(grid, cell, axis=0), cell, axis=1)
    out = np.zeros((size, size, 3), dtype=np.uint8)
    out[: tile.shape[0], : tile.shape[1]] = tile[:size, :size]
    return out


def step_column(step: StepResult) -> np.ndarray:
    """One step as a column: for each variation, its token mask above its decoded preview."""
    if step.preview is None:
        raise ValueError("steps have no previews (run with previews=True)")
    size = step.preview.shape[1]
    parts = []
    for k in range(step.ids.shape[0]):
        parts += [mask_tile(step, k, size), step.preview[k]]
    return _stack(parts, axis=0)


def render_strip(steps: list[StepResult]) -> np.ndarray:
    """(H, W, 3) uint8: one column per iteration, left to right."""
    if not steps:
        raise ValueError("no steps to draw")
    return _stack([step_column(s) for s in steps], axis=1)


def render_frames(steps: list[StepResult]) -> list[np.ndarray]:
    """One GIF frame per iteration (its column)."""
    return [step_column(s) for s in steps]


def _stack(parts: list[np.ndarray], axis: int) -> np.ndarray:
    """Concatenate tiles with a white gap between them."""
    out: list[np.ndarray] = []
    for i, part in enumerate(parts):
        if i:
            shape = list(part.shape)
            shape[axis] = GAP
            out.append(np.full(shape, 255, dtype=np.uint8))
        out.append(part)
    return np.concatenate(out, axis=axis)
