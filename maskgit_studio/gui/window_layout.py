"""The window's panels, its size on the screen, and what it remembers between sessions.

- Docks: Parameters on the right; History and Steps side by side at the bottom.
- Size: the first time, the window fits the screen's available area (a 1280x720 laptop
  included); after that it comes back where the user left it, panels included (QSettings).
- The first-run hint: three lines on cells, the working scale and the step viewer, shown once.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSettings, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from .wheel_guard import guard_wheel

PREFERRED = QSize(1440, 920)  # the size the studio is designed at, when the screen allows
SCREEN_SHARE = 0.94  # of the available area, leaving room for the window frame
GEOMETRY_KEY, STATE_KEY, HINT_KEY = "window/geometry", "window/state", "hints/first_run_shown"

FIRST_RUN_LINES = (
    "<b>Cells</b>: the picture is cut into square token cells (the grid). The brush, boxes "
    "and canvas growth work in whole cells, and only the cells you pick are redrawn.",
    "<b>Working scale</b> (Parameters, Editing): how many image pixels one cell covers. "
    "A larger scale edits a larger area at once, with less detail.",
    "<b>Step viewer</b> (Steps, below): every iteration of a run, token by token. Drag "
    "along it, branch from any step, or click a run in History to see its steps again.",
)


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
    window.resizeDocks([docks["history"], docks["steps"]], [390, 1000], Qt.Orientation.Horizontal)
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


class FirstRunHint(QFrame):
    """Three lines over the top of the canvas, until "Got it" (shown once per user)."""

    def __init__(self, canvas: QWidget) -> None:
        super().__init__(canvas)
        self.setObjectName("firstRunHint")
        self.setStyleSheet(
            "QFrame#firstRunHint { background: rgba(20, 21, 24, 228); border: 1px solid #3a3d42;"
            " border-radius: 6px; } QLabel { color: #d2d6de; background: transparent; }"
        )
        self.lines = [QLabel(text) for text in FIRST_RUN_LINES]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        for label in self.lines:
            label.setWordWrap(True)
            layout.addWidget(label)
        row = QHBoxLayout()
        row.addWidget(QLabel("F1 lists every shortcut."), 1)
        self.close_button = QPushButton("Got it")
        self.close_button.clicked.connect(self.hide)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        canvas.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        width = min(640, max(parent.width() - 24, 200))
        self.setFixedSize(width, self.layout().totalHeightForWidth(width))
        self.move((parent.width() - width) // 2, 12)

    def show_hint(self) -> None:
        self._place()
        self.show()
        self.raise_()


def show_first_run_hint(hint: FirstRunHint, settings: QSettings) -> bool:
    """Show the hint unless it was shown before; True if shown now."""
    if _true(settings.value(HINT_KEY, False)):
        return False
    settings.setValue(HINT_KEY, True)
    hint.show_hint()
    return True


def _true(value: object) -> bool:
    return value is True or str(value).lower() in ("true", "1")
