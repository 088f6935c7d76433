"""Pixel measures of how well an edit's fill sits in its picture (numpy only).

Shared names: ``fill`` is the (H, W) bool mask the user asked to regenerate (the painted pixels,
the box, the new canvas); ``changed`` is every pixel the edit may have touched (the fill, the
cells around it that were regenerated, the feather). Everything outside ``changed`` is the
untouched original.

- texture ratio: high-frequency energy (luma minus its 3x3 box blur, squared, mean) inside the
  fill over the same in a ring of untouched pixels around the edit. A smooth fill in a textured
  scene scores near 0; a fill as detailed as its surroundings near 1.
- colour step: per border tile, the RGB distance between the mean colour of the fill's outer
  band (``band`` px inside the fill) and of the untouched band just outside ``changed``,
  averaged over tiles. Divided by the same number measured on the original image, it says how
  much the edit adds to whatever step the picture already had there (1.0 = none added).
- sharpness: mean gradient magnitude inside the fill over the original's there.
"""

from __future__ import annotations

import numpy as np

TILE = 16  # px, border tiles of the colour step


def luma(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8/float -> (H, W) float32 Rec. 601 luma."""
    x = np.asarray(image, dtype=np.float32)
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def box_blur(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, edges replicated; works on (H, W) or (H, W, C)."""
    pad = [(radius, radius), (radius, radius)] + [(0, 0)] * (x.ndim - 2)
    p = np.pad(np.asarray(x, dtype=np.float64), pad, mode="edge")
    c = p.cumsum(0).cumsum(1)
    c = np.pad(c, [(1, 0), (1, 0)] + [(0, 0)] * (x.ndim - 2))
    k = 2 * radius + 1
    s = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
    return (s / (k * k)).astype(np.float32)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Square dilation by ``radius`` px."""
    if radius <= 0:
        return mask.copy()
    return box_blur(mask.astype(np.float32), radius) > 1e-6


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    return ~dilate(~mask, radius)


def high_frequency(image: np.ndarray) -> np.ndarray:
    """(H, W) squared luma detail: luma minus its 3x3 mean."""
    y = luma(image)
    return (y - box_blur(y, 1)) ** 2


def context_ring(changed: np.ndarray, width: int) -> np.ndarray:
    """Untouched pixels within ``width`` px of the changed region."""
    return dilate(changed, width) & ~changed


def texture_ratio(image: np.ndarray, fill: np.ndarray, changed: np.ndarray, ring: int) -> float:
    """Fine-detail energy in the fill over that in the untouched ring around the edit."""
    y = luma(image)
    detail = y - box_blur(y, 1)
    inner = erode(fill, 1)  # the fill's own border would count the seam as texture
    around = context_ring(dilate(changed, 1), ring)
    if not inner.any() or not around.any():
        return float("nan")

    energy = detail**2
    return float(energy[inner].mean() / max(energy[around].mean(), 0.25))


def colour_step(image: np.ndarray, fill: np.ndarray, changed: np.ndarray, band: int = 6) -> float:
    """Mean RGB distance between the fill's outer band and the untouched band outside the edit,
    per border tile of ``TILE`` px: each tile of the fill's band is compared with the untouched
    band within the gap between the fill and the untouched pixels (plus the band) of it."""
    x = np.asarray(image, dtype=np.float32)
    inside = fill & ~erode(fill, band)
    outside = dilate(changed, band) & ~changed
    if not inside.any() or not outside.any():
        return float("nan")
    reach = _gap(fill, changed) + band + TILE // 2
    height, width = fill.shape
    steps = []
    for y0 in range(0, height, TILE):
        for x0 in range(0, width, TILE):
            core = (slice(y0, y0 + TILE), slice(x0, x0 + TILE))
            if inside[core].sum() < 4:
                continue
            near = (
                slice(max(y0 - reach, 0), y0 + TILE + reach),
                slice(max(x0 - reach, 0), x0 + TILE + reach),
            )
            b = outside[near]
            if b.sum() < 4:
                continue
            diff = x[core][inside[core]].mean(axis=0) - x[near][b].mean(axis=0)
            steps.append(float(np.sqrt((diff**2).sum())))
    return float(np.mean(steps)) if steps else float("nan")


def _gap(fill: np.ndarray, changed: np.ndarray) -> int:
    """The smallest r (px, a power of two or the exact small value) with dilate(fill, r)
    covering ``changed``."""
    r = 0
    while not (dilate(fill, r) | ~changed).all():
        r = r + 1 if r < 4 else r * 2
        if r > max(fill.shape):
            break
    return r


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    y = luma(image)
    gy = np.zeros_like(y)
    gx = np.zeros_like(y)
    gy[1:-1] = (y[2:] - y[:-2]) / 2
    gx[:, 1:-1] = (y[:, 2:] - y[:, :-2]) / 2
    return np.sqrt(gx**2 + gy**2)


def sharpness(image: np.ndarray, original: np.ndarray, fill: np.ndarray) -> float:
    """Mean gradient magnitude inside the fill, relative to the original's."""
    inner = erode(fill, 1)
    if not inner.any():
        return float("nan")
    return float(
        gradient_magnitude(image)[inner].mean()
        / max(gradient_magnitude(original)[inner].mean(), 1e-6)
    )


def edit_scores(
    edited: np.ndarray, original: np.ndarray, fill: np.ndarray, changed: np.ndarray
) -> dict[str, float]:
    """All measures for one edit. ``original`` is the reference picture of the same size (for
    outpainting, the true wider view)."""
    ring = int(max(16, min(64, np.sqrt(fill.sum()) / 2)))
    step = colour_step(edited, fill, changed)
    step_orig = colour_step(original, fill, changed)
    return {
        "texture_ratio": texture_ratio(edited, fill, changed, ring),
        "texture_ratio_original": texture_ratio(original, fill, changed, ring),
        "colour_step": step,
        "colour_step_original": step_orig,
        "colour_step_ratio": step / max(step_orig, 2.0),
        "sharpness": sharpness(edited, original, fill),
    }
