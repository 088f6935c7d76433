"""Help: the shortcut sheet (F1), listing every action's keys and the mouse gestures."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

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
