"""Tools turn real mouse drags into exactly the right cells (checked against the engine)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from .conftest import drag, open_sample


def test_brush_drag_paints_a_gapless_line_of_cells(window):
    doc = open_sample(window)
    window.brush_size.set(1)
    window.set_tool("brush")
    c = doc.cell_size
    assert c == 8  # tiny model: f = 8, scale 1 for a 96 px document
    drag(window.canvas, [(1.5 * c, 1.5 * c), (9.5 * c, 1.5 * c)])  # one fast move, 8 cells
    expected = np.zeros(doc.grid_shape, bool)
    expected[1, 1:10] = True
    np.testing.assert_array_equal(doc.mask, expected)
    assert len(doc.history) == 1 and doc.history.undo_label == "Brush stroke"
    # the overlay shows exactly these cells, and they are what the engine will regenerate
    np.testing.assert_array_equal(window.canvas.mask_item.cells, expected)
    engine_cells = window.session.inpaint_cells(doc.shape, doc.pixel_mask(), doc.scale)
    np.testing.assert_array_equal(engine_cells, expected)


def test_right_click_and_eraser_erase(window):
    doc = open_sample(window)
    window.set_tool("brush")
    window.brush_size.set(3)
    c = doc.cell_size
    drag(window.canvas, [(4.5 * c, 4.5 * c)])
    assert doc.mask.sum() == 9 and doc.mask[3:6, 3:6].all()
    window.brush_size.set(1)
    drag(window.canvas, [(4.5 * c, 4.5 * c)], button=Qt.MouseButton.RightButton)
    assert doc.mask.sum() == 8 and not doc.mask[4, 4]
    window.set_tool("eraser")
    drag(window.canvas, [(3.5 * c, 3.5 * c), (5.5 * c, 3.5 * c)])
    assert doc.mask.sum() == 5
    assert [doc.undo() for _ in range(3)] == [True] * 3 and doc.mask.sum() == 0


def test_bracket_keys_and_ctrl_wheel_change_brush_size(window, qtbot):
    window.set_tool("brush")
    window.brush_size.set(2)
    window.actions_.bigger.trigger()
    assert window.brush_size.value == 3 and window.size_spin.value() == 3
    window.actions_.smaller.trigger()
    window.actions_.smaller.trigger()
    window.actions_.smaller.trigger()
    assert window.brush_size.value == 1


def test_box_drag_snaps_and_shows_the_engine_ring(window):
    doc = open_sample(window)
    window.set_tool("box")
    window.params.class_picker.set_class(2)
    drag(window.canvas, [(13, 11), (40, 30), (45, 35)])
    (box,) = doc.boxes
    assert box.xywh == (8, 8, 40, 32) and box.class_id == 2
    assert window.box_tool.selected == 0
    ring = window.canvas.ring_item.cells
    np.testing.assert_array_equal(ring, window.session.box_cells(doc.shape, box.xywh, doc.scale))
    assert ring.sum() == (5 + 2) * (4 + 2)
    assert window.current_request().kind == "edit_box"


def test_box_move_and_resize_by_handle(window):
    doc = open_sample(window)
    window.set_tool("box")
    drag(window.canvas, [(10, 10), (30, 30)])
    assert doc.boxes[0].xywh == (8, 8, 24, 24)
    drag(window.canvas, [(20, 20), (37, 45)])  # move by about (17, 25) -> (16, 24)
    assert doc.boxes[0].xywh == (24, 32, 24, 24)
    drag(window.canvas, [(48, 56), (70, 62)])  # south-east handle -> (72, 64)
    assert doc.boxes[0].xywh == (24, 32, 48, 32)
    assert [c.label for c in [doc.history.undo()]] == ["Resize box"]


def test_outpaint_drag_grows_by_whole_cells(window):
    doc = open_sample(window)
    window.set_tool("outpaint")
    c = doc.cell_size
    h, w = doc.shape
    drag(window.canvas, [(w + 1, h / 2), (w + 2.4 * c, h / 2)])
    assert doc.growth.right == 2 and doc.growth.left == doc.growth.top == 0
    drag(window.canvas, [(-1, -1), (-1.6 * c, -3.2 * c)])  # corner: left and top
    assert (doc.growth.left, doc.growth.top, doc.growth.right) == (2, 3, 2)
    cells, growth_px = window.session.outpaint_cells(doc.shape, 2 * c, 3 * c, 2 * c, 0, doc.scale)
    np.testing.assert_array_equal(window.canvas.growth_item.cells, cells)
    assert growth_px == doc.growth.pixels(c)
    assert window.current_request().kind == "outpaint"
    doc.undo()
    assert doc.growth.left == 0 and doc.growth.right == 2


def test_pan_and_zoom_do_not_paint(window, qtbot):
    doc = open_sample(window)
    window.set_tool("brush")
    zoom = window.canvas.zoom
    window.canvas.set_zoom(zoom * 2)
    assert abs(window.canvas.zoom - 2 * zoom) < 1e-6
    canvas = window.canvas
    before = canvas.mapToScene(canvas.viewport().rect().center())
    drag(canvas, [(20, 20), (60, 60)], button=Qt.MouseButton.MiddleButton)
    assert doc.mask.sum() == 0
    moved = canvas.mapToScene(canvas.viewport().rect().center())
    assert moved.x() < before.x() - 30 and moved.y() < before.y() - 30  # the view followed
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    drag(canvas, [(20, 20), (40, 40)])  # Space + left drag pans too
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert doc.mask.sum() == 0
