"""Menus, shortcuts and the toolbar of the main window (all QActions in one place).

The actions are a table (``ACTIONS``); ``build_actions`` wires each to the slot of the same name
that the window hands over, so this module knows nothing of the window itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QMenu,
    QMenuBar,
    QSlider,
    QSpinBox,
    QToolBar,
    QWidget,
)

from maskgit_studio.editor import Document

from .tools import BrushSize, Tool
from .tools.brush import MAX_BRUSH_PX

Keys = QKeySequence.StandardKey
Shortcut = Any  # a QKeySequence.StandardKey, a Qt.Key, a string, or a list of them


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    shortcut: Shortcut = None
    tip: str = ""
    checkable: bool = False


ACTIONS = (
    ActionSpec("new", "&New", Keys.New, "Start a new, empty picture the size the model makes"),
    ActionSpec("open", "&Open…", Keys.Open, "Open a picture or a saved project"),
    ActionSpec("save", "&Save", Keys.Save, "Save the picture with its mask, boxes and runs"),
    ActionSpec("save_as", "Save &As…", Keys.SaveAs, "Save the project under a new name"),
    ActionSpec("export", "&Export Image…", "Ctrl+E", "Save the picture as an image file"),
    ActionSpec("import_mask", "&Import Mask…", None, "Use a black-and-white picture as the mask"),
    ActionSpec("export_mask", "Export Mas&k…", None, "Save the mask as a black-and-white picture"),
    ActionSpec("quit", "&Quit", Keys.Quit, "Close the studio"),
    ActionSpec("undo", "&Undo", Keys.Undo, "Take back the last change"),
    ActionSpec("redo", "&Redo", [Keys.Redo, "Ctrl+Y"], "Do again what Undo took back"),
    ActionSpec("clear_mask", "&Clear Mask", "Ctrl+Shift+A", "Unselect every cell"),
    ActionSpec("invert_mask", "&Invert Mask", "Ctrl+I", "Swap selected and unselected cells"),
    ActionSpec("grow_mask", "&Grow Mask", "Ctrl+G", "Add a ring of cells around the selection"),
    ActionSpec("delete_box", "&Delete Box", Qt.Key.Key_Delete, "Remove the selected box"),
    ActionSpec("box_class", "Box &Class…", "C", "Choose what the selected box should become"),
    ActionSpec("reset_growth", "Reset Canvas &Growth", None, "Drop the canvas growth"),
    ActionSpec("zoom_in", "Zoom &In", Keys.ZoomIn, "Look closer"),
    ActionSpec("zoom_out", "Zoom &Out", Keys.ZoomOut, "See more of the picture"),
    ActionSpec("fit", "&Fit to Window", "Ctrl+0", "Show the whole picture"),
    ActionSpec("actual", "&Actual Pixels", "Ctrl+1", "One picture pixel per screen pixel"),
    ActionSpec("grid", "Token &Grid", "G", "Show the lines between cells", checkable=True),
    ActionSpec(
        "run",
        "&Run",
        ["Ctrl+Return", "Ctrl+Enter"],
        "Redraw what is selected: new canvas, the box, or the masked cells",
    ),
    ActionSpec(
        "generate", "&Generate a Class…", "Ctrl+Shift+G", "Make a whole new picture of a class"
    ),
    ActionSpec(
        "escape", "&Cancel / Discard", Qt.Key.Key_Escape, "Stop the run, or drop the variations"
    ),
    ActionSpec(
        "accept", "&Accept Variation", [Qt.Key.Key_Return, Qt.Key.Key_Enter], "Keep this one"
    ),
    ActionSpec("prev", "&Previous Variation", Qt.Key.Key_Left, "Show the previous variation"),
    ActionSpec("next", "&Next Variation", Qt.Key.Key_Right, "Show the next variation"),
    ActionSpec("smaller", "Smaller Brush", "[", "Make the brush one cell smaller"),
    ActionSpec("bigger", "Bigger Brush", "]", "Make the brush one cell bigger"),
    ActionSpec(
        "shortcuts", "&Keyboard Shortcuts…", [Keys.HelpContents, "F1"], "Every shortcut on one page"
    ),
    ActionSpec("welcome", "Show the &Welcome Hint", None, "The three lines shown at first start"),
)


class Menus(NamedTuple):
    """The menus the window fills later."""

    recent: QMenu
    docks: QMenu


class Toolbar(NamedTuple):
    bar: QToolBar
    size_spin: QSpinBox
    opacity_slider: QSlider
    snap_box: QCheckBox | None = None
    px_spin: QSpinBox | None = None


def make_action(parent: QWidget, spec: ActionSpec, slot: Callable | None) -> QAction:
    action = QAction(spec.text, parent)
    if isinstance(spec.shortcut, list):
        keys = [QKeySequence(s) for s in spec.shortcut]
        # a platform's standard key may be one of the explicit ones (Redo is Ctrl+Y on some)
        action.setShortcuts([k for i, k in enumerate(keys) if k not in keys[:i]])
    elif spec.shortcut is not None:
        action.setShortcut(QKeySequence(spec.shortcut))
    if spec.tip:
        shortcut = action.shortcut().toString()
        action.setStatusTip(spec.tip)
        action.setToolTip(f"{spec.tip} ({shortcut})" if shortcut else spec.tip)
    action.setCheckable(spec.checkable)
    if slot is not None:
        action.triggered.connect(slot)
    parent.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


def build_actions(
    parent: QWidget,
    slots: Mapping[str, Callable],
    tools: Iterable[Tool],
    set_tool: Callable[[str], None],
) -> SimpleNamespace:
    """Every action of ``ACTIONS`` wired to ``slots[name]``, plus one checkable action per tool.

    Raises:
        KeyError: a slot is missing (every action must do something).
    """
    a = SimpleNamespace(**{s.name: make_action(parent, s, slots[s.name]) for s in ACTIONS})
    a.grid.setChecked(True)
    a.tools = QActionGroup(parent)
    a.tool = {}
    for tool in tools:
        spec = ActionSpec(tool.name, tool.label, tool.shortcut, tool.tip, checkable=True)
        action = make_action(parent, spec, None)
        action.triggered.connect(lambda _=False, name=tool.name: set_tool(name))
        a.tools.addAction(action)
        a.tool[tool.name] = action
    return a


def build_menus(bar: QMenuBar, a: SimpleNamespace) -> Menus:
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a.new, a.open])
    recent = file_menu.addMenu("Open &Recent")
    file_menu.addSeparator()
    file_menu.addActions([a.save, a.save_as, a.export])
    file_menu.addSeparator()
    file_menu.addActions([a.import_mask, a.export_mask])
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    edit = bar.addMenu("&Edit")
    edit.addActions([a.undo, a.redo])
    edit.addSeparator()
    edit.addActions([a.clear_mask, a.invert_mask, a.grow_mask])
    edit.addSeparator()
    edit.addActions([a.box_class, a.delete_box, a.reset_growth])
    view = bar.addMenu("&View")
    view.addActions([a.zoom_in, a.zoom_out, a.fit, a.actual])
    view.addSeparator()
    view.addAction(a.grid)
    docks = view.addMenu("&Panels")
    tools = bar.addMenu("&Tools")
    tools.addActions(list(a.tool.values()))
    tools.addSeparator()
    tools.addActions([a.smaller, a.bigger])
    run = bar.addMenu("&Generate")
    run.addActions([a.run, a.generate, a.escape])
    run.addSeparator()
    run.addActions([a.prev, a.next, a.accept])
    bar.addMenu("&Help").addActions([a.shortcuts, a.welcome])
    return Menus(recent, docks)


def build_toolbar(
    a: SimpleNamespace, brush_size: BrushSize, set_mask_opacity: Callable[[float], None]
) -> Toolbar:
    """The tools, the brush size and mask opacity controls, and the most used actions."""
    bar = QToolBar("Tools")
    bar.setObjectName("tools")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    bar.addActions(list(a.tool.values()))
    bar.addSeparator()
    bar.addWidget(QLabel(" Size "))
    size_spin = QSpinBox(suffix=" cells", minimum=1, maximum=64)
    size_spin.setToolTip("Brush size in cells ([ and ], or Ctrl+wheel)")
    size_spin.setValue(brush_size.value)
    size_spin.valueChanged.connect(brush_size.set)
    brush_size.changed.connect(size_spin.setValue)
    size_action = bar.addWidget(size_spin)
    px_spin = QSpinBox(suffix=" px", minimum=1, maximum=MAX_BRUSH_PX)
    px_spin.setToolTip("Round brush diameter in picture pixels ([ and ], or Ctrl+wheel)")
    px_spin.setValue(brush_size.px)
    px_spin.valueChanged.connect(brush_size.set_px)
    brush_size.px_changed.connect(px_spin.setValue)
    snap = QCheckBox("Snap to cells")
    snap.setToolTip(
        "On: the brush paints whole token cells. Off: a round brush paints pixels; the cells it "
        "touches are regenerated, but only the painted pixels take the result"
    )
    snap.setChecked(brush_size.snap)
    snap.toggled.connect(brush_size.set_snap)
    brush_size.snap_changed.connect(snap.setChecked)

    px_action = bar.addWidget(px_spin)
    bar.addWidget(snap)

    def show_size(snapped: bool) -> None:  # a toolbar's widgets show through their actions
        size_action.setVisible(snapped)
        px_action.setVisible(not snapped)

    brush_size.snap_changed.connect(show_size)
    show_size(brush_size.snap)
    bar.addWidget(QLabel("  Mask "))
    opacity = QSlider(Qt.Orientation.Horizontal, minimum=5, maximum=100, value=45)
    opacity.setFixedWidth(110)
    opacity.setToolTip("How strongly the mask colours the cells it selects")
    opacity.valueChanged.connect(lambda v: set_mask_opacity(v / 100))
    bar.addWidget(opacity)
    bar.addSeparator()
    bar.addActions([a.grid, a.fit])
    bar.addSeparator()
    bar.addActions([a.undo, a.redo])
    bar.addSeparator()
    bar.addActions([a.generate, a.run])
    return Toolbar(bar, size_spin, opacity, snap, px_spin)


def enable_actions(
    a: SimpleNamespace, doc: Document | None, busy: bool, model_loaded: bool, box_selected: bool
) -> None:
    """Enable what makes sense now: nothing that edits while a run or a load is busy."""
    pending = doc is not None and doc.pending is not None
    a.undo.setEnabled(not busy and doc is not None and doc.history.can_undo)
    a.redo.setEnabled(not busy and doc is not None and doc.history.can_redo)
    a.undo.setToolTip(f"Undo {doc.history.undo_label} (Ctrl+Z)" if a.undo.isEnabled() else "Undo")
    a.redo.setToolTip(f"Redo {doc.history.redo_label}" if a.redo.isEnabled() else "Redo")
    for action in (a.run, a.generate):
        action.setEnabled(not busy and model_loaded)
    for action in (a.accept, a.prev, a.next):
        action.setEnabled(pending and not busy)
    a.escape.setEnabled(True)
    mask_actions = (a.clear_mask, a.invert_mask, a.grow_mask, a.import_mask, a.reset_growth)
    for action in (*mask_actions, a.new, a.open):
        action.setEnabled(not busy)
    a.delete_box.setEnabled(not busy and box_selected)
    a.box_class.setEnabled(not busy and box_selected)
