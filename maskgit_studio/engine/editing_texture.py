"""Example-based detail: a fill's fine detail, borrowed from the picture around it.

A decoded window is smoother than the photo it sits in: a VQ tokenizer keeps layout and colour,
not grain, and a window decoded at working scale s is enlarged s times, so its edges are soft
and the grass, foliage and camera noise of the picture are gone (on the edit benchmark the
fill kept about 1 % of the fine-detail energy of its surroundings at scale 2). The picture
around the edit still has that detail. As in example-based super-resolution (Freeman, Jones and
Pasztor 2002) with the image's own patches as the examples (Glasner, Bagon and Irani 2009),
each patch of the fill is matched by its smooth content (the low-pass band, which the decoder
does get right) against the patches of the kept cells, and the match's detail band (the picture
minus its low-pass) tops up the fill's own. An edge in the fill is matched by a similar edge
nearby and gets its crispness; a patch of grass gets grass, a patch of sky gets the sky's grain.

Matching happens at the model's resolution on patches one token cell wide (at most 8x8
features), mean-removed so that tint does not decide; among the near-best candidates one is
drawn at random (seeded), so a large flat fill is not tiled with one patch. Neighbouring detail
patches share a quarter of their side and cross-fade there, keeping their energy (``cross_fade``).
Only luma detail is borrowed, and
a patch borrowed from a stronger edge is toned down to the fill's own contrast.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .editing_blend import detail_layer

# Low-pass of the decoder's output, in model pixels (see low_pass); above it lies the detail
# to borrow.
LOWPASS_SIGMA = 1.0
# At most this many feature samples per patch side (larger cells are pooled).
FEATURE_SIDE = 8
# Candidates within this relative distance of the best are drawn among (at most MAX_CHOICES).
NEAR_BEST = 0.15
MAX_CHOICES = 8
# Grey levels of low-pass contrast a fill patch may have beyond the one it borrows from before
# the borrowed detail is toned down (flat patches keep their grain).
CONTRAST_FLOOR = 2.0
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# Cells of picture around the fill that lend their detail.
MARGIN_CELLS = 3
# Below this many candidate patches the picture has too little to borrow from.
MIN_CANDIDATES = 16


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, C) float -> (H, W, C) float32 Gaussian blur (separable, edges replicated)."""
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[:, None]
    radius = max(int(np.ceil(3 * sigma)), 1)
    r = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(r**2) / (2 * sigma * sigma))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1))
    return x[:, 0].permute(1, 2, 0).numpy()


def low_pass(image: np.ndarray, scale: int) -> np.ndarray:
    """(H, W, C) float -> (H, W, C) float32: what a window decoded at model resolution and
    enlarged ``scale`` times can carry. Blurred at model resolution (mean of each model pixel,
    a Gaussian of ``LOWPASS_SIGMA``, bilinear back up), which also keeps the cost of a very
    enlarged window low."""
    if scale <= 1:
        return gaussian_blur(image, LOWPASS_SIGMA)
    height, width = image.shape[:2]
    planes = np.ascontiguousarray(np.moveaxis(np.asarray(image, dtype=np.float32), -1, 0))
    x = torch.from_numpy(planes)[None]  # (1, C, H, W)
    pad = (0, -width % scale, 0, -height % scale)
    small = F.avg_pool2d(F.pad(x, pad, mode="replicate") if any(pad) else x, scale)
    small = gaussian_blur(small[0].permute(1, 2, 0).numpy(), LOWPASS_SIGMA)
    small = torch.from_numpy(np.ascontiguousarray(np.moveaxis(small, -1, 0)))[None]
    up = F.interpolate(small, scale_factor=scale, mode="bilinear", align_corners=False)
    return np.moveaxis(up[0, :, :height, :width].numpy(), 0, -1)


def transfer_detail(
    generated: np.ndarray,
    original: np.ndarray,
    fill: np.ndarray,
    examples: np.ndarray,
    cell: int,
    softness: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Top up the fill's detail with the detail of the picture's best-matching patches.

    Per fill patch the borrowed detail is weighted by how much the fill's own finest detail
    falls short of it in energy, and takes the place of as much of the own: an enlarged, smooth fill
    takes it whole, a window decoded at full size with detail of its own (fur where the picture
    has grass) keeps its own and takes little or nothing.

    Args:
        generated: (H, W, 3) float the generated window at document resolution.
        original: (H, W, 3) the document's pixels under it.
        fill: (H, W) bool the pixels that take generated content.
        examples: (H, W) bool pixels of real picture to borrow from: the kept cells (and with a
            pixel mask the unpainted pixels of the regenerated ones).
        cell: document px per token cell (the patch side).
        softness: the working scale (the model's output is enlarged this many times).
        rng: draws among near-equal matches (seeded by the caller: same seed, same output).

    Returns:
        out: (H, W, 3) float32 ``generated`` with borrowed detail added inside ``fill``.
        borrowed: (H, W) bool the fill pixels that got borrowed detail (none where
            ``examples`` has too few patches to borrow from).
    """
    g = np.asarray(generated, dtype=np.float32)
    o = np.asarray(original, dtype=np.float32)
    s = max(int(softness), 1)
    step = s * max(cell // s // FEATURE_SIDE, 1)  # document px per feature sample
    side = max(cell // step, 2)  # feature samples per patch side
    patch = side * step  # document px per patch side
    borrowed = np.zeros(fill.shape, dtype=bool)
    out = g.copy()
    if not fill.any():
        return out, borrowed
    # Work near the fill only (on the cell grid, so that model pixels stay whole): the detail
    # to borrow is the nearby picture's, and the cost follows the edit, not the window.
    ys, xs = np.nonzero(fill)
    reach = MARGIN_CELLS * cell
    y0, x0 = max(ys.min() - reach, 0) // cell * cell, max(xs.min() - reach, 0) // cell * cell
    y1, x1 = ys.max() + 1 + reach, xs.max() + 1 + reach
    crop = (slice(y0, y1), slice(x0, x1))
    if min(fill[crop].shape) < patch:
        return out, borrowed
    out[crop], borrowed[crop] = _transfer(
        g[crop], o[crop], fill[crop], examples[crop], (step, side, patch, s), rng
    )
    return out, borrowed


def _transfer(g, o, fill, examples, geometry, rng):
    """transfer_detail on a crop; ``geometry`` = (step, side, patch, scale)."""
    step, side, patch, s = geometry
    height, width = fill.shape
    nothing = np.zeros(fill.shape, dtype=bool)
    low_o, low_g = low_pass(o, s), low_pass(g, s)
    # Luma detail only: borrowed colour edges would paint streaks of the wrong hue.
    detail_o = (o - low_o) @ LUMA
    # The finest band (3x3) decides how much the fill lacks: an enlarged decode has none there.
    fine_o, fine_g = detail_layer(o) @ LUMA, detail_layer(g) @ LUMA

    feats_o, pos_o, ok_o = _patches(low_o, examples, step, side, max(side // 4, 1), True)
    feats_o, pos_o = feats_o[ok_o], pos_o[ok_o]
    if len(pos_o) < MIN_CANDIDATES:
        return g.copy(), nothing
    overlap = max(side // 4, 1)  # feature samples two neighbouring query patches share
    feats_g, pos_g, touches = _patches(low_g, fill, step, side, side - overlap, False)
    feats_g, pos_g = feats_g[touches], pos_g[touches]

    choice = _draw_matches(feats_g, feats_o, rng)
    # An edge borrowed from a stronger one is toned down to the fill's own contrast.
    contrast_g, contrast_o = feats_g.std(axis=1), feats_o[choice].std(axis=1)
    scales = np.minimum((contrast_g + CONTRAST_FLOOR) / np.maximum(contrast_o, 1e-6), 1.0)
    window = _window(patch, overlap * step)
    pieces, top_ups = [], []
    for (qy, qx), (sy, sx), k in zip(pos_g, pos_o[choice], scales, strict=True):
        piece = k * detail_o[sy : sy + patch, sx : sx + patch]
        own = float(np.mean(fine_g[qy : qy + patch, qx : qx + patch] ** 2))
        lent = k * k * float(np.mean(fine_o[sy : sy + patch, sx : sx + patch] ** 2))
        top_up = np.sqrt(max(1.0 - own / max(lent, 1e-6), 0.0))
        pieces.append(top_up * piece)
        top_ups.append(top_up)
    detail, weight = cross_fade(pieces, pos_g, window, (height, width), overlap * step)
    share, _ = cross_fade(top_ups, pos_g, window, (height, width))  # how much of the own gives way
    # Where no patch reached (a sliver at the window's edge), the fill keeps its own detail.
    borrowed = (weight > 1e-3) & fill
    detail = np.where(borrowed, detail, 0.0)[..., None]
    share = np.where(borrowed, share, 0.0)[..., None]
    # The borrowed detail takes the place of the fill's own in proportion (a soft edge's own
    # blur would otherwise stay under the crisp one).
    out = g + detail - share * (g - low_g)
    return out.astype(np.float32), borrowed


def cross_fade(
    pieces: list[np.ndarray] | list[float],
    corners: np.ndarray,
    window: np.ndarray,
    shape: tuple[int, int],
    overlap: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping patches cross-faded into one map, keeping the energy of detail patches.

    A plain weighted mean of two unrelated detail patches has less energy than either: w^2 +
    (1 - w)^2 of it where they cross-fade, down to 1/4 where four meet, so the borrowed detail
    would show a faint grid of softer bands (on quarter-side overlaps about a sixth of its energy
    was lost). With ``overlap`` > 0 the mean is scaled back up by the energy the patches have
    there (their weighted mean square) over the energy of the mix, both smoothed over the
    overlap: the variance-preserving blend of by-example texture synthesis (Heitz and Neyret
    2018), with the gain measured, not assumed, so that neighbours that borrowed the same edge
    (correlated patches) are not brightened. The gain is at least 1 and at most 2 (four unrelated
    patches meeting at a corner).

    Args:
        pieces: N (P, P) float32 patches (or N numbers: constant patches).
        corners: (N, 2) int (y, x) of each patch's corner in the map.
        window: (P, P) float32 cross-fade weights (``_window``).
        shape: (H, W) of the map.
        overlap: px neighbouring patches share; 0 = the plain weighted mean (for smooth maps).

    Returns:
        mixed: (H, W) float32 the cross-faded patches (0 where none reached).
        weight: (H, W) float32 the summed window weights (0 where none reached).
    """
    acc = np.zeros(shape, dtype=np.float32)
    weight = np.zeros(shape, dtype=np.float32)
    energy = np.zeros(shape, dtype=np.float32)
    size = window.shape[0]
    for (y, x), piece in zip(corners, pieces, strict=True):
        where = (slice(y, y + size), slice(x, x + size))
        acc[where] += window * piece
        weight[where] += window
        if overlap:
            energy[where] += window * piece * piece
    safe = np.maximum(weight, 1e-3)
    mixed = np.where(weight > 1e-3, acc / safe, 0.0).astype(np.float32)
    if not overlap:
        return mixed, weight
    sigma = max(overlap / 2, 1.0)
    have = gaussian_blur((mixed * mixed)[..., None], sigma)[..., 0]
    want = gaussian_blur(np.where(weight > 1e-3, energy / safe, 0.0)[..., None], sigma)[..., 0]
    gain = np.clip(np.sqrt(want / np.maximum(have, 1e-6)), 1.0, 2.0)
    return (mixed * gain).astype(np.float32), weight


def _patches(
    low: np.ndarray, mask: np.ndarray, step: int, side: int, stride: int, candidate: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean-removed luma patches of ``low`` on the feature grid.

    Args:
        low: (H, W, 3) float the low-pass band.
        mask: (H, W) bool; a candidate patch must lie wholly in it, a query patch touch it.
        step: document px per feature sample.
        side: feature samples per patch side.
        stride: feature samples between patches (the last patch is flush with the end).
        candidate: select patches wholly inside ``mask`` (else: touching it).

    Returns:
        feats: (N, side * side) float32; pos: (N, 2) int document (y, x) of each patch's corner;
        ok: (N,) bool the selected patches.
    """
    rows, cols = low.shape[0] // step, low.shape[1] // step
    crop = (slice(0, rows * step), slice(0, cols * step))
    y = torch.from_numpy(np.ascontiguousarray(low[crop] @ LUMA))[None]
    m = torch.from_numpy(np.ascontiguousarray(mask[crop], dtype=np.float32))[None]
    y, m = F.avg_pool2d(y, step)[0].numpy(), F.avg_pool2d(m, step)[0].numpy()  # (rows, cols)
    ys, xs = _starts(rows, side, stride), _starts(cols, side, stride)
    view = np.lib.stride_tricks.sliding_window_view
    feats = view(y, (side, side))[ys][:, xs].reshape(len(ys) * len(xs), side * side)
    cover = view(m, (side, side))[ys][:, xs].reshape(len(ys) * len(xs), side * side)
    ok = cover.min(axis=1) >= 0.999 if candidate else cover.max(axis=1) > 0
    pos = np.stack(np.meshgrid(ys * step, xs * step, indexing="ij"), -1).reshape(-1, 2)
    return feats - feats.mean(axis=1, keepdims=True), pos, ok


def _window(patch: int, overlap: int) -> np.ndarray:
    """(patch, patch) float32 weights: 1 inside, raised-cosine ramps over ``overlap`` px at the
    sides, so that two patches ``patch - overlap`` apart cross-fade to a sum of 1 and most
    pixels take one patch's detail whole (averaging unrelated patches would wash it out)."""
    w = np.ones(patch, dtype=np.float32)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / overlap)
    w[:overlap], w[patch - overlap :] = ramp, ramp[::-1]
    return np.outer(w, w)


def _starts(length: int, side: int, stride: int) -> np.ndarray:
    """Patch starts every ``stride`` samples, the last one flush with the end."""
    last = length - side
    starts = np.arange(0, last + 1, stride)
    return np.unique(np.append(starts, last)) if last >= 0 else np.zeros(0, dtype=int)


def _draw_matches(queries: np.ndarray, candidates: np.ndarray, rng: np.random.Generator):
    """(Q,) index into ``candidates`` for each query: one drawn among the near-best."""
    d = torch.cdist(torch.from_numpy(queries), torch.from_numpy(candidates)) ** 2  # (Q, N)
    k = min(MAX_CHOICES, d.shape[1])
    best, index = torch.topk(d, k, dim=1, largest=False)  # ascending
    near = best <= best[:, :1] * (1 + NEAR_BEST) + 1e-3 * queries.shape[1]
    pick = (rng.random(len(queries)) * near.sum(dim=1).numpy()).astype(int)
    return index.numpy()[np.arange(len(queries)), pick]


__all__ = ["cross_fade", "gaussian_blur", "low_pass", "transfer_detail"]
