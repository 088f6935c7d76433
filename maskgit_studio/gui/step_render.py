"""Pictures of decoding steps, as numpy (no Qt): token masks, confidence, commit order, strips.

Like the MaskGIT paper's Figure 2: a row of token masks (dark = still masked, light = known,
accent = committed at this step) above a row of decoded images.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MASKED = np.array([38, 40, 46], np.uint8)
KNOWN = np.array([196, 199, 206], np.uint8)
REVEALED = np.array([74, 158, 255], np.uint8)

# a perceptually ordered dark-blue -> teal -> yellow map (viridis-like key colours)
_STOPS = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], np.float32
)


def colormap(values: np.ndarray) -> np.ndarray:
    """Map (h, w) floats in [0, 1] to (h, w, 3) uint8 colours."""
    v = np.clip(np.nan_to_num(values.astype(np.float32)), 0.0, 1.0) * (len(_STOPS) - 1)
    lo = np.floor(v).astype(int).clip(0, len(_STOPS) - 2)
    t = (v - lo)[..., None]
    return (_STOPS[lo] * (1 - t) + _STOPS[lo + 1] * t).round().astype(np.uint8)


def token_mask_image(masked: np.ndarray, revealed: np.ndarray) -> np.ndarray:
    """(h, w) bool still-masked and committed-now -> (h, w, 3) uint8."""
    out = np.empty((*masked.shape, 3), np.uint8)
    out[:] = KNOWN
    out[masked] = MASKED
    out[revealed] = REVEALED
    return out


def confidence_image(confidence: np.ndarray, editable: np.ndarray) -> np.ndarray:
    """(h, w) probabilities of the sampled tokens -> heatmap; cells not generated are grey."""
    out = colormap(confidence)
    out[~editable] = KNOWN // 2
    return out


def commit_order(steps: Sequence, upto: int, variation: int) -> np.ndarray:
    """(h, w) int: the step position (within ``steps``) at which each token of the window of
    ``steps[upto]`` was committed, -1 where given, a large value where still masked.

    Only steps of the same window pass count.
    """
    target = steps[upto]
    order = np.full(target.editable.shape, -1, np.int32)
    order[target.masked[variation]] = np.iinfo(np.int32).max
    for i in range(upto + 1):
        step = steps[i]
        if step.pass_index == target.pass_index:
            order[step.revealed[variation]] = i
    return order


def commit_order_image(order: np.ndarray, first: int, last: int) -> np.ndarray:
    """Colour each token by when it was committed (early = dark, late = bright)."""
    span = max(last - first, 1)
    out = colormap((order - first) / span)
    out[order < 0] = KNOWN // 2
    out[order == np.iinfo(np.int32).max] = MASKED
    return out


def upscale(image: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of an (h, w, 3) image so its longer side is about ``size``."""
    h, w = image.shape[:2]
    factor = max(1, size // max(h, w))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def fit(image: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize to exactly size x size (tiles of a strip)."""
    h, w = image.shape[:2]
    rows = (np.arange(size) * h // size).clip(0, h - 1)
    cols = (np.arange(size) * w // size).clip(0, w - 1)
    return image[rows][:, cols]


def figure_strip(rows: Sequence[Sequence[np.ndarray]], tile: int = 128, gap: int = 4) -> np.ndarray:
    """Tile images row by row (each resized to ``tile`` px) on a dark background.

    Returns:
        (R * (tile + gap) + gap, C * (tile + gap) + gap, 3) uint8.
    """
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    out = np.full((n_rows * (tile + gap) + gap, n_cols * (tile + gap) + gap, 3), 24, np.uint8)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            y, x = gap + r * (tile + gap), gap + c * (tile + gap)
            out[y : y + tile, x : x + tile] = fit(image, tile)
    return out
