"""End to end through the real window and a real (tiny) model: inpaint, outpaint and a box
edit driven by mouse drags and Ctrl+Enter; only the selected cells may change."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from maskgit_studio.editor import cells as cellmath

from .conftest import drag, sample_image, wait_run

pytestmark = pytest.mark.e2e


def _ctrl_enter(qtbot, window):
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.controller.busy or window.controller.view is not None


@pytest.fixture
def opened(window, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(sample_image(96, 128)).save(path)
    assert window.open_path(str(path))
    window.params.feather.setValue(0)  # hard edges: "changed" is exactly the selected cells
    window.params.seed_lock.setChecked(True)
    window.canvas.fit()
    return window


def test_inpaint_changes_only_the_painted_cells(qtbot, opened):
    window, doc = opened, opened.doc
    before = doc.image.copy()
    window.set_tool("brush")
    window.brush_size.set(2)
    c = doc.cell_size
    drag(window.canvas, [(3.5 * c, 3.5 * c), (6.5 * c, 3.5 * c)])
    selected = doc.mask.copy()
    assert selected.sum() == 2 * 5
    _ctrl_enter(qtbot, window)
    wait_run(qtbot, window)
    assert not window.errors
    inside = cellmath.cells_to_pixels(selected, doc.shape, c)
    np.testing.assert_array_equal(doc.image[~inside], before[~inside])
    assert (doc.image[inside] != before[inside]).any()
    # the mask stays, as a selection does: Ctrl+Enter tries the same cells again
    assert (doc.mask == selected).all() and doc.history.undo_label == "Accept inpaint"
    doc.undo()
    np.testing.assert_array_equal(doc.image, before)


def test_outpaint_grows_and_keeps_the_old_pixels(qtbot, opened):
    window, doc = opened, opened.doc
    before = doc.image.copy()
    h, w = doc.shape
    c = doc.cell_size
    window.set_tool("outpaint")
    drag(window.canvas, [(w + 1, h / 2), (w + 3 * c, h / 2)])  # 3 cells to the right
    drag(window.canvas, [(w / 2, -1), (w / 2, -1 * c)])  # 1 cell on top
    assert (doc.growth.right, doc.growth.top) == (3, 1)
    new_cells = window.canvas.growth_item.cells.copy()
    _ctrl_enter(qtbot, window)
    wait_run(qtbot, window)
    assert not window.errors
    assert doc.shape == (h + c, w + 3 * c) and doc.origin == (0, c)
    touched = cellmath.cells_to_pixels(new_cells, doc.shape, c)
    old = doc.image[c:, :w]
    np.testing.assert_array_equal(old[~touched[c:, :w]], before[~touched[c:, :w]])
    assert not doc.growth.any
    assert (doc.mask == cellmath.pixels_to_cells(touched, c)).all()  # the new cells, selected
    doc.undo()
    assert doc.shape == (h, w) and doc.growth.right == 3
    np.testing.assert_array_equal(doc.image, before)


def test_box_edit_changes_only_the_box_and_its_ring(qtbot, opened):
    window, doc = opened, opened.doc
    before = doc.image.copy()
    window.set_tool("box")
    window.params.class_picker.set_class(1)
    c = doc.cell_size
    drag(window.canvas, [(5 * c + 2, 4 * c + 2), (8 * c - 2, 7 * c - 2)])
    (box,) = doc.boxes
    assert box.xywh == (5 * c, 4 * c, 3 * c, 3 * c) and box.class_id == 1
    ring = window.canvas.ring_item.cells.copy()
    _ctrl_enter(qtbot, window)
    wait_run(qtbot, window)
    assert not window.errors
    assert doc.runs[-1].request["class_id"] == 1 and doc.runs[-1].request["operation"] == "edit_box"
    inside = cellmath.cells_to_pixels(ring, doc.shape, c)
    np.testing.assert_array_equal(doc.image[~inside], before[~inside])
    assert (doc.image[inside] != before[inside]).any()
    assert doc.boxes == (box,)  # the box stays for another try
