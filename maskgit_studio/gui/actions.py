"""Menus, shortcuts and the toolbar of the main window (all QActions in one place)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QSlider, QSpinBox, QToolBar

if TYPE_CHECKING:
    from .main_window import MainWindow

Keys = QKeySequence.StandardKey


def _action(window, text, slot=None, shortcut=None, tip="", checkable=False) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        if isinstance(shortcut, (list, tuple)):
            action.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


def build_actions(w: MainWindow) -> SimpleNamespace:
    """Create every action, wired to the window's slots."""
    a = SimpleNamespace()
    files = w.files
    a.new = _action(w, "&New", w.new_blank, Keys.New, "A blank canvas of the model's size")
    a.open = _action(w, "&Open…", files.open_dialog, Keys.Open, "Open an image or a project")
    a.save = _action(w, "&Save", files.save, Keys.Save, "Save the project")
    a.save_as = _action(w, "Save &As…", files.save_as, Keys.SaveAs, "Save the project as")
    a.export = _action(w, "&Export Image…", files.export_image, "Ctrl+E", "Export the image")
    a.import_mask = _action(w, "&Import Mask…", files.import_mask, None, "Load a mask image")
    a.export_mask = _action(w, "Export Mas&k…", files.export_mask, None, "Save the mask as PNG")
    a.quit = _action(w, "&Quit", w.close, Keys.Quit)
    a.undo = _action(w, "&Undo", w.undo, Keys.Undo)
    a.redo = _action(w, "&Redo", w.redo, [QKeySequence(Keys.Redo).toString(), "Ctrl+Y"])
    a.clear_mask = _action(w, "&Clear Mask", lambda: w.doc and w.doc.clear_mask(), "Ctrl+Shift+A")
    a.invert_mask = _action(w, "&Invert Mask", lambda: w.doc and w.doc.invert_mask(), "Ctrl+I")
    a.grow_mask = _action(w, "&Grow Mask", lambda: w.doc and w.doc.grow_mask(), "Ctrl+G")
    a.delete_box = _action(w, "&Delete Box", w.delete_box, Qt.Key.Key_Delete)
    a.box_class = _action(
        w, "Box &Class…", w.choose_box_class, "C", "Choose the selected box's class"
    )
    a.reset_growth = _action(w, "Reset Canvas &Growth", w.reset_growth)
    a.zoom_in = _action(w, "Zoom &In", lambda: w.canvas.set_zoom(w.canvas.zoom * 1.25), Keys.ZoomIn)
    a.zoom_out = _action(
        w, "Zoom &Out", lambda: w.canvas.set_zoom(w.canvas.zoom / 1.25), Keys.ZoomOut
    )
    a.fit = _action(w, "&Fit to Window", w.canvas.fit, "Ctrl+0")
    a.actual = _action(w, "&Actual Pixels", lambda: w.canvas.set_zoom(1.0), "Ctrl+1")
    a.grid = _action(w, "Token &Grid", w.canvas.set_grid_visible, "G", "Show the token grid", True)
    a.grid.setChecked(True)
    a.run = _action(
        w, "&Run", w.run_current, ["Ctrl+Return", "Ctrl+Enter"], "Run the current request"
    )
    a.generate = _action(
        w, "&Generate a Class…", w.generate_class, "Ctrl+Shift+G", "Generate a new image"
    )
    a.escape = _action(
        w, "&Cancel / Discard", w.escape, Qt.Key.Key_Escape, "Cancel the run or discard"
    )
    a.accept = _action(w, "&Accept Variation", w.accept, [Qt.Key.Key_Return, Qt.Key.Key_Enter])
    a.prev = _action(w, "&Previous Variation", lambda: w.browse(-1), Qt.Key.Key_Left)
    a.next = _action(w, "&Next Variation", lambda: w.browse(1), Qt.Key.Key_Right)
    a.smaller = _action(w, "Smaller Brush", lambda: w.brush_size.set(w.brush_size.value - 1), "[")
    a.bigger = _action(w, "Bigger Brush", lambda: w.brush_size.set(w.brush_size.value + 1), "]")
    a.tools = QActionGroup(w)
    a.tool = {}
    for tool in w.tools.values():
        action = _action(w, tool.label, None, tool.shortcut, tool.tip, True)
        action.triggered.connect(lambda _=False, name=tool.name: w.set_tool(name))
        a.tools.addAction(action)
        a.tool[tool.name] = action
    return a


def build_menus(w: MainWindow, a: SimpleNamespace) -> None:
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a.new, a.open])
    w.recent_menu = file_menu.addMenu("Open &Recent")
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
    w.docks_menu = view.addMenu("&Panels")
    tools = bar.addMenu("&Tools")
    tools.addActions(list(a.tool.values()))
    tools.addSeparator()
    tools.addActions([a.smaller, a.bigger])
    run = bar.addMenu("&Generate")
    run.addActions([a.run, a.generate, a.escape])
    run.addSeparator()
    run.addActions([a.prev, a.next, a.accept])


def build_toolbar(w: MainWindow, a: SimpleNamespace) -> QToolBar:
    bar = QToolBar("Tools")
    bar.setObjectName("tools")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    bar.addActions(list(a.tool.values()))
    bar.addSeparator()
    bar.addWidget(QLabel(" Size "))
    w.size_spin = QSpinBox(suffix=" cells", minimum=1, maximum=64)
    w.size_spin.setToolTip("Brush size in token cells ([ and ], or Ctrl+wheel)")
    w.size_spin.valueChanged.connect(w.brush_size.set)
    w.brush_size.changed.connect(w.size_spin.setValue)
    bar.addWidget(w.size_spin)
    bar.addWidget(QLabel("  Mask "))
    w.opacity_slider = QSlider(Qt.Orientation.Horizontal, minimum=5, maximum=100, value=45)
    w.opacity_slider.setFixedWidth(110)
    w.opacity_slider.setToolTip("Mask overlay opacity")
    w.opacity_slider.valueChanged.connect(lambda v: w.canvas.set_mask_opacity(v / 100))
    bar.addWidget(w.opacity_slider)
    bar.addSeparator()
    bar.addAction(a.grid)
    bar.addAction(a.fit)
    bar.addSeparator()
    bar.addAction(a.undo)
    bar.addAction(a.redo)
    bar.addSeparator()
    bar.addAction(a.generate)
    bar.addAction(a.run)
    return bar
