"""Backgrounds for the procedural scenes: sky, far hills, ground or water, road, clouds.

Everything here is a function of WORLD coordinates, never of the frame: x and y are in frame
units (the training frame is the square [0, 1] x [0, 1], y grows downwards), so a wider view of
the same scene continues the horizon, the hills and the ground texture past the frame edges.
That is what makes outpainting measurable (the ground truth beyond the frame exists).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

# World x range that scene-wide random features (hills, clouds) are laid out over. Views may
# extend this far left/right of the frame (x in [0, 1]) and still see a complete scene.
WORLD_X0, WORLD_X1 = -3.0, 4.0

# Sky types: (top colour, horizon colour, light tint per channel).
SKIES = {
    "day": ((62, 118, 205), (188, 220, 245), (1.0, 1.0, 1.0)),
    "sunset": ((72, 58, 128), (250, 156, 86), (1.06, 0.88, 0.74)),
    "overcast": ((118, 124, 136), (205, 207, 212), (0.88, 0.9, 0.94)),
    "dawn": ((104, 146, 212), (250, 204, 188), (1.02, 0.95, 0.92)),
}
SKY_NAMES = tuple(SKIES)

# Ground types: (near colour, texture amplitude).
GROUNDS = {
    "grass": ((74, 150, 58), 0.35),
    "field": ((126, 92, 56), 0.25),
    "sand": ((226, 196, 140), 0.18),
    "snow": ((214, 226, 242), 0.12),
    "water": ((36, 92, 150), 0.3),
}
GROUND_NAMES = tuple(GROUNDS)
LAND_NAMES = ("grass", "field", "sand", "snow")

_TILE = 256  # texels per side of the periodic noise tile


@functools.cache
def noise_tile() -> np.ndarray:
    """Periodic smooth value noise, the same on every machine.

    Returns:
        (256, 256) float32 in about [0, 1], tileable in both axes.
    """
    rng = np.random.default_rng(20240611)
    total = np.zeros((_TILE, _TILE), np.float32)
    weight = 0.0
    for cells, amp in ((4, 1.0), (8, 0.6), (16, 0.4), (32, 0.25), (64, 0.15)):
        grid = rng.random((cells, cells)).astype(np.float32)
        t = np.arange(_TILE, dtype=np.float32) * cells / _TILE
        i0 = t.astype(np.int64)
        f = t - i0
        f = f * f * (3 - 2 * f)  # smoothstep hides the grid
        i1 = (i0 + 1) % cells
        rows = grid[i0] * (1 - f)[:, None] + grid[i1] * f[:, None]  # (T, cells)
        total += amp * (rows[:, i0] * (1 - f)[None, :] + rows[:, i1] * f[None, :])
        weight += amp
    total /= weight
    return ((total - total.min()) / (total.max() - total.min())).astype(np.float32)


def _lerp(a, b, t):
    return a + (b - a) * t


def tinted(colour, tint, k: float = 1.0) -> tuple[int, ...]:
    """Colour (RGB or RGBA ints) times the light tint and a brightness factor k, clipped."""
    rgb = [min(255, max(0, round(c * t * k))) for c, t in zip(colour[:3], tint, strict=True)]
    return tuple(rgb) + tuple(colour[3:])


@dataclass(frozen=True)
class Backdrop:
    """One sampled background. All lengths in frame units (frame height = 1)."""

    sky_top: np.ndarray  # (3,) float32
    sky_horizon: np.ndarray  # (3,) float32
    tint: tuple[float, float, float]
    light_dir: int  # -1: light from the left, +1: from the right
    horizon: float  # y of the horizon line
    ground: str  # one of GROUND_NAMES
    ground_colour: np.ndarray  # (3,) float32
    tex_scale: float
    tex_offset: tuple[float, float]
    ridge_kind: str  # "none" | "hills" | "mountains" | "forest"
    ridge_colour: np.ndarray  # (3,) float32
    ridge_params: np.ndarray  # (K, 3) rows of (amplitude or peak height, freq or x, phase or slope)
    road: tuple[float, float] | None  # (top y, bottom y) of a road band, or None
    clouds: tuple[tuple[float, float, float, float], ...]  # (x, y, width, height)


def sample_backdrop(
    rng: np.random.Generator, ground: str, horizon: float, road_at: float | None = None
) -> Backdrop:
    """Draw the random parameters of a background.

    Args:
        rng: consumed.
        ground: one of GROUND_NAMES.
        horizon: y of the horizon.
        road_at: put a road whose lower part passes through this y (for cars), else maybe
            a random one.
    """
    sky = SKY_NAMES[rng.integers(len(SKY_NAMES))]
    top, hor, tint = SKIES[sky]
    jitter = rng.uniform(-14, 14, size=(2, 3)).astype(np.float32)
    sky_top = np.clip(np.asarray(top, np.float32) + jitter[0], 0, 255)
    sky_hor = np.clip(np.asarray(hor, np.float32) + jitter[1], 0, 255)
    gcol, _ = GROUNDS[ground]
    ground_colour = np.clip(np.asarray(gcol, np.float32) + rng.uniform(-16, 16, 3), 0, 255)
    ground_colour *= np.asarray(tint, np.float32)
    kinds = ("none", "hills", "mountains", "forest")
    ridge_kind = kinds[rng.choice(4, p=(0.15, 0.4, 0.25, 0.2))]
    if ridge_kind == "mountains":
        base = np.asarray((112, 122, 150), np.float32)
    elif ridge_kind == "forest":
        base = np.asarray((40, 84, 52), np.float32)
    else:
        base = np.asarray((88, 136, 84), np.float32)
    ridge_colour = _lerp(base * np.asarray(tint, np.float32), sky_hor, rng.uniform(0.2, 0.5))
    ridge_params = _sample_ridge(rng, ridge_kind)
    road = None
    top_y = rng.uniform(horizon + 0.05, horizon + 0.18)
    width = rng.uniform(0.06, 0.1)
    if road_at is not None:
        road = (road_at - width, road_at + 0.03)
    elif ground not in ("water", "snow") and rng.random() < 0.25:
        road = (top_y, top_y + width)
    # clouds spread over the whole world (also above the frame) so wider views have them too
    n_clouds = rng.integers(6, 33)
    cx = rng.uniform(WORLD_X0, WORLD_X1, 32)
    cy = rng.uniform(-0.8, 0.45 * horizon, 32)
    cw = rng.uniform(0.12, 0.35, 32)
    ch = cw * rng.uniform(0.25, 0.45, 32)
    clouds = tuple(
        (float(cx[k]), float(cy[k]), float(cw[k]), float(ch[k])) for k in range(n_clouds)
    )
    return Backdrop(
        sky_top=sky_top,
        sky_horizon=sky_hor,
        tint=tint,
        light_dir=int(rng.choice((-1, 1))),
        horizon=horizon,
        ground=ground,
        ground_colour=ground_colour.astype(np.float32),
        tex_scale=float(rng.uniform(0.8, 1.3)),
        tex_offset=(float(rng.uniform(0, 64)), float(rng.uniform(0, 64))),
        ridge_kind=ridge_kind,
        ridge_colour=ridge_colour.astype(np.float32),
        ridge_params=ridge_params,
        road=road,
        clouds=clouds,
    )


def _sample_ridge(rng: np.random.Generator, kind: str) -> np.ndarray:
    """(K, 3) parameters of the far ridge; always 24 draws per column so streams stay aligned."""
    raw = rng.random((8, 3))
    if kind == "mountains":
        # peaks: (height, x, slope); spaced over the whole world so wide views see more
        xs = np.linspace(WORLD_X0, WORLD_X1, 8) + (raw[:, 1] - 0.5) * 0.8
        return np.stack([0.08 + 0.16 * raw[:, 0], xs, 0.5 + 0.7 * raw[:, 2]], axis=1)
    # sum of sines: (amplitude, frequency, phase)
    amp = 0.05 if kind == "hills" else 0.012
    freq = (1.5 + 4.0 * raw[:, 1]) if kind == "hills" else (10 + 30 * raw[:, 1])
    return np.stack([amp * (0.3 + raw[:, 0]) / 4, freq * 2 * np.pi, raw[:, 2] * 2 * np.pi], 1)


def ridge_top(b: Backdrop, xs: np.ndarray) -> np.ndarray:
    """y of the far ridge's upper edge at world x positions; (W,) -> (W,)."""
    p = b.ridge_params
    if b.ridge_kind == "mountains":
        heights = p[:, 0:1] - p[:, 2:3] * np.abs(xs[None, :] - p[:, 1:2])  # (K, W)
        return b.horizon - np.maximum(heights.max(axis=0), 0.015)
    base = 0.06 if b.ridge_kind == "hills" else 0.035
    wave = (p[:, 0:1] * np.sin(p[:, 1:2] * xs[None, :] + p[:, 2:3])).sum(axis=0)
    return b.horizon - base - wave


def paint_backdrop(b: Backdrop, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Render sky, ridge, ground (or water) and road at pixel centres.

    Args:
        b: the sampled backdrop.
        xs: (W,) float32 world x of the pixel columns.
        ys: (H,) float32 world y of the pixel rows (increasing).

    Returns:
        (H, W, 3) uint8 RGB.
    """
    h = b.horizon
    t = np.clip(ys / h, 0.0, 1.0) ** 1.6
    sky_rows = _lerp(b.sky_top, b.sky_horizon, t[:, None])  # (H, 3)
    img = np.empty((ys.size, xs.size, 3), np.uint8)
    img[:] = sky_rows.astype(np.uint8)[:, None, :]
    if b.ridge_kind != "none":
        _paint_ridge(b, img, xs, ys)
    g0 = int(np.searchsorted(ys, h, side="right"))  # first ground row
    if g0 < ys.size:
        img[g0:] = _paint_ground(b, xs, ys[g0:])
    if b.road is not None:
        _paint_road(b, img, xs, ys)
    return img


def _paint_ridge(b: Backdrop, img: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    top = ridge_top(b, xs)  # (W,)
    r0 = int(np.searchsorted(ys, top.min()))
    r1 = int(np.searchsorted(ys, b.horizon, side="right"))
    if r1 <= r0:
        return
    yy = ys[r0:r1, None]
    mask = yy >= top[None, :]  # (R, W)
    # a little darker towards the horizon, snow on high mountain tops
    shade = 1.0 - 0.25 * np.clip((yy - top[None, :]) / 0.15, 0, 1)
    colour = b.ridge_colour[None, None, :] * shade[..., None]  # (R, W, 3)
    if b.ridge_kind == "mountains":
        snow = (yy < b.horizon - 0.12) & mask
        colour[snow] = np.float32(240) * np.asarray(b.tint, np.float32)
    img[r0:r1][mask] = colour[mask].astype(np.uint8)


def _stripes(coord: np.ndarray) -> np.ndarray:
    """+1/-1 square wave with period 1 in `coord` (cheaper than sign(sin))."""
    return ((coord * 2 + 65536).astype(np.int32) & 1).astype(np.float32) * 2 - 1


def _paint_ground(b: Backdrop, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(Hg, W, 3) uint8 ground below the horizon, with a perspective-mapped texture."""
    dy = ys - b.horizon  # (Hg,) > 0
    depth = 1.0 / np.maximum(dy, 1e-3)  # ground-plane distance, up to a constant
    u = (xs - 0.5)[None, :] * depth[:, None]  # (Hg, W) ground-plane x
    near = np.clip(dy / 0.12, 0.0, 1.0)  # fade texture near the horizon (aliasing)
    haze = 0.6 * np.exp(-dy / 0.06)  # atmospheric perspective towards the horizon
    s = b.tex_scale
    ou, ov = b.tex_offset
    mask = _TILE - 1
    if b.ground == "water":
        # waves are long horizontal streaks: the noise is stretched along x
        tu = ((u * (48 * s) + (ou * 8 + 65536)).astype(np.int32)) & mask
        tv = ((depth * (64 * s) + ov * 16).astype(np.int32)) & mask
        tex = noise_tile()[tv[:, None], tu]  # (Hg, W)
        mod = 0.8 + (tex - 0.5) * (0.5 * near)[:, None]
        glint = np.clip(tex - 0.78, 0, None) * (540 * near)[:, None]
        deep = _lerp(b.sky_horizon * 0.8, b.ground_colour, np.clip(dy / 0.25, 0, 1)[:, None])
        rows = deep * (1 - haze)[:, None]
        out = rows[:, None, :] * mod[..., None] + (
            glint[..., None] + (b.sky_horizon * haze[:, None])[:, None, :]
        )
        return np.clip(out, 0, 255).astype(np.uint8)
    tu = ((u * (24 * s) + (ou * 24 + 65536)).astype(np.int32)) & mask
    tv = ((depth * (24 * s) + ov * 24).astype(np.int32)) & mask
    amp = GROUNDS[b.ground][1]
    tex = noise_tile()[tv[:, None], tu]  # (Hg, W) in [0, 1]
    mod = tex * (amp * near)[:, None] + (1 - 0.5 * amp * near)[:, None]
    if b.ground == "field":  # crop rows converge to the vanishing point
        mod += _stripes(u * (9.0 * s)) * (0.22 * np.clip(dy / 0.2, 0, 1))[:, None]
    elif b.ground == "grass":  # mowing stripes
        mod += _stripes(u * (3.0 * s)) * (0.06 * near)[:, None]
    elif b.ground == "sand":  # ripples
        mod += 0.06 * np.sin(depth[:, None] * (40 * s) + 6 * tex) * near[:, None]
    light = (0.85 + 0.2 * np.clip(dy / 0.4, 0, 1)) * (1 - haze)  # lighter in front
    rows = b.ground_colour[None, :] * light[:, None]  # (Hg, 3)
    out = rows[:, None, :] * mod[..., None] + (b.sky_horizon * haze[:, None])[:, None, :]
    return np.clip(out, 0, 255).astype(np.uint8)


def _paint_road(b: Backdrop, img: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    top, bottom = b.road
    r0, r1 = int(np.searchsorted(ys, top)), int(np.searchsorted(ys, bottom))
    if r1 <= r0:
        return
    yy = ys[r0:r1, None]
    grey = np.asarray((92, 92, 96), np.float32) * np.asarray(b.tint, np.float32)
    region = np.empty((r1 - r0, xs.size, 3), np.uint8)
    region[:] = grey.astype(np.uint8)
    mid = (top + bottom) / 2
    dash = (np.abs(yy - mid) < (bottom - top) * 0.06) & ((xs[None, :] * 6) % 1.0 < 0.5)
    region[dash] = 235
    img[r0:r1] = region
