"""Only a focused field takes the mouse wheel: scrolling a panel never changes a value by accident.

Spin boxes, combo boxes and sliders under a passing wheel otherwise change their value (a
Temperature of 4.50 became 1.50 while the user scrolled the Parameters panel). Guarded, a field
takes the wheel once it has the keyboard focus (a click or Tab); until then the wheel scrolls
the panel it sits in.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)

GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    """An event filter for value fields: an unfocused field passes the wheel to its scroll area."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget):
            return False
        if watched.hasFocus():
            return False
        area = _scroll_area(watched)
        if area is not None:
            QApplication.sendEvent(area.viewport(), event)  # the panel scrolls instead
        return True


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def guard_wheel(root: QWidget) -> WheelGuard:
    """Guard every value field inside ``root``: the wheel no longer focuses them either."""
    guard = WheelGuard(root)
    for widget in root.findChildren(QWidget):
        if isinstance(widget, GUARDED):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(guard)
    return guard
