"""Help: the shortcut sheet (F1), listing every action's keys and the mouse gestures, and the
first-run hint (three lines on cells, the working scale and the step viewer, shown once)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

# What the mouse and held keys do; actions list their own shortcuts.
GESTURES = (
    ("Canvas", "Paint cells to redraw (Brush)", "Left drag"),
    ("Canvas", "Erase cells from the mask", "Right drag, or the Eraser (E)"),
    ("Canvas", "Brush size", "[ and ], or Ctrl+wheel"),
    ("Canvas", "Zoom", "Wheel"),
    ("Canvas", "Move around", "Space+drag, or middle drag"),
    ("Canvas", "Compare with the original", "Hold Tab"),
    ("Canvas", "Grow the canvas (Outpaint tool)", "Drag an edge or corner outward"),
    ("Canvas", "Draw, move or resize a box (Box tool)", "Drag; drag inside; drag a handle"),
    ("Steps", "Look at any step", "Drag the slider, or click a column"),
    ("History", "See a run's steps", "Click the run"),
)

GROUPS = {
    "File": ("new", "open", "save", "save_as", "export", "import_mask", "export_mask", "quit"),
    "Edit": (
        "undo", "redo", "clear_mask", "invert_mask", "grow_mask", "box_class", "delete_box",
        "reset_growth",
    ),
    "View": ("zoom_in", "zoom_out", "fit", "actual", "grid"),
    "Generate": ("run", "generate", "escape", "prev", "next", "accept"),
    "Tools": ("smaller", "bigger"),
    "Help": ("shortcuts",),
}  # fmt: skip


def _keys(action: QAction) -> str:
    keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
    return ", ".join(k for k in keys if k)


def _text(action: QAction) -> str:
    return action.text().replace("&", "").rstrip("…")


def shortcut_rows(a: SimpleNamespace) -> list[tuple[str, str, str]]:
    """(group, what it does, keys) for every action with a shortcut, then the gestures."""
    rows = []
    for group, names in GROUPS.items():
        for name in names:
            action = getattr(a, name, None)
            if action is not None and _keys(action):
                rows.append((group, _text(action), _keys(action)))
    tools = [("Tools", f"{_text(action)} tool", _keys(action)) for action in a.tool.values()]
    return rows + tools + list(GESTURES)


class ShortcutSheet(QDialog):
    """Every shortcut and gesture on one page, by menu."""

    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts and mouse gestures")
        self.rows = rows
        html = ["<table cellspacing='0' cellpadding='3'>"]
        group = None
        for name, what, keys in rows:
            if name != group:
                group = name
                html.append(f"<tr><td colspan='2'><br><b>{name}</b></td></tr>")
            html.append(f"<tr><td>{what}</td><td style='color:#8fc1ff'>{keys}</td></tr>")
        html.append("</table>")
        label = QLabel("".join(html))
        label.setTextFormat(Qt.TextFormat.RichText)
        scroll = QScrollArea()
        scroll.setWidget(label)
        scroll.setWidgetResizable(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
        self.resize(520, 640)


HINT_KEY = "hints/first_run_shown"
FIRST_RUN_LINES = (
    "<b>Cells</b>: the picture is cut into square token cells (the grid). The brush, boxes "
    "and canvas growth work in whole cells, and only the cells you pick are redrawn.",
    "<b>Working scale</b> (Parameters, Editing): how many image pixels one cell covers. "
    "A larger scale edits a larger area at once, with less detail.",
    "<b>Step viewer</b> (Steps, below): every iteration of a run, token by token. Drag "
    "along it, branch from any step, or click a run in History to see its steps again.",
)


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


class HelpDesk(QObject):
    """The Help menu's doings: the shortcut sheet (F1) and the first-run hint.

    Args:
        window: the parent of the sheet.
        canvas: the widget the hint sits over.
        settings: remembers that the hint was shown.
        actions: returns the window's actions (the sheet lists their keys).
    """

    def __init__(
        self,
        window: QWidget,
        canvas: QWidget,
        settings: QSettings,
        actions: Callable[[], SimpleNamespace],
    ) -> None:
        super().__init__(window)
        self.window, self.settings, self.actions = window, settings, actions
        self.hint = FirstRunHint(canvas)
        self.sheet: ShortcutSheet | None = None

    def first_start(self) -> bool:
        return show_first_run_hint(self.hint, self.settings)

    def show_shortcuts(self) -> None:
        if self.sheet is None:
            self.sheet = ShortcutSheet(shortcut_rows(self.actions()), self.window)
        self.sheet.show()
        self.sheet.raise_()

    def hint_again(self) -> None:
        self.hint.show_hint()
