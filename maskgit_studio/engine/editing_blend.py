"""Seamless composite helpers: colour/tone and detail matching, gradient-domain (Poisson)
blending.

They work on one model window at document resolution, in float32 RGB on the 0..255 scale.

Colour matching: the model reconstructs the window's kept cells, so the difference between its
output and the original there measures the window's tint and tone shift. A per-channel affine
map (gain and offset, the gain clamped near 1) fitted on the kept pixels, weighted towards the
ones near the edit, removes it from the whole generated window.

Poisson blending (Perez et al. 2003, "Poisson image editing"): inside the blend domain the result
keeps the generated image's gradients, and on the domain's border it meets the original exactly:
``f = generated + h`` with ``h`` harmonic in the domain and ``h = original - generated`` on the
pixels around it (Dirichlet); the window's outer edge is a zero-flux (Neumann) border. ``h`` is
solved by conjugate gradients preconditioned with a multigrid V-cycle (red-black Gauss-Seidel,
2x2 aggregation), in torch on the CPU; very large domains on a coarsened grid.
OpenCV's ``seamlessClone`` solves the same equation; ``benchmarks/bench_edits.py`` compares the two.

Detail matching: a decoded window is softer than the picture; per cell, the fill gets the fine
detail energy of the kept cells around it (its own detail amplified, then grain).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

# Gain limits of the colour match: a wider range lets a bad fit change the fill's contrast.
GAIN_RANGE = (0.8, 1.25)
# Fewer kept pixels than this (weighted) and the match falls back to an offset only, then to
# nothing at all.
MIN_FIT_PIXELS = 64
# Poisson solve tolerance: stop when the largest update of a sweep is below this (0..255 scale).
POISSON_TOLERANCE = 0.03
# Domains longer than this (px) are solved on a coarsened grid (see poisson_blend).
SOLVE_MAX_SIDE = 512
_COARSEST = 16  # grid size (px) at which the cascade stops coarsening


def colour_match(
    generated: np.ndarray, original: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map ``generated`` per channel by ``gain * g + offset`` fitted to ``original``.

    Args:
        generated: (H, W, 3) uint8 or float the model's window, upscaled to document pixels.
        original: (H, W, 3) uint8 the document's pixels under it.
        weights: (H, W) float >= 0, how much each pixel counts in the fit (0 = not kept).

    Returns:
        matched: (H, W, 3) float32 (not clipped).
        gain, offset: (3,) float32 the fitted map (1 and 0 when there is nothing to fit).
    """
    g = np.asarray(generated, dtype=np.float32)
    o = np.asarray(original, dtype=np.float32)
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    gain = np.ones(3, dtype=np.float32)
    offset = np.zeros(3, dtype=np.float32)
    if total < MIN_FIT_PIXELS or float((w > 0).sum()) < MIN_FIT_PIXELS:
        return g.copy(), gain, offset
    wn = (w / total)[..., None]  # (H, W, 1)
    mean_g = (g * wn).sum(axis=(0, 1))  # (3,)
    mean_o = (o * wn).sum(axis=(0, 1))
    dg = g - mean_g
    var_g = (dg * dg * wn).sum(axis=(0, 1))
    cov = (dg * (o - mean_o) * wn).sum(axis=(0, 1))
    for c in range(3):
        if var_g[c] > 4.0:  # a flat channel says nothing about gain
            gain[c] = np.clip(cov[c] / var_g[c], *GAIN_RANGE)
        offset[c] = mean_o[c] - gain[c] * mean_g[c]
    return g * gain + offset, gain, offset


def poisson_blend(
    original: np.ndarray,
    generated: np.ndarray,
    domain: np.ndarray,
    max_side: int = SOLVE_MAX_SIDE,
) -> np.ndarray:
    """Gradient-domain blend of ``generated`` into ``original`` over ``domain``.

    Args:
        original: (H, W, 3) uint8 or float the document's pixels (the Dirichlet border values).
        generated: (H, W, 3) float the new pixels (their gradients are kept).
        domain: (H, W) bool pixels to solve for; all other pixels keep ``original``.
        max_side: a domain whose bounding box is longer than this is solved on a grid coarsened
            by a whole factor to fit, and the correction is up-sampled bilinearly: the correction
            is smooth away from the border, and the feathered composite that follows fades out
            where the coarse grid misses the border's finest detail.

    Returns:
        (H, W, 3) float32: ``generated + h`` inside ``domain``, ``original`` outside.
    """
    o = np.asarray(original, dtype=np.float32)
    g = np.asarray(generated, dtype=np.float32)
    domain = np.asarray(domain, dtype=bool)
    out = o.copy()
    rows = np.flatnonzero(domain.any(axis=1))
    if rows.size == 0:
        return out
    cols = np.flatnonzero(domain.any(axis=0))
    # Solve on the domain's bounding box plus a one-pixel ring (the Dirichlet values).
    y0, y1 = max(int(rows[0]) - 1, 0), min(int(rows[-1]) + 2, o.shape[0])
    x0, x1 = max(int(cols[0]) - 1, 0), min(int(cols[-1]) + 2, o.shape[1])
    dom = domain[y0:y1, x0:x1]
    border = o[y0:y1, x0:x1] - g[y0:y1, x0:x1]  # (h, w, 3): h on the border
    factor = math.ceil(max(dom.shape) / max_side)
    if factor > 1:
        h = _coarse_membrane(border, dom, factor)
    else:
        h = solve_membrane(border, dom)
    part = g[y0:y1, x0:x1] + h
    out[y0:y1, x0:x1] = np.where(dom[..., None], part, o[y0:y1, x0:x1])
    return out


def _coarse_membrane(border: np.ndarray, domain: np.ndarray, factor: int) -> np.ndarray:
    """``solve_membrane`` on a grid coarser by ``factor``, up-sampled back (bilinear)."""
    height, width = domain.shape
    pad = (0, (-width) % factor, 0, (-height) % factor)
    v = F.pad(torch.from_numpy(border).permute(2, 0, 1)[None], pad, mode="replicate")
    known = F.pad(torch.from_numpy(~domain)[None, None].float(), pad, mode="replicate")
    share = F.avg_pool2d(known, factor)  # (1, 1, h, w) fraction of known fine pixels
    mean = F.avg_pool2d(v * known, factor) / share.clamp_min(1e-6)
    coarse_domain = (share == 0)[0, 0]  # unknown where every fine pixel is
    coarse = solve_membrane(mean[0].permute(1, 2, 0).numpy(), coarse_domain.numpy())
    up = F.interpolate(
        torch.from_numpy(coarse).permute(2, 0, 1)[None],
        scale_factor=factor,
        mode="bilinear",
        align_corners=False,
    )
    return up[0, :, :height, :width].permute(1, 2, 0).numpy()


def solve_membrane(
    values: np.ndarray,
    domain: np.ndarray,
    tolerance: float = POISSON_TOLERANCE,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """Harmonic interpolation: ``h`` with zero Laplacian inside ``domain``, ``values`` outside.

    Conjugate gradients on the 5-point Laplacian, preconditioned by one multigrid V-cycle
    (red-black Gauss-Seidel smoothing, 2x2 aggregation), per channel.

    Args:
        values: (H, W, C) float, the fixed values outside ``domain`` (inside: ignored).
        domain: (H, W) bool unknown pixels. Pixels past the array edge do not count (Neumann).
        tolerance: stop when no pixel's Laplacian (a mean of its neighbours minus itself, on the
            0..255 scale) is above this.
        initial: (H, W, C) a starting guess inside ``domain`` (default zero).

    Returns:
        (H, W, C) float32.
    """
    v = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)).permute(2, 0, 1)
    dom = torch.from_numpy(np.ascontiguousarray(domain, dtype=bool))
    if not bool(dom.any()):
        return v.permute(1, 2, 0).numpy().copy()
    levels = _levels(dom)
    top = levels[0]
    # A h = b on the domain, b = the sum of each unknown pixel's known neighbours.
    b = torch.where(dom, _neighbour_sum(torch.where(dom, 0.0, v)), 0.0)  # (C, H, W)
    if initial is None:
        x = torch.zeros_like(v)
        r = b.clone()
    else:
        x = torch.where(dom, torch.from_numpy(np.asarray(initial, np.float32)).permute(2, 0, 1), 0)
        r = torch.where(dom, b - _apply(top, x), 0.0)
    z = _v_cycle(levels, 0, r)
    p = z
    rz = (r * z).sum(dim=(1, 2), keepdim=True)  # (C, 1, 1): one system per channel
    for _ in range(MAX_ITERATIONS):
        if float((r * top.inv_count).abs().max()) < tolerance:
            break
        ap = torch.where(dom, _apply(top, p), 0.0)
        alpha = rz / (p * ap).sum(dim=(1, 2), keepdim=True).clamp_min(1e-30)
        x = x + alpha * p
        r = r - alpha * ap
        z = _v_cycle(levels, 0, r)
        rz_new = (r * z).sum(dim=(1, 2), keepdim=True)
        p = z + (rz_new / rz.clamp_min(1e-30)) * p
        rz = rz_new
    return torch.where(dom, x, v).permute(1, 2, 0).numpy()


MAX_ITERATIONS = 40
_SMOOTH = 2  # Gauss-Seidel sweeps before and after each coarse correction


class _Level:
    """One grid of the multigrid hierarchy: its unknown pixels and neighbour counts."""

    def __init__(self, domain: torch.Tensor) -> None:
        height, width = domain.shape
        self.domain = domain
        self.count = _neighbour_sum(torch.ones(1, height, width))  # (1, H, W) in-array
        self.inv_count = 1.0 / self.count
        parity = (torch.arange(height)[:, None] + torch.arange(width)[None, :]) % 2
        self.colours = (domain & (parity == 0), domain & (parity == 1))


def _levels(domain: torch.Tensor) -> list[_Level]:
    levels = [_Level(domain)]
    while min(domain.shape) > _COARSEST:
        height, width = domain.shape
        padded = F.pad(domain[None, None].float(), (0, width % 2, 0, height % 2))
        domain = F.max_pool2d(padded, 2)[0, 0] > 0  # a coarse pixel is unknown if any fine is
        levels.append(_Level(domain))
    return levels


def _neighbour_sum(x: torch.Tensor) -> torch.Tensor:
    """(C, H, W) -> sum of the 4 neighbours inside the array, per channel."""
    p = F.pad(x, (1, 1, 1, 1))  # zeros past the edge: they add nothing
    return p[:, :-2, 1:-1] + p[:, 2:, 1:-1] + p[:, 1:-1, :-2] + p[:, 1:-1, 2:]


def _apply(level: _Level, x: torch.Tensor) -> torch.Tensor:
    """A x: count * x - (sum of unknown neighbours); x is zero off the domain."""
    return level.count * x - _neighbour_sum(x)


def _smooth(
    level: _Level, x: torch.Tensor, b: torch.Tensor, sweeps: int, order: tuple[int, int]
) -> torch.Tensor:
    for _ in range(sweeps):
        for c in order:
            x = torch.where(level.colours[c], (b + _neighbour_sum(x)) * level.inv_count, x)
    return x


def _v_cycle(levels: list[_Level], i: int, b: torch.Tensor) -> torch.Tensor:
    """One symmetric V-cycle for A e = b from e = 0 (the CG preconditioner).

    Restriction sums the four fine residuals (the transpose of piecewise-constant
    prolongation); with that pair the Galerkin coarse operator is twice the coarse 5-point
    Laplacian, hence the halved right-hand side.
    """
    level = levels[i]
    x = torch.zeros_like(b)
    if i == len(levels) - 1:  # a small grid: symmetric sweeps until it is (nearly) solved
        side = max(level.domain.shape)
        for _ in range(2 * side + 4):
            x = _smooth(level, x, b, 1, (0, 1))
            x = _smooth(level, x, b, 1, (1, 0))
        return x
    x = _smooth(level, x, b, _SMOOTH, (0, 1))
    residual = torch.where(level.domain, b - _apply(level, x), 0.0)
    height, width = level.domain.shape
    padded = F.pad(residual[None], (0, width % 2, 0, height % 2))
    coarse_b = F.avg_pool2d(padded, 2)[0] * 2.0  # (sum of the four residuals) / 2
    coarse_b = torch.where(levels[i + 1].domain, coarse_b, 0.0)
    error = _v_cycle(levels, i + 1, coarse_b)
    fine = error.repeat_interleave(2, 1).repeat_interleave(2, 2)[:, :height, :width]
    x = torch.where(level.domain, x + fine, x)
    return _smooth(level, x, b, _SMOOTH, (1, 0))


# Detail matching: the largest factor by which the fill's own fine detail is amplified.
MAX_SHARPEN = 2.0


def detail_layer(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> float32 fine detail: the image minus its 3x3 binomial blur."""
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)
    p = F.pad(x[None], (1, 1, 1, 1), mode="replicate")[0]
    rows = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]) / 4
    blur = (rows[:, :, :-2] + 2 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4
    return (x - blur).permute(1, 2, 0).numpy()


def mid_layer(image: np.ndarray, radius: int) -> np.ndarray:
    """(H, W, 3) -> float32 mid-frequency detail: the 3x3 binomial blur minus a wider blur
    (two box blurs of ``radius``), the band a decoder up-sampled ``radius`` times softens."""
    x = np.asarray(image, dtype=np.float32)
    fine_blur = x - detail_layer(x)
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None]
    k = 2 * radius + 1
    for _ in range(2):
        t = F.avg_pool2d(F.pad(t, (radius,) * 4, mode="replicate"), k, stride=1)
    return fine_blur - t[0].permute(1, 2, 0).numpy()


def detail_match(
    generated: np.ndarray,
    original: np.ndarray,
    fill: np.ndarray,
    kept: np.ndarray,
    cell: int,
    rng: np.random.Generator,
    softness: int = 1,
) -> np.ndarray:
    """Give the fill the detail (edges, texture, grain) of the picture around it.

    A decoded window is softer than the photo it sits in (a VQ tokenizer keeps layout and
    colour, not the finest detail), and an up-sampled one more so. Per token cell and per band
    (fine: the 3x3 detail; mid: the band up-sampling by ``softness`` blurs), the target is the
    detail energy of the original's kept cells, spread into the fill by harmonic interpolation
    on the cell grid (so a fill between grass and sky gets grass-like detail at the bottom and
    none at the top). The fill's own detail in each band is amplified towards it (up to
    ``MAX_SHARPEN``), and the fine grain still missing (a robust, median-based noise level,
    which edges do not inflate) is added as high-passed noise.

    Args:
        generated: (H, W, 3) float the generated window at document resolution.
        original: (H, W, 3) the document's pixels under it.
        fill: (H, W) bool the pixels that take generated content.
        kept: (H, W) bool the pixels whose original detail is representative (kept cells).
        cell: document px per token cell (the grid the energies are measured on).
        rng: the source of the grain (seeded by the caller: same seed, same output).
        softness: the working scale (the model's output is enlarged this many times).

    Returns:
        (H, W, 3) float32 ``generated`` with matched detail inside ``fill``.
    """
    g = np.asarray(generated, dtype=np.float32)
    if not fill.any() or not kept.any():
        return g.copy()
    radius = max(int(softness), 1)
    fine_o, mid_o = detail_layer(original), mid_layer(original, radius)
    fine_g, mid_g = detail_layer(g), mid_layer(g, radius)
    # Per cell and channel: mean fine energy, robust fine noise energy, mean mid energy.
    target = np.concatenate(
        [_cell_energy(fine_o, kept, cell), _cell_energy(mid_o, kept, cell)[..., :3]], axis=-1
    )  # (rows, cols, 9), NaN where a cell has too few kept pixels
    have_target = ~np.isnan(target[..., 0])
    if not have_target.any():
        return g.copy()
    spread = solve_membrane(np.nan_to_num(target), ~have_target)  # into cells without data
    own = np.concatenate(
        [_cell_energy(fine_g, fill, cell), _cell_energy(mid_g, fill, cell)[..., :3]], axis=-1
    )
    want = _upsample_cells(spread, cell, fill.shape)  # (H, W, 9) energies per pixel
    have = _upsample_cells(np.nan_to_num(own), cell, fill.shape)

    def gain(i: int) -> np.ndarray:
        return np.clip(
            np.sqrt(want[..., i : i + 3] / np.maximum(have[..., i : i + 3], 1e-6)), 1.0, MAX_SHARPEN
        )

    fine_gain, mid_gain = gain(0), gain(6)
    missing = np.maximum(want[..., 3:6] - fine_gain**2 * have[..., 3:6], 0.0)
    noise = _grain(rng, fill.shape)
    extra = (fine_gain - 1.0) * fine_g + (mid_gain - 1.0) * mid_g + np.sqrt(missing) * noise
    return (g + extra * fill[..., None]).astype(np.float32)


def _cell_energy(detail: np.ndarray, where: np.ndarray, cell: int) -> np.ndarray:
    """Per cell over the ``where`` pixels: (rows, cols, 6) the mean squared detail of each
    channel, then each channel's noise energy ``(1.4826 * median |detail|)^2``; NaN for cells
    with under a quarter of their pixels in ``where``."""
    height, width = where.shape
    rows, cols = -(-height // cell), -(-width // cell)
    pad = ((0, rows * cell - height), (0, cols * cell - width))
    w = np.pad(where, pad).reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3)
    w = w.reshape(rows, cols, cell * cell)  # (rows, cols, P)
    d = np.pad(detail, pad + ((0, 0),)).reshape(rows, cell, cols, cell, 3).transpose(0, 2, 1, 3, 4)
    d = np.where(w[..., None], d.reshape(rows, cols, cell * cell, 3), np.nan)  # (rows, cols, P, 3)
    count = w.sum(axis=-1)
    out = np.full((rows, cols, 6), np.nan, dtype=np.float32)
    ok = count >= max(cell * cell / 4, 1)
    if ok.any():
        part = d[ok]  # (n, P, 3)
        out[ok, :3] = np.nanmean(part**2, axis=1)
        out[ok, 3:] = (1.4826 * np.nanmedian(np.abs(part), axis=1)) ** 2
    return out


def _upsample_cells(values: np.ndarray, cell: int, shape_hw: tuple[int, int]) -> np.ndarray:
    """(rows, cols, C) per-cell values -> (H, W, C) by bilinear interpolation of cell centres."""
    x = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)).permute(2, 0, 1)[None]
    up = F.interpolate(x, scale_factor=cell, mode="bilinear", align_corners=False)
    return up[0, :, : shape_hw[0], : shape_hw[1]].permute(1, 2, 0).numpy()


def _grain(rng: np.random.Generator, shape_hw: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) unit-energy high-passed noise, mostly shared by the channels (like luma grain)."""
    common = rng.standard_normal((*shape_hw, 1), dtype=np.float32)
    own = rng.standard_normal((*shape_hw, 3), dtype=np.float32)
    noise = detail_layer(0.8 * common + 0.6 * own)
    return noise / max(float(np.sqrt((noise**2).mean())), 1e-6)


__all__ = [
    "colour_match",
    "detail_layer",
    "detail_match",
    "mid_layer",
    "poisson_blend",
    "solve_membrane",
]
