"""The document: image, token-cell mask, boxes, pending canvas growth, run log, undo/redo.

The selection is the cell mask, plus pixels painted with a round brush (``pixels``): a pixel
stroke turns the cell mask into pixels first, so the pixels then hold the whole selection.

Every change happens inside a gesture (one stroke, one box drag, one accepted result); a
gesture becomes one undoable Command. Listeners hear about every change as a set of aspects:
"image", "mask", "boxes", "growth", "grid", "pending", "runs", "result" (a run's result
landed: accepted or restored), and "history" once a change is committed (the moment to autosave).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import cells as cellmath
from .document_mask import MaskMixin
from .document_runs import RunsMixin
from .history import Command, ImageDelta, UndoStack
from .runs import RunRecord
from .shapes import Box, Growth
from .snapshot import Snapshot, check_image
from .variations import Candidates

log = logging.getLogger(__name__)

Listener = Callable[[set[str]], None]
BLANK_GREY = 48


class Document(MaskMixin, RunsMixin):
    """An image being edited.

    Args:
        image: (H, W, 3) uint8.
        factor: the model's downsample factor f (pixels per token at scale 1).
        scale: working scale s; a token cell is ``f * s`` document pixels.
        blank: True for the placeholder canvas of a new, empty document.
    """

    def __init__(
        self,
        image: np.ndarray,
        factor: int,
        scale: int = 1,
        *,
        blank: bool = False,
        history: UndoStack | None = None,
    ) -> None:
        if factor < 1 or scale < 1:
            raise ValueError(f"factor and scale must be >= 1, got {factor} and {scale}")
        self._image = check_image(image)
        self._factor, self._scale = factor, scale
        self._mask = np.zeros(self.grid_shape, dtype=bool)
        self._pixels: np.ndarray | None = None  # (H, W) bool, read-only; None = no pixels
        self._boxes: tuple[Box, ...] = ()
        self._growth = Growth()
        self._original = self._image
        self._origin = (0, 0)
        self._blank = blank
        self._runs: list[RunRecord] = []
        self._pending: Candidates | None = None
        self.history = history or UndoStack()
        self.version = 0  # bumped on every committed change
        self.saved_version = 0
        self.path: Path | None = None  # the project file, once saved or opened
        self.source: Path | None = None  # the image it was opened from
        self._listeners: list[Listener] = []
        self._depth = 0
        self._before: Snapshot | None = None
        self._before_image = self._image
        self._offset = (0, 0)
        self._label = ""
        self._aspects: set[str] = set()

    @classmethod
    def blank(cls, size: int, factor: int, scale: int = 1) -> Document:
        """A size x size neutral canvas waiting for a generated image."""
        image = np.full((size, size, 3), BLANK_GREY, dtype=np.uint8)
        return cls(image, factor, scale, blank=True)

    @classmethod
    def from_parts(
        cls, image: np.ndarray, parts: Snapshot, runs: Iterable[RunRecord] = ()
    ) -> Document:
        """Rebuild a document from stored parts (a project file), with an empty undo history."""
        doc = cls(image, parts.factor, parts.scale, blank=parts.blank)
        if parts.mask.shape != doc.grid_shape:
            raise ValueError(f"mask has {parts.mask.shape} cells, the image has {doc.grid_shape}")
        if parts.pixels is not None and parts.pixels.shape != doc.shape:
            raise ValueError(f"selection is {parts.pixels.shape}, the image is {doc.shape}")
        for box in parts.boxes:
            doc._check_box(box)
        doc._restore(parts)
        same = parts.original is image  # keep "the original is the image" as one array
        doc._original = doc._image if same else check_image(parts.original)
        doc._runs = list(runs)
        return doc

    # ---- read-only state -------------------------------------------------------------------
    @property
    def image(self) -> np.ndarray:
        """(H, W, 3) uint8, read-only."""
        return self._image

    @property
    def mask(self) -> np.ndarray:
        """(rows, cols) bool cells selected for inpainting (do not write to it)."""
        return self._mask

    @property
    def boxes(self) -> tuple[Box, ...]:
        return self._boxes

    @property
    def growth(self) -> Growth:
        return self._growth

    @property
    def factor(self) -> int:
        return self._factor

    @property
    def scale(self) -> int:
        return self._scale

    @property
    def cell_size(self) -> int:
        """Document pixels per token cell side (f * scale)."""
        return self._factor * self._scale

    @property
    def shape(self) -> tuple[int, int]:
        return int(self._image.shape[0]), int(self._image.shape[1])

    @property
    def grid_shape(self) -> tuple[int, int]:
        return cellmath.grid_shape(*self.shape, self.cell_size)

    @property
    def original(self) -> np.ndarray:
        """The image as first opened (for compare); it sits at ``origin`` in the canvas."""
        return self._original

    @property
    def origin(self) -> tuple[int, int]:
        return self._origin

    @property
    def is_blank(self) -> bool:
        return self._blank

    @property
    def runs(self) -> tuple[RunRecord, ...]:
        return tuple(self._runs)

    @property
    def pending(self) -> Candidates | None:
        return self._pending

    @property
    def modified(self) -> bool:
        return self.version != self.saved_version

    # ---- listeners -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, aspects: set[str]) -> None:
        for listener in list(self._listeners):
            listener(set(aspects))

    def _touch(self, *aspects: str) -> None:
        """Inside a gesture: tell listeners now (live display), commit at the gesture's end."""
        self._aspects.update(aspects)
        self._notify(set(aspects))

    # ---- gestures and undo -----------------------------------------------------------------
    def _snapshot(self) -> Snapshot:
        mask = self._mask.copy()
        mask.flags.writeable = False
        return Snapshot(
            mask,
            self._boxes,
            self._growth,
            self._factor,
            self._scale,
            self._original,
            self._origin,
            self._blank,
            self._pixels,
        )

    def _restore(self, snap: Snapshot) -> None:
        self._mask = snap.mask.copy()
        self._pixels = snap.pixels
        self._boxes, self._growth = snap.boxes, snap.growth
        self._factor, self._scale = snap.factor, snap.scale
        self._original, self._origin, self._blank = snap.original, snap.origin, snap.blank

    def begin_gesture(self, label: str) -> None:
        """Start grouping changes into one undoable command named ``label``.

        Nested gestures join the outermost one. Starting a gesture discards pending candidates
        (they were computed for the document as it was). Pair with ``end_gesture``.
        """
        if self._depth == 0:
            self.discard_pending()
            self._before = self._snapshot()
            self._before_image, self._offset = self._image, (0, 0)
            self._label, self._aspects = label, set()
        self._depth += 1

    def end_gesture(self) -> None:
        """Close a gesture; the outermost one commits (no command if nothing changed)."""
        if self._depth == 0:
            raise RuntimeError("end_gesture without begin_gesture")
        self._depth -= 1
        if self._depth == 0:
            self._commit()

    @property
    def in_gesture(self) -> bool:
        return self._depth > 0

    @contextmanager
    def gesture(self, label: str) -> Iterator[None]:
        """``with doc.gesture("Brush stroke"):`` groups the changes inside into one command."""
        self.begin_gesture(label)
        try:
            yield
        finally:
            self.end_gesture()

    def _commit(self) -> None:
        before, self._before = self._before, None
        assert before is not None
        after = self._snapshot()
        delta = ImageDelta.between(self._before_image, self._image, self._offset)
        self._before_image = self._image
        if delta is None and after.same_as(before):
            return
        self.history.push(Command(self._label, before, after, delta))
        self.version += 1
        self._notify(self._aspects | {"history"})

    def undo(self) -> bool:
        """Revert the last command; returns False when there is nothing to undo."""
        return self._step(self.history.undo(), forward=False)

    def redo(self) -> bool:
        """Re-apply the next command; returns False when there is nothing to redo."""
        return self._step(self.history.redo(), forward=True)

    def _step(self, command: Command | None, forward: bool) -> bool:
        if self._depth:
            raise RuntimeError("cannot undo or redo in the middle of a gesture")
        if command is None:
            return False
        self.discard_pending()
        if command.image is not None:
            delta = command.image
            image = delta.apply(self._image) if forward else delta.revert(self._image)
            image.flags.writeable = False  # a fresh array the delta made for us
            self._image = image
        self._restore(command.after if forward else command.before)
        self._before_image = self._image
        self.version += 1
        self._notify({"image", "mask", "boxes", "growth", "grid", "history"})
        return True

    def _set_image(self, image: np.ndarray, offset: tuple[int, int] = (0, 0)) -> None:
        self._image = check_image(image)
        self._offset = (self._offset[0] + offset[0], self._offset[1] + offset[1])

    # ---- boxes -----------------------------------------------------------------------------
    def _check_box(self, box: Box) -> Box:
        height, width = self.shape
        if box.x < 0 or box.y < 0 or box.x + box.w > width or box.y + box.h > height:
            raise ValueError(f"box {box.xywh} lies outside the {width}x{height} image")
        return box

    def add_box(self, box: Box) -> int:
        """Add a box (document pixels, inside the image); returns its index."""
        with self.gesture("Add box"):
            self._boxes = (*self._boxes, self._check_box(box))
            self._touch("boxes")
        return len(self._boxes) - 1

    def set_box(self, index: int, box: Box, label: str = "Change box") -> None:
        boxes = list(self._boxes)
        boxes[index] = self._check_box(box)
        with self.gesture(label):
            self._boxes = tuple(boxes)
            self._touch("boxes")

    def remove_box(self, index: int) -> None:
        boxes = list(self._boxes)
        del boxes[index]
        with self.gesture("Delete box"):
            self._boxes = tuple(boxes)
            self._touch("boxes")

    # ---- canvas growth and grid ------------------------------------------------------------
    def set_growth(self, growth: Growth) -> None:
        """Set the pending outpaint (cells per side); it runs on the next generation."""
        with self.gesture("Grow canvas"):
            self._growth = growth
            self._touch("growth")

    def set_grid(self, factor: int | None = None, scale: int | None = None) -> None:
        """Change the model factor and/or working scale; the mask is carried to the new grid."""
        factor, scale = factor or self._factor, scale or self._scale
        if factor < 1 or scale < 1:
            raise ValueError(f"factor and scale must be >= 1, got {factor} and {scale}")
        if (factor, scale) == (self._factor, self._scale):
            return
        with self.gesture("Change working scale"):
            old = self.cell_size
            self._factor, self._scale = factor, scale
            self._mask = cellmath.regrid(self._mask, self.shape, old, self.cell_size)
            self._touch("grid", "mask")
