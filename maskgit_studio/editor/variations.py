"""Candidates of a finished run waiting for the user: browse, then accept one or discard all."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Candidates:
    """K result images of one run, not yet part of the document.

    Attributes:
        images: K arrays (H', W', 3) uint8, the whole new document for each variation.
        offset: (dx, dy) of the current document's top-left inside each image (outpainting).
        changed: (H', W') bool pixels that may differ from the current document.
        run_id: the RunRecord these came from.
        operation: what produced them ("inpaint", "outpaint", "edit_box", "generate", ...).
        box_index: the box that was edited (removed from the document on accept), or None.
        index: the variation on show.
    """

    images: list[np.ndarray]
    offset: tuple[int, int]
    changed: np.ndarray
    run_id: int
    operation: str
    box_index: int | None = None
    index: int = 0

    def __post_init__(self) -> None:
        if not self.images:
            raise ValueError("a run produced no images")
        shapes = {im.shape for im in self.images}
        if len(shapes) != 1:
            raise ValueError(f"candidate images differ in shape: {sorted(shapes)}")

    @property
    def count(self) -> int:
        return len(self.images)

    @property
    def current(self) -> np.ndarray:
        """(H', W', 3) uint8 the variation on show."""
        return self.images[self.index]

    def browse(self, step: int) -> int:
        """Show the next (+1) or previous (-1) variation, wrapping around; returns the index."""
        self.index = (self.index + step) % self.count
        return self.index
