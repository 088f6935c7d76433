"""A thin world-to-canvas wrapper around PIL ImageDraw for the procedural scenes.

Shapes are given in world units (frame units, y down); the painter maps them onto a supersampled
canvas that covers the view. Colours are RGB or RGBA int tuples; RGBA blends (shadows, glows).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from training.procedural_background import tinted


class Painter:
    """Draws world-unit shapes onto a canvas at `scale` canvas pixels per world unit.

    Args:
        image: the RGB canvas (modified in place).
        origin: (x, y) whole canvas pixels from the world origin to the canvas's top-left.
        scale: canvas pixels per world unit.
        tint: light tint (r, g, b) applied by `colour`.
        light_dir: -1 when the light comes from the left, +1 from the right.
    """

    def __init__(self, image: Image.Image, origin: tuple[int, int], scale: float, tint, light_dir):
        self.draw = ImageDraw.Draw(image, "RGBA")
        self.x0, self.y0 = origin
        self.scale = scale
        self.tint = tint
        self.light_dir = light_dir

    # -- colours -----------------------------------------------------------------------------
    def colour(self, rng: np.random.Generator, palette, jitter: int = 12) -> tuple[int, ...]:
        """A jittered palette entry under the scene light (always consumes 4 draws)."""
        base = palette[rng.integers(len(palette))]
        noise = rng.integers(-jitter, jitter + 1, 3)
        rgb = tuple(int(np.clip(c + n, 0, 255)) for c, n in zip(base, noise, strict=True))
        return tinted(rgb, self.tint)

    @staticmethod
    def shade(colour, k: float) -> tuple[int, ...]:
        """colour scaled by k (k < 1 darker, k > 1 lighter), alpha kept."""
        return tuple(min(255, max(0, round(c * k))) for c in colour[:3]) + tuple(colour[3:])

    # -- shapes (world units) -----------------------------------------------------------------
    def _xy(self, x: float, y: float) -> tuple[int, int]:
        # Snap to whole canvas pixels in WORLD pixel space, then shift: a shape then lands on
        # the same pixels in every view (PIL truncates negative coordinates toward zero, which
        # would otherwise make shapes cut by the canvas edge differ between views).
        return (round(x * self.scale) - self.x0, round(y * self.scale) - self.y0)

    def polygon(self, points, fill) -> None:
        self.draw.polygon([self._xy(x, y) for x, y in points], fill=fill)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill) -> None:
        x0, y0 = self._xy(cx - rx, cy - ry)
        x1, y1 = self._xy(cx + rx, cy + ry)
        if x1 - x0 >= 1 and y1 - y0 >= 1:
            self.draw.ellipse((x0, y0, x1, y1), fill=fill)

    def circle(self, cx: float, cy: float, r: float, fill) -> None:
        self.ellipse(cx, cy, r, r, fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill, radius: float = 0.0) -> None:
        a, b = self._xy(x0, y0)
        c, d = self._xy(x1, y1)
        if c - a < 1 or d - b < 1:
            return
        r = radius * self.scale
        if r >= 1:
            self.draw.rounded_rectangle(
                (a, b, c, d), radius=min(r, (c - a) / 2, (d - b) / 2), fill=fill
            )
        else:
            self.draw.rectangle((a, b, c, d), fill=fill)

    def chord(self, cx, cy, rx, ry, start: float, end: float, fill) -> None:
        """Filled part of an ellipse between two angles (degrees, clockwise from +x)."""
        x0, y0 = self._xy(cx - rx, cy - ry)
        x1, y1 = self._xy(cx + rx, cy + ry)
        if x1 - x0 >= 1 and y1 - y0 >= 1:
            self.draw.chord((x0, y0, x1, y1), start, end, fill=fill)

    def line(self, points, width: float, fill) -> None:
        w = max(1, round(width * self.scale))
        self.draw.line([self._xy(x, y) for x, y in points], fill=fill, width=w, joint="curve")
