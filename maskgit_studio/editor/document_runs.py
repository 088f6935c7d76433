"""The run side of the Document: the run log, candidates waiting for the user, results landing.

A mixin of ``Document`` (it uses the document's gesture machinery and fields); kept apart so
each file stays readable.
"""

from __future__ import annotations

import numpy as np

from . import cells as cellmath
from .runs import RunRecord
from .shapes import Growth
from .variations import Candidates


class RunsMixin:
    """Run-log methods of ``Document`` (its fields: _runs, _pending, _image, _mask, ...)."""

    def add_run(self, record: RunRecord) -> RunRecord:
        """Append a finished run to the log (not undoable: the log is a journal)."""
        self._runs.append(record)
        self.version += 1
        self._notify({"runs"})
        return record

    def next_run_id(self) -> int:
        return max((r.id for r in self._runs), default=0) + 1

    def set_pending(self, candidates: Candidates) -> None:
        """Show a run's candidates; nothing changes until one is accepted."""
        if candidates.run_id not in {r.id for r in self._runs}:
            raise ValueError(f"run {candidates.run_id} is not in the run log")
        self._pending = candidates
        self._notify({"pending"})

    def browse_pending(self, step: int) -> None:
        if self._pending is not None:
            self._pending.browse(step)
            self._notify({"pending"})

    def discard_pending(self) -> None:
        if self._pending is not None:
            self._pending = None
            self._notify({"pending"})

    def accept_pending(self) -> bool:
        """Make the candidate on show the document (one undoable step); False if none.

        The mask and the boxes stay (a grown canvas moves them, and its new cells join the
        mask), so the next run tries the same edit again, as a selection does in a photo editor.
        """
        cand = self._pending
        if cand is None:
            return False
        label = f"Accept {cand.operation.replace('_', ' ')}"
        with self.gesture(label):  # discards the pending candidates, which we hold
            self._land(cand.current, cand.offset, cand.operation == "generate")
            self._runs = [
                r.with_accepted(cand.index) if r.id == cand.run_id else r for r in self._runs
            ]
            self._touch("runs")
        return True

    def restore_run(self, run_id: int, variation: int) -> bool:
        """Bring back a logged run's result as one undoable step. False when the run kept no
        output or the canvas is neither the one it made nor the one it started from."""
        record = next((r for r in self._runs if r.id == run_id), None)
        if record is None or record.output is None or self._depth:
            return False
        placed = record.output.over(self._image, variation)
        if placed is None:
            return False
        with self.gesture(f"Restore run {run_id}"):
            self._land(placed[0], placed[1], record.output.whole)
        return True

    def _land(self, image: np.ndarray, offset: tuple[int, int], replaces: bool) -> None:
        """A result becomes the image; ``replaces``: a whole new canvas (a generation)."""
        old_shape = self.shape
        mask_pixels = cellmath.cells_to_pixels(self._mask, old_shape, self.cell_size)
        painted = self._pixels
        self._set_image(image, offset)
        if replaces:
            self._original, self._origin = self._image, (0, 0)
            offset = (0, 0)
        else:
            self._origin = (self._origin[0] + offset[0], self._origin[1] + offset[1])
        self._mask, self._boxes = cellmath.carry_selection(
            mask_pixels, self._boxes, old_shape, self.shape, offset, self.cell_size, replaces
        )
        if painted is not None:  # painted pixels stay where they were on the picture
            moved = None
            if not replaces:
                moved = np.zeros(self.shape, dtype=bool)
                dx, dy = offset
                moved[dy : dy + old_shape[0], dx : dx + old_shape[1]] = painted
            self._set_pixels(moved)
        self._growth, self._blank = Growth(), False
        self._touch("image", "mask", "boxes", "growth", "grid", "result")
