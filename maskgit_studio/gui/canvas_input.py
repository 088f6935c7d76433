"""The canvas's mouse, wheel, keyboard and drop input (a mixin of ``Canvas``).

Mouse input goes to the current tool unless it pans (middle button, or Space held); the wheel
zooms (Ctrl+wheel: the tool's, e.g. the brush size); Tab held compares with the original.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent


class CanvasInput:
    """Input handlers of ``Canvas`` (they use its view, tool, document and zoom)."""

    def _scene_pos(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space
        ):
            self._panning, self._pan_from = True, event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if (
            self.editable
            and self.tool is not None
            and self.doc is not None
            and self.tool.press(self._scene_pos(event), button, event.modifiers())
        ):
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(
                self.horizontalScrollBar().value() - round(delta.x())
            )
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            return
        pos = self._scene_pos(event)
        self.cursor_moved.emit((pos.x(), pos.y()))
        if self.editable and self.tool is not None and self.doc is not None:
            self.tool.move(pos, event.buttons(), event.modifiers())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._panning = False
            cursor = Qt.CursorShape.OpenHandCursor if self._space else None
            self.viewport().setCursor(
                cursor or (self.tool.cursor if self.tool else Qt.CursorShape.ArrowCursor)
            )
            return
        if self.editable and self.tool is not None and self.doc is not None:
            self.tool.release(self._scene_pos(event), event.button())
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self.cursor_moved.emit(())
        self.cursor_item.setVisible(False)
        super().leaveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if not steps:
            return
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ctrl and self.tool is not None and self.tool.wheel(1 if steps > 0 else -1):
            return
        self.set_zoom(self.zoom * 1.25**steps)

    def event(self, event: QEvent) -> bool:
        # Tab would move the keyboard focus; here it means "hold to compare".
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() == Qt.Key.Key_Tab:
                if not key_event.isAutoRepeat():
                    self.set_compare(event.type() == QEvent.Type.KeyPress)
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(self.tool.cursor if self.tool else Qt.CursorShape.ArrowCursor)
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self._space = False
        self.set_compare(False)
        super().focusOutEvent(event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
