"""Hold Tab anywhere in the window to compare with the original, not only over the canvas.

Tab keeps its usual meaning (next field) while the keyboard focus is in a field that takes
typing: a text box or a number box.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

TYPING = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


class CompareKey(QObject):
    """An application event filter: Tab pressed / released in ``window`` -> ``compare(bool)``."""

    def __init__(self, window: QWidget, compare: Callable[[bool], None]) -> None:
        super().__init__(window)
        self.window, self.compare = window, compare
        app = QApplication.instance()
        if app is not None:  # Qt drops the filter by itself when this object goes
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        key_event: QKeyEvent = event  # type: ignore[assignment]
        if key_event.key() != Qt.Key.Key_Tab or key_event.modifiers() & ~_KEYPAD:
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self.window:
            return False
        if _typing(watched):
            return False
        if not key_event.isAutoRepeat():
            self.compare(kind == QEvent.Type.KeyPress)
        return True


_KEYPAD = Qt.KeyboardModifier.KeypadModifier


def _typing(widget: QWidget) -> bool:
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return isinstance(widget, TYPING)
