"""Brush and eraser: paint whole token cells; right-click always erases."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Qt, Signal

from maskgit_studio.editor import cells as cellmath

from .base import Tool

MAX_BRUSH = 64


class BrushSize(QObject):
    """The brush size in cells, shared by the brush and the eraser."""

    changed = Signal(int)

    def __init__(self, size: int = 1) -> None:
        super().__init__()
        self.value = size

    def set(self, size: int) -> None:
        size = max(1, min(int(size), MAX_BRUSH))
        if size != self.value:
            self.value = size
            self.changed.emit(size)


class BrushTool(Tool):
    """Paints a square of ``size`` x ``size`` cells; one stroke = one undo step.

    A stroke fills every cell on the segment between successive mouse positions, so fast
    movements leave no gaps.
    """

    name = "brush"
    label = "Brush"
    shortcut = "B"
    tip = "Paint the cells to regenerate (B). Right-click erases; [ and ] change the size."
    erases = False

    def __init__(self, canvas, size: BrushSize) -> None:
        super().__init__(canvas)
        self.size = size
        self._last: tuple[int, int] | None = None  # cell of the stroke so far
        self._hover: tuple[int, int] | None = None
        self._value = True
        size.changed.connect(lambda _: self._show_cursor())

    def _cell(self, pos: QPointF) -> tuple[int, int]:
        assert self.doc is not None
        return cellmath.cell_at(pos.x(), pos.y(), self.doc.cell_size)

    def _show_cursor(self) -> None:
        self.canvas.show_brush_cursor(self._hover, self.size.value)

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> bool:
        if self.doc is None or button not in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.RightButton,
        ):
            return False
        self._value = button == Qt.MouseButton.LeftButton and not self.erases
        self.doc.begin_gesture("Brush stroke" if self._value else "Erase")
        self._last = self._cell(pos)
        self.doc.paint([self._last], self.size.value, self._value)
        return True

    def move(self, pos: QPointF, buttons: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if self.doc is None:
            return
        cell = self._cell(pos)
        if cell != self._hover:
            self._hover = cell
            self._show_cursor()
        if self._last is not None and cell != self._last:
            self.doc.paint(cellmath.line_cells(self._last, cell)[1:], self.size.value, self._value)
            self._last = cell

    def release(self, pos: QPointF, button: Qt.MouseButton) -> None:
        self.cancel()

    def cancel(self) -> None:
        """End the stroke (what is painted so far stays, as one undo step)."""
        if self._last is not None and self.doc is not None and self.doc.in_gesture:
            self.doc.end_gesture()
        self._last = None

    def deactivate(self) -> None:
        super().deactivate()
        self._hover = None
        self._show_cursor()

    def wheel(self, steps: int) -> bool:
        self.size.set(self.size.value + steps)
        return True


class EraserTool(BrushTool):
    """The brush with the left button erasing."""

    name = "eraser"
    label = "Eraser"
    shortcut = "E"
    tip = "Erase cells from the mask (E). [ and ] change the size."
    erases = True
