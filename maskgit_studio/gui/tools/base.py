"""The tool interface: the canvas hands each tool mouse input in document pixels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, Qt

if TYPE_CHECKING:
    from maskgit_studio.editor import Document

    from ..canvas import Canvas


class Tool(QObject):
    """Base tool. Positions are scene points = document pixels (may lie outside the image)."""

    name = "tool"
    label = "Tool"
    shortcut = ""
    tip = ""
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas

    @property
    def doc(self) -> Document | None:
        return self.canvas.doc

    def activate(self) -> None:
        """Called when the tool becomes current."""

    def deactivate(self) -> None:
        """Called when another tool becomes current; finish or drop any drag in progress."""
        self.cancel()

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> bool:
        """A mouse button went down; return True if the tool took it."""
        return False

    def move(self, pos: QPointF, buttons: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        """The mouse moved (with or without buttons held)."""

    def release(self, pos: QPointF, button: Qt.MouseButton) -> None:
        """A mouse button went up."""

    def cancel(self) -> None:
        """Drop a drag in progress (Esc, focus loss)."""

    def wheel(self, steps: int) -> bool:
        """Ctrl+wheel; return True if used (brush size)."""
        return False
