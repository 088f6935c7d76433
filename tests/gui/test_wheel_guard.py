"""The mouse wheel over the Parameters panel scrolls it; only a focused field takes the wheel
(issue 11, item 3)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QScrollArea

from .test_canvas_view import _wheel


def test_the_wheel_changes_only_a_focused_field(window, qtbot):
    temperature = window.params.temperature
    temperature.setValue(4.5)
    window.activateWindow()
    window.canvas.setFocus()
    _wheel(temperature, -3)
    assert temperature.value() == 4.5  # passing over it changed nothing
    temperature.setFocus()
    qtbot.waitUntil(temperature.hasFocus)
    _wheel(temperature, -1)
    assert temperature.value() == 4.0  # a focused field takes the wheel


def test_the_wheel_over_a_field_scrolls_the_panel(window, qtbot):
    window.resize(900, 420)  # the panel no longer fits: it scrolls
    scroll = window.params.parentWidget().parentWidget()
    assert isinstance(scroll, QScrollArea)
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    window.canvas.setFocus()
    steps = window.params.steps.value()
    _wheel(window.params.steps, -2)
    QApplication.processEvents()
    assert window.params.steps.value() == steps and bar.value() > 0
