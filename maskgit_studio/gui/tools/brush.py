"""Brush and eraser: paint whole token cells ("snap to cells"), or pixels with a round brush;
right-click always erases."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Qt, Signal

from maskgit_studio.editor import cells as cellmath
from maskgit_studio.editor import pixels as pixelmath

from .base import Tool

MAX_BRUSH = 64
MAX_BRUSH_PX = 1024


class BrushSize(QObject):
    """The brush shared by the brush and the eraser: ``value`` cells when it snaps to cells,
    else a round brush ``px`` pixels across.

    Signals: changed(int cells), px_changed(int px), snap_changed(bool).
    """

    changed = Signal(int)
    px_changed = Signal(int)
    snap_changed = Signal(bool)

    def __init__(self, size: int = 1, px: int = 24, snap: bool = True) -> None:
        super().__init__()
        self.value = size
        self.px = px
        self.snap = snap

    def set(self, size: int) -> None:
        size = max(1, min(int(size), MAX_BRUSH))
        if size != self.value:
            self.value = size
            self.changed.emit(size)

    def set_px(self, px: int) -> None:
        px = max(1, min(int(px), MAX_BRUSH_PX))
        if px != self.px:
            self.px = px
            self.px_changed.emit(px)

    def set_snap(self, snap: bool) -> None:
        if bool(snap) != self.snap:
            self.snap = bool(snap)
            self.snap_changed.emit(self.snap)

    def step(self, steps: int) -> None:
        """[ / ] and Ctrl+wheel: one cell, or about an eighth of the round brush, per step."""
        if self.snap:
            self.set(self.value + steps)
        else:
            self.set_px(self.px + steps * max(1, self.px // 8))


class BrushTool(Tool):
    """Paints a square of ``size`` x ``size`` cells, or (snap off) a round brush of ``px``
    pixels; one stroke = one undo step.

    A stroke fills every cell (or stamps the round brush every half radius) between successive
    mouse positions, so fast movements leave no gaps.
    """

    name = "brush"
    label = "Brush"
    shortcut = "B"
    tip = (
        "Paint what to regenerate (B): whole cells, or pixels with the round brush when "
        "'Snap to cells' is off. Right-click erases; [ and ] change the size."
    )
    erases = False

    def __init__(self, canvas, size: BrushSize) -> None:
        super().__init__(canvas)
        self.size = size
        self._last: tuple[int, int] | None = None  # cell of the stroke so far
        self._last_point: tuple[float, float] | None = None  # point of a round-brush stroke
        self._hover: tuple[int, int] | None = None
        self._hover_point: tuple[float, float] | None = None
        self._value = True
        size.changed.connect(lambda _: self._show_cursor())
        size.px_changed.connect(lambda _: self._show_cursor())
        size.snap_changed.connect(lambda _: self._show_cursor())

    @property
    def radius(self) -> float:
        return self.size.px / 2

    def _cell(self, pos: QPointF) -> tuple[int, int]:
        assert self.doc is not None
        return cellmath.cell_at(pos.x(), pos.y(), self.doc.cell_size)

    def _show_cursor(self) -> None:
        if self.size.snap:
            self.canvas.show_round_cursor(None, 0)
            self.canvas.show_brush_cursor(self._hover, self.size.value)
        else:
            self.canvas.show_brush_cursor(None, 0)
            self.canvas.show_round_cursor(self._hover_point, self.radius)

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> bool:
        if self.doc is None or button not in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.RightButton,
        ):
            return False
        self._value = button == Qt.MouseButton.LeftButton and not self.erases
        self.doc.begin_gesture("Brush stroke" if self._value else "Erase")
        if self.size.snap:
            self._last = self._cell(pos)
            self.doc.paint([self._last], self.size.value, self._value)
        else:
            self._last_point = (pos.x(), pos.y())
            self.doc.paint_pixels([self._last_point], self.radius, self._value)
        return True

    def move(self, pos: QPointF, buttons: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        if self.doc is None:
            return
        point = (pos.x(), pos.y())
        cell = self._cell(pos)
        if cell != self._hover or (not self.size.snap and point != self._hover_point):
            self._hover, self._hover_point = cell, point
            self._show_cursor()
        if self._last is not None and cell != self._last:
            self.doc.paint(cellmath.line_cells(self._last, cell)[1:], self.size.value, self._value)
            self._last = cell
        if self._last_point is not None and point != self._last_point:
            points = pixelmath.stroke_points(self._last_point, point, self.radius)
            self.doc.paint_pixels(points, self.radius, self._value)
            self._last_point = point

    def release(self, pos: QPointF, button: Qt.MouseButton) -> None:
        self.cancel()

    def cancel(self) -> None:
        """End the stroke (what is painted so far stays, as one undo step)."""
        stroking = self._last is not None or self._last_point is not None
        if stroking and self.doc is not None and self.doc.in_gesture:
            self.doc.end_gesture()
        self._last = self._last_point = None

    def deactivate(self) -> None:
        super().deactivate()
        self._hover = self._hover_point = None
        self._show_cursor()

    def wheel(self, steps: int) -> bool:
        self.size.step(steps)
        return True


class EraserTool(BrushTool):
    """The brush with the left button erasing."""

    name = "eraser"
    label = "Eraser"
    shortcut = "E"
    tip = "Erase from the mask (E): cells, or pixels with the round brush. [ and ] change the size."
    erases = True
