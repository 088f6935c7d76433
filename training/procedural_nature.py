"""Main objects of the procedural scenes, natural ones: one drawing function per class.

Every function has the signature `draw(p, rng, cx, base, s)`: centre x, bottom y (where it
touches the ground or water) and overall size s (height), all in frame
units. Bold silhouettes and strong colours on purpose: the classes must stay recognisable after
a lossy tokenizer with 16 px per token. A function always consumes the same number of random
draws, so a scene does not depend on the view it is rendered in.
"""

from __future__ import annotations

import numpy as np

from training.procedural_objects import DARK
from training.procedural_painter import Painter


def draw_tree(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    autumn = rng.random() < 0.2
    leaves = (
        [(214, 124, 32), (196, 70, 34)] if autumn else [(46, 142, 52), (70, 160, 48), (34, 116, 50)]
    )
    crown = p.colour(rng, leaves)
    trunk = p.colour(rng, [(112, 72, 42), (90, 60, 40)])
    conifer = rng.random() < 0.3
    offs = rng.uniform(-1, 1, (5, 2))
    tw = 0.1 * s
    p.polygon(
        [
            (cx - tw, base),
            (cx + tw, base),
            (cx + tw * 0.6, base - 0.6 * s),
            (cx - tw * 0.6, base - 0.6 * s),
        ],
        trunk,
    )
    if conifer:
        dark = p.shade(crown, 0.7)
        for k, (y0, hw) in enumerate(((0.78, 0.36), (0.55, 0.3), (0.33, 0.22))):
            yb = base - (0.2 + 0.2 * k) * s
            p.polygon([(cx - hw * s, yb), (cx + hw * s, yb), (cx, base - (y0 + 0.22) * s)], dark)
            p.polygon(
                [(cx, yb), (cx + p.light_dir * hw * s, yb), (cx, base - (y0 + 0.22) * s)], crown
            )
        return
    r = 0.32 * s
    cy = base - s + r
    dark = p.shade(crown, 0.72)
    p.circle(cx, cy, r, dark)
    for ox, oy in offs[:4]:
        p.circle(cx + ox * 0.55 * r, cy + 0.25 * r + oy * 0.3 * r, 0.68 * r, dark)
    hx = cx + p.light_dir * 0.2 * r
    p.circle(hx, cy - 0.15 * r, 0.78 * r, crown)
    p.circle(
        hx + p.light_dir * 0.3 * r,
        cy - 0.3 * r + offs[4, 1] * 0.1 * r,
        0.4 * r,
        p.shade(crown, 1.15),
    )


def draw_sun(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    core = p.colour(rng, [(255, 222, 40), (255, 196, 34), (255, 236, 110)], jitter=6)
    ray = p.colour(rng, [(255, 168, 20), (255, 204, 44), (250, 140, 30)], jitter=6)
    n = int(rng.integers(8, 15))
    spin = rng.uniform(0, np.pi)
    cy = base - s / 2
    r = 0.31 * s
    p.circle(cx, cy, 0.5 * s, ray[:3] + (60,))
    for k in range(n):
        a = spin + 2 * np.pi * k / n
        length = 0.5 * s if k % 2 == 0 else 0.43 * s
        da = np.pi / n * 0.55
        p.polygon(
            [
                (cx + np.cos(a - da) * r, cy + np.sin(a - da) * r),
                (cx + np.cos(a) * length, cy + np.sin(a) * length),
                (cx + np.cos(a + da) * r, cy + np.sin(a + da) * r),
            ],
            ray,
        )
    p.circle(cx, cy, r * 0.93, core)
    p.circle(cx + p.light_dir * 0.08 * s, cy - 0.07 * s, r * 0.55, p.shade(core, 1.08))


def draw_flower(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    petal = p.colour(
        rng,
        [
            (232, 40, 64),
            (242, 120, 182),
            (152, 62, 192),
            (250, 142, 30),
            (252, 252, 252),
            (70, 110, 232),
        ],
    )
    centre = p.colour(rng, [(252, 204, 30), (122, 72, 30), (250, 170, 20)])
    stem = p.colour(rng, [(46, 132, 44), (70, 150, 50)])
    n = int(rng.choice((5, 6, 8)))
    spin = rng.uniform(0, np.pi)
    bend = rng.uniform(-0.08, 0.08) * s
    big_r = 0.24 * s
    hy = base - s + big_r
    hx = cx + bend
    p.line([(cx, base), (cx + bend * 0.3, base - 0.4 * s), (hx, hy)], 0.05 * s, stem)
    for side in (-1, 1):
        ly = base - 0.28 * s + side * 0.05 * s
        tip = (cx + side * 0.24 * s, ly - 0.14 * s)
        p.polygon(
            [
                (cx, ly),
                (cx + side * 0.1 * s, ly - 0.02 * s),
                tip,
                (cx + side * 0.08 * s, ly - 0.11 * s),
            ],
            stem,
        )
    dark = p.shade(petal, 0.8)
    for k in range(n):
        a = spin + 2 * np.pi * k / n
        px, py = hx + np.cos(a) * 0.58 * big_r, hy + np.sin(a) * 0.58 * big_r
        p.circle(px, py, 0.45 * big_r, dark)
        p.circle(px - p.light_dir * 0.04 * big_r, py - 0.05 * big_r, 0.38 * big_r, petal)
    p.circle(hx, hy, 0.36 * big_r, centre)
    p.circle(hx + p.light_dir * 0.1 * big_r, hy - 0.1 * big_r, 0.15 * big_r, p.shade(centre, 1.2))


def draw_snowman(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    snow = p.colour(rng, [(246, 248, 255)], jitter=4)
    scarf = p.colour(rng, [(212, 30, 30), (30, 92, 204), (40, 152, 62), (246, 150, 22)])
    tilt = rng.uniform(-0.03, 0.03) * s
    r1, r2, r3 = 0.21 * s, 0.155 * s, 0.11 * s
    c1 = base - r1
    c2 = c1 - r1 - r2 + 0.03 * s
    c3 = c2 - r2 - r3 + 0.025 * s
    x2, x3 = cx + tilt * 0.5, cx + tilt
    for side in (-1, 1):  # stick arms behind the body
        p.line(
            [(x2 + side * 0.1 * s, c2), (x2 + side * 0.34 * s, c2 - 0.14 * s)],
            0.02 * s,
            (96, 62, 36),
        )
    shadow = p.shade(snow, 0.8)
    for x, c, r in ((cx, c1, r1), (x2, c2, r2), (x3, c3, r3)):
        p.circle(x, c, r, shadow)
        p.circle(x + p.light_dir * 0.12 * r, c - 0.1 * r, 0.86 * r, snow)
    p.rect(x3 - 0.12 * s, c3 + r3 - 0.045 * s, x3 + 0.12 * s, c3 + r3 + 0.005 * s, scarf)
    for k in range(3):
        p.circle(x2, c2 - 0.08 * s + k * 0.07 * s, 0.018 * s, DARK)
    for side in (-1, 1):
        p.circle(x3 + side * 0.04 * s, c3 - 0.025 * s, 0.016 * s, DARK)
    d = p.light_dir
    p.polygon(
        [(x3, c3 - 0.005 * s), (x3 + d * 0.13 * s, c3 + 0.015 * s), (x3, c3 + 0.03 * s)],
        (246, 128, 20),
    )
    hat = c3 - r3 + 0.03 * s
    p.rect(x3 - 0.11 * s, hat - 0.025 * s, x3 + 0.11 * s, hat, DARK)
    p.rect(x3 - 0.075 * s, base - s, x3 + 0.075 * s, hat - 0.02 * s, DARK)
    p.rect(x3 - 0.075 * s, hat - 0.06 * s, x3 + 0.075 * s, hat - 0.035 * s, scarf)


def draw_mushroom(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    cap = p.colour(rng, [(212, 26, 26), (212, 26, 26), (230, 84, 20), (150, 82, 42)])
    stem = p.colour(rng, [(242, 232, 212), (236, 224, 196)], jitter=6)
    spots = rng.uniform(0, 1, (7, 3))
    w = s * rng.uniform(0.5, 0.6)  # half width of the cap
    p.polygon(
        [
            (cx - 0.17 * s, base),
            (cx + 0.17 * s, base),
            (cx + 0.13 * s, base - 0.5 * s),
            (cx - 0.13 * s, base - 0.5 * s),
        ],
        stem,
    )
    side = -p.light_dir
    p.polygon(
        [
            (cx + side * 0.17 * s, base),
            (cx + side * 0.06 * s, base),
            (cx + side * 0.05 * s, base - 0.5 * s),
            (cx + side * 0.13 * s, base - 0.5 * s),
        ],
        p.shade(stem, 0.85),
    )
    rim = base - 0.45 * s
    p.ellipse(cx, rim, 0.9 * w, 0.06 * s, p.shade(stem, 0.75))
    p.chord(cx, rim, w, 0.55 * s, 180, 360, cap)
    p.chord(cx - side * 0.3 * w, rim, 0.6 * w, 0.45 * s, 200, 340, p.shade(cap, 1.12))
    for a, rf, rad in spots:
        ang = np.pi * (1.1 + 0.8 * a)  # upper half, away from the rim
        rr = 0.25 + 0.5 * rf
        p.circle(
            cx + np.cos(ang) * rr * w,
            rim + np.sin(ang) * rr * 0.55 * s,
            (0.04 + 0.035 * rad) * s,
            (250, 250, 246),
        )


def draw_cactus(p: Painter, rng: np.random.Generator, cx: float, base: float, s: float) -> None:
    green = p.colour(rng, [(52, 132, 62), (72, 152, 62), (42, 112, 72)])
    flower = rng.random() < 0.4
    arms = rng.uniform(0, 1, (2, 2))
    tw = 0.1 * s
    dark = p.shade(green, 0.75)
    for side, (h, two) in zip((-1, 1), arms, strict=True):
        if side == 1 and two < 0.35:
            continue  # sometimes only one arm
        ay = base - (0.35 + 0.25 * h) * s
        ax = cx + side * 0.3 * s
        p.rect(
            min(cx, ax) - 0.06 * s,
            ay - 0.07 * s,
            max(cx, ax) + 0.06 * s,
            ay + 0.07 * s,
            dark,
            radius=0.07 * s,
        )
        p.rect(
            ax - 0.075 * s, ay - 0.32 * s, ax + 0.075 * s, ay + 0.07 * s, green, radius=0.075 * s
        )
    p.rect(cx - tw, base - s, cx + tw, base + 0.02 * s, green, radius=tw)
    lit = cx + p.light_dir * 0.04 * s
    p.rect(
        lit - 0.03 * s,
        base - 0.95 * s,
        lit + 0.03 * s,
        base - 0.05 * s,
        p.shade(green, 1.18),
        radius=0.03 * s,
    )
    for ox in (-0.05, 0.05):
        p.line([(cx + ox * s, base - 0.9 * s), (cx + ox * s, base)], 0.01 * s, dark)
    if flower:
        p.circle(cx, base - s + 0.02 * s, 0.05 * s, (242, 96, 160))
