"""The window's panels, its size on the screen, and what it remembers between sessions.

- Docks: Parameters on the right; History and Steps side by side at the bottom.
- Size: the first time, the window fits the screen's available area (a 1280x720 laptop
  included); after that it comes back where the user left it, panels included (QSettings).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMenu,
    QScrollArea,
    QWidget,
)

from .wheel_guard import guard_wheel

PREFERRED = QSize(1440, 920)  # the size the studio is designed at, when the screen allows
SCREEN_SHARE = 0.94  # of the available area, leaving room for the window frame
GEOMETRY_KEY, STATE_KEY = "window/geometry", "window/state"


def build_docks(
    window: QMainWindow, params: QWidget, viewer: QWidget, history: QWidget, menu: QMenu
) -> dict[str, QDockWidget]:
    """Parameters (right), History and Steps (bottom); each listed in ``menu``."""
    scroll = QScrollArea()
    scroll.setWidget(params)
    scroll.setWidgetResizable(True)
    scroll.setMinimumWidth(300)
    guard_wheel(params)  # scrolling the panel never changes a value
    docks = {}
    for name, title, widget, area in (
        ("parameters", "Parameters", scroll, Qt.DockWidgetArea.RightDockWidgetArea),
        ("history", "History", history, Qt.DockWidgetArea.BottomDockWidgetArea),
        ("steps", "Steps", viewer, Qt.DockWidgetArea.BottomDockWidgetArea),
    ):
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        window.addDockWidget(area, dock)
        menu.addAction(dock.toggleViewAction())
        docks[name] = dock
    window.splitDockWidget(docks["history"], docks["steps"], Qt.Orientation.Horizontal)
    window.resizeDocks([docks["history"], docks["steps"]], [430, 1000], Qt.Orientation.Horizontal)
    return docks


def available_area(window: QWidget) -> QRect | None:
    """The part of ``window``'s screen free of panels and task bars."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def fit_to_screen(window: QWidget, preferred: QSize = PREFERRED) -> None:
    """Size ``window`` to ``preferred``, or less to fit its screen's available area, centred."""
    area = available_area(window)
    if area is None:
        window.resize(preferred)
        return
    width = min(preferred.width(), int(area.width() * SCREEN_SHARE))
    height = min(preferred.height(), int(area.height() * SCREEN_SHARE))
    window.resize(width, height)
    frame = window.frameGeometry()
    frame.moveCenter(area.center())
    window.move(frame.topLeft())


def restore_layout(window: QMainWindow, settings: QSettings) -> bool:
    """Bring back the last session's geometry and docks; else fit the screen. True if restored."""
    geometry, state = settings.value(GEOMETRY_KEY), settings.value(STATE_KEY)
    restored = bool(geometry) and window.restoreGeometry(geometry)
    if not restored:
        fit_to_screen(window)
    if state:
        window.restoreState(state)
    return restored


def save_layout(window: QMainWindow, settings: QSettings) -> None:
    settings.setValue(GEOMETRY_KEY, window.saveGeometry())
    settings.setValue(STATE_KEY, window.saveState())
