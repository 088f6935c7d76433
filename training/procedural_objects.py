"""Main objects of the procedural scenes, man-made ones: one drawing function per class.

Every function has the signature `draw(p, rng, cx, base, s)`: centre x, bottom y (where it
touches the ground or water) and overall size s (height, or width for the car), all in frame
units. Bold silhouettes and strong colours on purpose: the classes must stay recognisable after
a lossy tokenizer with 16 px per token. A function always consumes the same number of random
draws, so a scene does not depend on the view it is rendered in.
"""

from __future__ import annotations

import numpy as np

from training.procedural_painter import Painter

DARK = (40, 32, 30)
GLASS = (150, 200, 235)


def draw_house(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    walls = p.colour(
        rng,
        [
            (240, 228, 205),
            (250, 250, 244),
            (244, 214, 130),
            (168, 198, 230),
            (232, 162, 140),
            (205, 205, 205),
        ],
    )
    roof = p.colour(rng, [(196, 38, 36), (150, 40, 30), (110, 66, 40), (64, 76, 112)])
    door = p.colour(rng, [(110, 66, 40), (60, 90, 60), (150, 40, 40), (40, 60, 110)])
    w = s * rng.uniform(0.95, 1.25)
    eave = base - 0.58 * s
    p.rect(cx + 0.18 * w, base - 0.95 * s, cx + 0.3 * w, eave, p.shade(roof, 0.7))  # chimney
    p.rect(cx - w / 2, eave, cx + w / 2, base, walls)
    side = p.light_dir
    p.rect(cx - side * w / 2, eave, cx - side * 0.38 * w, base, p.shade(walls, 0.82))
    over = 0.07 * s
    p.polygon(
        [(cx - w / 2 - over, eave + 0.01), (cx + w / 2 + over, eave + 0.01), (cx, base - s)], roof
    )
    p.polygon(
        [(cx, base - s), (cx - side * (w / 2 + over), eave + 0.01), (cx, eave + 0.01)],
        p.shade(roof, 0.78),
    )
    dw = 0.17 * w
    p.rect(cx - dw / 2, base - 0.32 * s, cx + dw / 2, base, door)
    for wx in (cx - 0.3 * w, cx + 0.3 * w):
        p.rect(wx - 0.1 * w, base - 0.42 * s, wx + 0.1 * w, base - 0.2 * s, (250, 250, 250))
        p.rect(wx - 0.075 * w, base - 0.4 * s, wx + 0.075 * w, base - 0.22 * s, GLASS)


def draw_boat(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    hull = p.colour(
        rng, [(184, 32, 32), (30, 50, 124), (124, 72, 40), (240, 240, 236), (30, 104, 64)]
    )
    sail = p.colour(rng, [(252, 252, 246), (246, 236, 212), (250, 250, 250), (228, 64, 52)])
    flag = p.colour(rng, [(230, 40, 40), (250, 200, 40), (40, 90, 220)])
    d = 1 if rng.random() < 0.5 else -1
    w = s * rng.uniform(0.85, 1.05)
    deck = base - 0.22 * s
    p.ellipse(cx, base + 0.02 * s, 0.45 * w, 0.05 * s, (10, 30, 60, 90))  # reflection
    p.polygon(
        [(cx - w / 2, deck), (cx + w / 2, deck), (cx + 0.34 * w, base), (cx - 0.34 * w, base)], hull
    )
    p.rect(cx - w / 2 + 0.02, deck, cx + w / 2 - 0.02, deck + 0.035 * s, p.shade(hull, 1.3))
    mast_x = cx - d * 0.04 * s
    p.line([(mast_x, deck), (mast_x, base - s)], 0.025 * s, DARK)
    p.polygon(
        [
            (mast_x + d * 0.02 * s, base - 0.97 * s),
            (mast_x + d * 0.02 * s, deck - 0.04 * s),
            (mast_x + d * 0.44 * w, deck - 0.04 * s),
        ],
        sail,
    )
    p.polygon(
        [
            (mast_x - d * 0.02 * s, base - 0.88 * s),
            (mast_x - d * 0.02 * s, deck - 0.04 * s),
            (mast_x - d * 0.36 * w, deck - 0.04 * s),
        ],
        p.shade(sail, 0.88),
    )
    p.polygon(
        [(mast_x, base - s), (mast_x + d * 0.12 * s, base - 0.965 * s), (mast_x, base - 0.93 * s)],
        flag,
    )


def draw_car(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    body = p.colour(
        rng,
        [
            (212, 30, 30),
            (30, 92, 204),
            (246, 200, 22),
            (40, 152, 62),
            (246, 122, 22),
            (236, 236, 236),
        ],
    )
    d = 1 if rng.random() < 0.5 else -1  # facing right (+1) or left
    roof_len = rng.uniform(0.3, 0.4) * s
    p.ellipse(cx, base - 0.01 * s, 0.52 * s, 0.05 * s, (0, 0, 0, 70))
    p.rect(cx - 0.5 * s, base - 0.34 * s, cx + 0.5 * s, base - 0.1 * s, body, radius=0.06 * s)
    back, front = cx - d * 0.32 * s, cx + d * 0.3 * s
    rb, rf = cx - d * 0.22 * s, cx - d * 0.22 * s + d * roof_len
    p.polygon(
        [
            (back, base - 0.33 * s),
            (rb, base - 0.54 * s),
            (rf, base - 0.54 * s),
            (front, base - 0.33 * s),
        ],
        body,
    )
    inset = 0.04 * s
    mid = (rb + rf) / 2
    p.polygon(
        [
            (back + d * inset * 1.6, base - 0.35 * s),
            (rb + d * inset * 0.5, base - 0.5 * s),
            (mid - d * inset * 0.4, base - 0.5 * s),
            (mid - d * inset * 0.4, base - 0.35 * s),
        ],
        GLASS,
    )
    p.polygon(
        [
            (mid + d * inset * 0.4, base - 0.35 * s),
            (mid + d * inset * 0.4, base - 0.5 * s),
            (rf - d * inset * 0.5, base - 0.5 * s),
            (front - d * inset * 1.6, base - 0.35 * s),
        ],
        GLASS,
    )
    p.rect(cx - 0.5 * s, base - 0.22 * s, cx + 0.5 * s, base - 0.19 * s, p.shade(body, 0.7))
    lamp_x = cx + d * 0.46 * s
    p.circle(lamp_x, base - 0.28 * s, 0.035 * s, (255, 236, 120))
    p.circle(cx - d * 0.47 * s, base - 0.28 * s, 0.03 * s, (200, 20, 20))
    for wx in (cx - 0.3 * s, cx + 0.3 * s):
        p.circle(wx, base - 0.12 * s, 0.12 * s, (28, 28, 30))
        p.circle(wx, base - 0.12 * s, 0.055 * s, (170, 170, 176))


def draw_rocket(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    hull = p.colour(rng, [(238, 238, 244), (206, 210, 220)], jitter=6)
    accent = p.colour(rng, [(222, 30, 30), (30, 82, 204), (242, 140, 22)])
    puffs = rng.uniform(-1, 1, (4, 2))
    w = 0.22 * s
    bottom = base - 0.2 * s  # the flame and smoke fill the last fifth
    for ox, oy in puffs:
        p.circle(cx + ox * 0.22 * s, base - 0.06 * s + oy * 0.03 * s, 0.09 * s, (236, 236, 236))
    p.polygon(
        [(cx - 0.08 * s, bottom), (cx + 0.08 * s, bottom), (cx, base - 0.02 * s)], (250, 140, 20)
    )
    p.polygon(
        [(cx - 0.045 * s, bottom), (cx + 0.045 * s, bottom), (cx, base - 0.08 * s)], (255, 232, 90)
    )
    for side in (-1, 1):
        p.polygon(
            [
                (cx + side * w / 2, bottom - 0.3 * s),
                (cx + side * (w / 2 + 0.13 * s), bottom),
                (cx + side * w / 2, bottom - 0.02 * s),
            ],
            accent,
        )
    top = base - 0.8 * s
    p.rect(cx - w / 2, top, cx + w / 2, bottom, hull)
    p.rect(cx - p.light_dir * w / 2, top, cx - p.light_dir * 0.2 * w, bottom, p.shade(hull, 0.84))
    p.polygon(
        [
            (cx - w / 2, top + 0.005),
            (cx - 0.38 * w, base - 0.9 * s),
            (cx, base - s),
            (cx + 0.38 * w, base - 0.9 * s),
            (cx + w / 2, top + 0.005),
        ],
        accent,
    )
    p.rect(cx - w / 2, bottom - 0.08 * s, cx + w / 2, bottom - 0.04 * s, accent)
    p.circle(cx, base - 0.6 * s, 0.085 * s, accent)
    p.circle(cx, base - 0.6 * s, 0.06 * s, GLASS)


def draw_lighthouse(p: Painter, rng: np.random.Generator, cx, base, s) -> None:
    band = p.colour(rng, [(214, 30, 30), (214, 30, 30), (30, 30, 36)], jitter=8)
    white = p.colour(rng, [(248, 248, 244)], jitter=4)
    rock = p.colour(rng, [(96, 92, 90), (120, 112, 104)])
    n = int(rng.integers(3, 5))
    p.ellipse(cx, base - 0.04 * s, 0.3 * s, 0.07 * s, rock)
    y0, y1 = base - 0.06 * s, base - 0.72 * s
    w0, w1 = 0.14 * s, 0.085 * s
    for k in range(2 * n):
        ya, yb = y0 + (y1 - y0) * k / (2 * n), y0 + (y1 - y0) * (k + 1) / (2 * n)
        wa, wb = w0 + (w1 - w0) * k / (2 * n), w0 + (w1 - w0) * (k + 1) / (2 * n)
        colour = band if k % 2 == 0 else white
        p.polygon([(cx - wa, ya), (cx + wa, ya), (cx + wb, yb), (cx - wb, yb)], colour)
        side = -p.light_dir
        p.polygon(
            [
                (cx + side * wa, ya),
                (cx + side * wa * 0.3, ya),
                (cx + side * wb * 0.3, yb),
                (cx + side * wb, yb),
            ],
            p.shade(colour, 0.8),
        )
    p.rect(cx - 0.12 * s, y1 - 0.03 * s, cx + 0.12 * s, y1 + 0.005, DARK)
    p.rect(cx - 0.065 * s, base - 0.88 * s, cx + 0.065 * s, y1 - 0.03 * s, (255, 228, 96))
    p.line([(cx, base - 0.88 * s), (cx, y1 - 0.03 * s)], 0.015 * s, DARK)
    p.polygon(
        [(cx - 0.09 * s, base - 0.875 * s), (cx + 0.09 * s, base - 0.875 * s), (cx, base - s)], band
    )


def draw_balloon(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    pairs = [
        ((230, 40, 40), (250, 210, 40)),
        ((40, 90, 220), (250, 250, 250)),
        ((150, 60, 190), (250, 140, 30)),
        ((40, 160, 70), (250, 220, 60)),
        ((230, 40, 40), (250, 250, 250)),
    ]
    a, b = pairs[rng.integers(len(pairs))]
    a, b = p.colour(rng, [a], jitter=10), p.colour(rng, [b], jitter=10)
    r = 0.33 * s
    cy = base - s + 1.05 * r
    mouth_y = base - 0.26 * s
    p.polygon(
        [
            (cx - 0.9 * r, cy + 0.35 * r),
            (cx + 0.9 * r, cy + 0.35 * r),
            (cx + 0.28 * r, mouth_y),
            (cx - 0.28 * r, mouth_y),
        ],
        a,
    )
    p.polygon(
        [
            (cx - 0.3 * r, cy + 0.35 * r),
            (cx + 0.3 * r, cy + 0.35 * r),
            (cx + 0.1 * r, mouth_y),
            (cx - 0.1 * r, mouth_y),
        ],
        b,
    )
    for k, frac in enumerate((1.0, 0.72, 0.45, 0.2)):
        p.ellipse(cx, cy, frac * r, 1.05 * r, a if k % 2 == 0 else b)
    p.chord(
        cx, cy, r, 1.05 * r, 90 - 60 * p.light_dir - 60, 90 - 60 * p.light_dir + 60, (0, 0, 0, 40)
    )
    basket_top = base - 0.12 * s
    for side in (-1, 1):
        p.line(
            [(cx + side * 0.27 * r, mouth_y), (cx + side * 0.1 * s, basket_top)], 0.012 * s, DARK
        )
    p.rect(cx - 0.1 * s, basket_top, cx + 0.1 * s, base, (132, 86, 42))
    p.rect(cx - 0.1 * s, basket_top, cx + 0.1 * s, basket_top + 0.025 * s, (92, 58, 30))
