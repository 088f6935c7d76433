"""Box tool: drag a rectangle snapped to cells; move it or resize it by its handles."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt, Signal

from maskgit_studio.editor import Box
from maskgit_studio.editor import cells as cellmath

from ..overlays import BoxesItem, handle_rects
from .base import Tool

XYWH = tuple[int, int, int, int]


class BoxTool(Tool):
    """Create, select, move and resize edit boxes (all snapped to whole cells).

    Signals:
        selection_changed(int): the selected box index, -1 for none.
    """

    name = "box"
    label = "Box"
    shortcut = "R"
    tip = "Drag a box to regenerate as a class (R); drag inside to move, handles to resize."
    selection_changed = Signal(int)

    def __init__(self, canvas, class_provider: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(canvas)
        self.class_provider = class_provider
        self.selected: int | None = None
        self._mode: str | None = None  # "create" | "move" | "resize-<handle>"
        self._start = QPointF()
        self._origin: XYWH | None = None
        self.draft: XYWH | None = None

    # -- selection -------------------------------------------------------------------------
    def select(self, index: int | None) -> None:
        if self.doc is None or index is None or not 0 <= index < len(self.doc.boxes):
            index = None
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit(-1 if index is None else index)
        self.canvas.refresh_boxes()

    def box_at(self, pos: QPointF) -> int | None:
        """Index of the topmost box containing ``pos``."""
        assert self.doc is not None
        for i in reversed(range(len(self.doc.boxes))):
            x, y, w, h = self.doc.boxes[i].xywh
            if x <= pos.x() <= x + w and y <= pos.y() <= y + h:
                return i
        return None

    def _handle_at(self, pos: QPointF) -> str | None:
        if self.selected is None or self.doc is None:
            return None
        size = BoxesItem.HANDLE_PX * 1.8 * self.canvas.scene_per_pixel()
        for name, rect in handle_rects(self.doc.boxes[self.selected].xywh, size).items():
            if rect.contains(pos):
                return name
        return None

    # -- mouse -----------------------------------------------------------------------------
    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> bool:
        if self.doc is None or button != Qt.MouseButton.LeftButton:
            return False
        self._start = pos
        handle = self._handle_at(pos)
        hit = self.box_at(pos)
        if handle is not None:
            self._mode = f"resize-{handle}"
        elif hit is not None:
            self.select(hit)
            self._mode = "move"
        else:
            self.select(None)
            self._mode = "create"
        self._origin = self.doc.boxes[self.selected].xywh if self.selected is not None else None
        self.draft = None
        return True

    def move(self, pos: QPointF, buttons: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if self.doc is None or self._mode is None:
            return
        cell, shape = self.doc.cell_size, self.doc.shape
        if self._mode == "create":
            self.draft = cellmath.snap_rect(
                self._start.x(), self._start.y(), pos.x(), pos.y(), cell, shape
            )
        elif self._mode == "move":
            self.draft = _moved(self._origin, pos - self._start, cell, shape)
        else:
            self.draft = _resized(self._origin, self._mode[len("resize-") :], pos, cell, shape)
        self.canvas.refresh_boxes()

    def release(self, pos: QPointF, button: Qt.MouseButton) -> None:
        if self.doc is None or self._mode is None:
            return
        if self._mode == "create" and self.draft is None:
            # a click on empty canvas: one cell
            self.move(pos, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        mode, draft = self._mode, self.draft
        self._mode, self.draft = None, None
        if draft is not None and mode == "create":
            index = self.doc.add_box(Box(*draft, class_id=self.class_provider()))
            self.select(index)
        elif draft is not None and self.selected is not None and draft != self._origin:
            old = self.doc.boxes[self.selected]
            label = "Move box" if mode == "move" else "Resize box"
            self.doc.set_box(self.selected, Box(*draft, class_id=old.class_id), label)
        self.canvas.refresh_boxes()

    def cancel(self) -> None:
        self._mode, self.draft = None, None
        self.canvas.refresh_boxes()

    def deactivate(self) -> None:
        super().deactivate()
        self.select(None)


def _moved(origin: XYWH, delta: QPointF, cell: int, shape_hw: tuple[int, int]) -> XYWH:
    """``origin`` moved by whole cells, kept inside the image."""
    x, y, w, h = origin
    height, width = shape_hw
    dx = round(delta.x() / cell) * cell
    dy = round(delta.y() / cell) * cell
    # the box keeps its cell alignment: clamp to the last cell-aligned position that fits
    nx = min(max(x + dx, 0), max((width - w) // cell * cell, 0))
    ny = min(max(y + dy, 0), max((height - h) // cell * cell, 0))
    return nx, ny, w, h


def _resized(origin: XYWH, handle: str, pos: QPointF, cell: int, shape_hw: tuple[int, int]) -> XYWH:
    """``origin`` with the edges named by ``handle`` ("n", "se", ...) moved to the cell boundary
    nearest ``pos`` (or the image edge); a box never gets thinner than one cell."""
    x0, y0, w, h = origin
    x1, y1 = x0 + w, y0 + h
    height, width = shape_hw
    snap_x = min(max(round(pos.x() / cell) * cell, 0), width)
    snap_y = min(max(round(pos.y() / cell) * cell, 0), height)
    if "w" in handle:
        x0 = snap_x if snap_x < x1 else (x1 - 1) // cell * cell
    if "e" in handle:
        x1 = snap_x if snap_x > x0 else min(x0 + cell, width)
    if "n" in handle:
        y0 = snap_y if snap_y < y1 else (y1 - 1) // cell * cell
    if "s" in handle:
        y1 = snap_y if snap_y > y0 else min(y0 + cell, height)
    return x0, y0, x1 - x0, y1 - y0
