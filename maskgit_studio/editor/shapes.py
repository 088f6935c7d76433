"""Small immutable document parts: edit boxes and pending canvas growth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cells import pixels_to_cells


@dataclass(frozen=True)
class Box:
    """A box edit in document pixels: regenerate this rectangle as class ``class_id``.

    ``class_id`` None means "the model's choice" (the GUI asks before running).
    """

    x: int
    y: int
    w: int
    h: int
    class_id: int | None = None

    def __post_init__(self) -> None:
        if self.w < 1 or self.h < 1:
            raise ValueError(f"a box needs a positive size, got {self.w}x{self.h}")

    @property
    def xywh(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.w, self.h

    def moved(self, dx: int, dy: int) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h, self.class_id)

    def with_class(self, class_id: int | None) -> Box:
        return Box(self.x, self.y, self.w, self.h, class_id)

    def to_json(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "class_id": self.class_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Box:
        class_id = data.get("class_id")
        return cls(
            int(data["x"]),
            int(data["y"]),
            int(data["w"]),
            int(data["h"]),
            None if class_id is None else int(class_id),
        )


@dataclass(frozen=True)
class Growth:
    """Pending outpaint: whole token cells to add on each side of the canvas (all >= 0)."""

    left: int = 0
    top: int = 0
    right: int = 0
    bottom: int = 0

    def __post_init__(self) -> None:
        if min(self.left, self.top, self.right, self.bottom) < 0:
            raise ValueError(f"canvas growth must be >= 0 cells on every side, got {self}")

    @property
    def any(self) -> bool:
        return bool(self.left or self.top or self.right or self.bottom)

    def pixels(self, cell: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) document pixels to add: whole cells on every side.

        Whole cells on the left/top keep the old cells aligned with the grown canvas's grid.
        """
        return self.left * cell, self.top * cell, self.right * cell, self.bottom * cell

    def grown_shape(self, shape_hw: tuple[int, int], cell: int) -> tuple[int, int]:
        """(H', W') of the canvas after this growth."""
        left, top, right, bottom = self.pixels(cell)
        return shape_hw[0] + top + bottom, shape_hw[1] + left + right

    def new_cells(self, shape_hw: tuple[int, int], cell: int) -> np.ndarray:
        """(rows', cols') bool cells of the grown canvas holding any new pixel (all regenerate)."""
        left, top, _, _ = self.pixels(cell)
        new = np.ones(self.grown_shape(shape_hw, cell), dtype=bool)
        new[top : top + shape_hw[0], left : left + shape_hw[1]] = False
        return pixels_to_cells(new, cell)

    def to_json(self) -> list[int]:
        return [self.left, self.top, self.right, self.bottom]

    @classmethod
    def from_json(cls, data: list[int]) -> Growth:
        left, top, right, bottom = (int(v) for v in data)
        return cls(left, top, right, bottom)
