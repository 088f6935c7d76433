"""Pixel-precise selections: the round brush and growing a pixel mask (numpy only)."""

from __future__ import annotations

import math

import numpy as np


def stamp_disc(mask: np.ndarray, x: float, y: float, radius: float, value: bool) -> bool:
    """Set the pixels whose centres lie within ``radius`` of document point (x, y) to ``value``
    in place (clipped to the mask); True if any pixel changed.

    A radius under one pixel still stamps the pixel under the point, so the smallest brush
    paints single pixels.
    """
    height, width = mask.shape
    r = max(float(radius), 0.5)
    x0, x1 = max(math.floor(x - r), 0), min(math.ceil(x + r) + 1, width)
    y0, y1 = max(math.floor(y - r), 0), min(math.ceil(y + r) + 1, height)
    if x0 >= x1 or y0 >= y1:
        return False
    yy, xx = np.mgrid[y0:y1, x0:x1]
    disc = (xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 <= r * r  # (h, w) pixel centres inside
    part = mask[y0:y1, x0:x1]
    change = disc & (part != value)
    if not change.any():
        return False
    part[change] = value
    return True


def stroke_points(
    start: tuple[float, float], end: tuple[float, float], radius: float
) -> list[tuple[float, float]]:
    """Points from ``start`` (excluded) to ``end`` (included) no more than half a radius apart,
    so a fast stroke leaves no gaps."""
    (x0, y0), (x1, y1) = start, end
    step = max(radius / 2, 0.5)
    count = max(math.ceil(math.hypot(x1 - x0, y1 - y0) / step), 1)
    return [(x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count) for i in range(1, count + 1)]


def grow_pixels(mask: np.ndarray, radius: int) -> np.ndarray:
    """Square dilation of an (H, W) bool mask by ``radius`` px."""
    if radius <= 0:
        return np.asarray(mask, dtype=bool).copy()
    out = np.asarray(mask, dtype=np.int64)
    for axis in (0, 1):
        n = out.shape[axis]
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius + 1, radius)
        csum = np.cumsum(np.pad(out, pad), axis=axis)
        hi = np.take(csum, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
        lo = np.take(csum, np.arange(0, n), axis=axis)
        out = hi - lo
    return out > 0


__all__ = ["grow_pixels", "stamp_disc", "stroke_points"]
