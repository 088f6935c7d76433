"""Outpaint tool: drag a canvas edge or corner outward; growth snaps to whole token cells."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt

from maskgit_studio.editor import Growth

from .base import Tool

GRAB_PX = 24  # screen pixels around an edge that grab it
MAX_GROWTH_CELLS = 256


class OutpaintTool(Tool):
    """Dragging near an edge grows that side; near a corner, both sides. One drag = one undo."""

    name = "outpaint"
    label = "Outpaint"
    shortcut = "O"
    tip = (
        "Drag a canvas edge or corner outward to grow the canvas (O); the new cells are generated."
    )
    cursor = Qt.CursorShape.SizeAllCursor

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._sides: str = ""  # letters of "ltrb" being dragged
        self.draft: Growth | None = None

    def sides_at(self, pos: QPointF) -> str:
        """Which edges of the (grown) canvas ``pos`` is near: any of "l", "t", "r", "b"."""
        assert self.doc is not None
        cell = self.doc.cell_size
        left, top, right, bottom = self.doc.growth.pixels(cell)
        height, width = self.doc.shape
        grab = GRAB_PX * self.canvas.scene_per_pixel()
        x, y = pos.x(), pos.y()
        sides = ""
        if abs(x + left) <= grab or x < -left:
            sides += "l"
        elif abs(x - width - right) <= grab or x > width + right:
            sides += "r"
        if abs(y + top) <= grab or y < -top:
            sides += "t"
        elif abs(y - height - bottom) <= grab or y > height + bottom:
            sides += "b"
        return sides

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> bool:
        if self.doc is None or button != Qt.MouseButton.LeftButton:
            return False
        self._sides = self.sides_at(pos)
        self.draft = None
        return bool(self._sides)

    def move(self, pos: QPointF, buttons: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if self.doc is None:
            return
        if not self._sides:
            self.canvas.viewport().setCursor(_cursor_for(self.sides_at(pos)))
            return
        self.draft = self._growth_for(pos)
        self.canvas.show_growth(self.draft)

    def _growth_for(self, pos: QPointF) -> Growth:
        """The growth that puts the dragged edges on the cell boundary nearest ``pos``."""
        assert self.doc is not None
        g = self.doc.growth
        cell = self.doc.cell_size
        height, width = self.doc.shape

        def cells(distance: float) -> int:
            return min(max(math.floor(distance / cell + 0.5), 0), MAX_GROWTH_CELLS)

        left = cells(-pos.x()) if "l" in self._sides else g.left
        right = cells(pos.x() - width) if "r" in self._sides else g.right
        top = cells(-pos.y()) if "t" in self._sides else g.top
        bottom = cells(pos.y() - height) if "b" in self._sides else g.bottom
        return Growth(left, top, right, bottom)

    def release(self, pos: QPointF, button: Qt.MouseButton) -> None:
        if self.doc is None or not self._sides:
            return
        draft = self._growth_for(pos)
        self._sides, self.draft = "", None
        if draft != self.doc.growth:
            self.doc.set_growth(draft)
        else:
            self.canvas.show_growth(self.doc.growth)

    def cancel(self) -> None:
        if self._sides and self.doc is not None:
            self.canvas.show_growth(self.doc.growth)
        self._sides, self.draft = "", None


def _cursor_for(sides: str) -> Qt.CursorShape:
    if sides in ("lt", "rb"):
        return Qt.CursorShape.SizeFDiagCursor
    if sides in ("lb", "rt"):
        return Qt.CursorShape.SizeBDiagCursor
    if sides in ("l", "r"):
        return Qt.CursorShape.SizeHorCursor
    if sides in ("t", "b"):
        return Qt.CursorShape.SizeVerCursor
    return Qt.CursorShape.ArrowCursor
