"""Pixel side of edits: window crops, working-scale resampling and the composite.

``blend_window`` puts one generated window back: colour match, detail match and the Poisson
blend of ``editing_blend`` (``Blend``), then the feather; or the feather alone (``ALPHA_BLEND``,
the official recipe).

Feathering (the official recipe blurs the up-sampled token mask with a Gaussian of radius
``image_size / 16 - 1`` model pixels): here the *radius* is the blur's exact support. The mask is
blurred with three box filters whose radii sum to the radius, a close, smooth approximation of a
Gaussian whose support is finite. Integer arithmetic keeps it exact: the blend weight is exactly
0 beyond ``radius`` pixels of the regenerated cells, so the changed region is exactly the square
dilation of those cells by the radius and every pixel outside it is copied bit-for-bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .editing_blend import colour_match, detail_match, poisson_blend
from .editing_texture import transfer_detail

BLEND_MODES = ("poisson", "alpha")


def crop_padded(image: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """Crop (x0, y0, x1, y1) from an (H, W, C) image, edge-replicating past its borders.

    Returns:
        (y1 - y0, x1 - x0, C) array of the image's dtype.
    """
    x0, y0, x1, y1 = rect
    height, width = image.shape[:2]
    if x0 >= width or y0 >= height or x1 <= 0 or y1 <= 0:
        raise ValueError(f"window {rect} does not overlap the {width}x{height} image")
    part = image[max(y0, 0) : min(y1, height), max(x0, 0) : min(x1, width)]
    pad = (
        (max(-y0, 0), max(y1 - height, 0)),
        (max(-x0, 0), max(x1 - width, 0)),
    ) + ((0, 0),) * (image.ndim - 2)
    return np.pad(part, pad, mode="edge") if any(p for pair in pad for p in pair) else part


def downscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Area-average an (H, W, 3) uint8 image by an integer factor (exact per-cell means)."""
    if factor == 1:
        return image
    height, width = image.shape[:2]
    if height % factor or width % factor:
        raise ValueError(f"{width}x{height} is not a multiple of the scale {factor}")
    pil = Image.fromarray(image).resize((width // factor, height // factor), Image.Resampling.BOX)
    return np.asarray(pil)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Bicubic up-sampling of an (h, w, 3) uint8 image by an integer factor."""
    if factor == 1:
        return image
    height, width = image.shape[:2]
    pil = Image.fromarray(image).resize((width * factor, height * factor), Image.Resampling.BICUBIC)
    return np.asarray(pil)


def default_feather(image_size: int, scale: int) -> int:
    """Official feather radius ``image_size / 16 - 1`` model px, in document px at ``scale``."""
    return max(image_size // 16 - 1, 0) * scale


def seamless_feather(cell: int) -> int:
    """Feather radius (px) of the seamless composite: a quarter cell. The gradient-domain blend
    already removes the seam, so the fade only softens the edge, and a pixel mask keeps most of
    the original pixels of the cells it touches."""
    return max(cell // 4, 1)


def _box_sum(values: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Sum over a centred window of 2 * radius + 1 along ``axis`` (zero outside), int64."""
    if radius == 0:
        return values
    n = values.shape[axis]
    pad = [(0, 0)] * values.ndim
    pad[axis] = (radius + 1, radius)
    csum = np.cumsum(np.pad(values, pad), axis=axis)
    hi = np.take(csum, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
    lo = np.take(csum, np.arange(0, n), axis=axis)
    return hi - lo


def _box_radii(radius: int) -> list[int]:
    """Three box radii summing to ``radius`` (as equal as possible)."""
    base, extra = divmod(radius, 3)
    return [base + (1 if i < extra else 0) for i in range(3)]


def feather_changed(region: np.ndarray, radius: int) -> np.ndarray:
    """(H, W) bool the pixels a feather of ``radius`` around ``region`` may touch: its square
    dilation (``region`` itself for radius 0)."""
    region = np.asarray(region, dtype=bool)
    if radius <= 0:
        return region.copy()
    return _box_sum(_box_sum(region.astype(np.int64), radius, 0), radius, 1) > 0


def feather_weights(region: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Blend weights of a feathered composite and the exact region they touch.

    Args:
        region: (H, W) bool pixels to regenerate (the up-sampled token cells).
        radius: feather radius in pixels (0 = hard edge).

    Returns:
        weights: (H, W) float32 in [0, 1]; exactly 0 farther than ``radius`` (Chebyshev) from
            ``region``.
        changed: (H, W) bool, the square dilation of ``region`` by ``radius``: where weights may
            be non-zero.
    """
    region = np.asarray(region, dtype=bool)
    if radius <= 0:
        return region.astype(np.float32), region.copy()
    changed = feather_changed(region, radius)
    acc = region.astype(np.int64)
    norm = 1
    for r in _box_radii(radius):
        if r:
            acc = _box_sum(_box_sum(acc, r, 0), r, 1)
            norm *= (2 * r + 1) ** 2
    weights = (acc / norm).astype(np.float32)  # (H, W); integer sums keep zeros exact
    return weights, changed


def composite(
    base: np.ndarray, generated: np.ndarray, weights: np.ndarray, changed: np.ndarray
) -> np.ndarray:
    """``generated * w + base * (1 - w)`` inside ``changed``; ``base`` copied exactly outside.

    Args:
        base: (H, W, 3) uint8 current pixels.
        generated: (H, W, 3) uint8 new pixels.
        weights: (H, W) float32 blend weights in [0, 1].
        changed: (H, W) bool region that may change.

    Returns:
        (H, W, 3) uint8.
    """
    w = weights[..., None]
    blended = generated.astype(np.float32) * w + base.astype(np.float32) * (1.0 - w)
    blended = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return np.where(changed[..., None], blended, base)


@dataclass(frozen=True)
class Blend:
    """How a window's generated pixels are put back into the document.

    Attributes:
        mode: "poisson" (gradient-domain blend over the feathered region, then the feather) or
            "alpha" (the feather alone, the official recipe).
        colour_match: fit the window's colour and tone to the original on its kept cells.
        detail_match: give the fill the fine detail of the kept cells around it: borrowed
            patch by patch (``editing_texture``), else amplified and grained to their energy.
    """

    mode: str = "poisson"
    colour_match: bool = True
    detail_match: bool = True

    def __post_init__(self) -> None:
        if self.mode not in BLEND_MODES:
            raise ValueError(f"unknown blend mode {self.mode!r}; choose {' or '.join(BLEND_MODES)}")


# The official recipe, as the studio did it before the seamless composite.
ALPHA_BLEND = Blend("alpha", colour_match=False, detail_match=False)


def blend_window(
    base: np.ndarray,
    generated: np.ndarray,
    region: np.ndarray,
    feather: int,
    kept: np.ndarray,
    cell: int,
    blend: Blend,
    rng: np.random.Generator,
    ramp: np.ndarray | None = None,
    softness: int = 1,
    real: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Composite one window's generated pixels into the document's pixels under it.

    Args:
        base: (H, W, 3) uint8 the document under the window (clipped to the canvas).
        generated: (H, W, 3) uint8 the model's window up-sampled to document pixels.
        region: (H, W) bool pixels that take the generated content fully.
        feather: px the blend fades out over around ``region``.
        kept: (H, W) bool pixels of kept cells whose original is real (the colour-match fit and
            the detail target).
        cell: document px per token cell.
        blend: the settings.
        rng: grain source for ``detail_match``.
        ramp: (H, W) float32 extra blend weights (a cross-fade into an earlier pass), or None.
        softness: how many times the model's output was enlarged (the working scale).
        real: (H, W) bool pixels of real picture the fill may borrow detail from (with a pixel
            mask also the unpainted pixels of regenerated cells), or None for ``kept``.

    Returns:
        out: (H, W, 3) uint8, ``base`` bit-exact outside ``changed``.
        changed: (H, W) bool the square dilation of ``region`` by ``feather``, and the ramp.
    """
    weights, changed = feather_weights(region, feather)
    weights = np.maximum(weights, region.astype(np.float32))
    if ramp is not None:
        weights = np.maximum(weights, ramp)
        changed = changed | (ramp > 0)
    gen = generated.astype(np.float32)
    if blend.colour_match:
        gen = colour_match(gen, base, _near_weights(kept, region, cell))[0]
    if blend.detail_match:
        examples = kept if real is None else real
        gen, borrowed = transfer_detail(gen, base, region, examples, cell, softness, rng)
        # Grain and sharpening only where the picture had no detail to lend.
        gen = detail_match(gen, base, region & ~borrowed, kept, cell, rng, softness)
    if blend.mode == "poisson":
        gen = poisson_blend(base, gen, changed)
    w = weights[..., None]
    out = np.clip(np.rint(gen * w + base.astype(np.float32) * (1.0 - w)), 0, 255).astype(np.uint8)
    return np.where(changed[..., None], out, base), changed


def _near_weights(kept: np.ndarray, region: np.ndarray, cell: int) -> np.ndarray:
    """Colour-fit weights: kept pixels, 1 / (1 + d) with d their distance in cells to region."""
    weights = np.zeros(kept.shape, dtype=np.float32)
    near = region.copy()
    for d in range(0, 2 * max(kept.shape) // max(cell, 1) + 2):
        grown = _box_sum(_box_sum(near.astype(np.int64), cell, 0), cell, 1) > 0 if d else near
        ring = grown & kept & (weights == 0)
        weights[ring] = 1.0 / (1.0 + d)
        near = grown
        if near.all():
            break
    return weights


__all__ = [
    "ALPHA_BLEND",
    "BLEND_MODES",
    "Blend",
    "blend_window",
    "composite",
    "crop_padded",
    "default_feather",
    "downscale",
    "feather_changed",
    "feather_weights",
    "seamless_feather",
    "upscale",
]
