"""A re-run never destroys the document (issue 11, item 1): after an edit, Ctrl+Enter tries the
same edit again with a new seed; replacing the canvas asks first."""

from __future__ import annotations

import numpy as np
from PIL import Image

from maskgit_studio.editor import Box

from .conftest import sample_image, wait_run


def _open(window, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(sample_image(96, 128)).save(path)
    assert window.open_path(str(path))
    window.asked.clear()
    return window.doc


def test_ctrl_enter_after_an_edit_tries_the_same_edit_again(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(2, 3), (2, 4)])
    selected = doc.mask.copy()
    window.actions_.run.trigger()
    wait_run(qtbot, window)
    first = doc.runs[-1]
    assert doc.shape == (96, 128) and first.request["operation"] == "inpaint"
    window.actions_.run.trigger()  # "try again"
    wait_run(qtbot, window)
    again = doc.runs[-1]
    assert again.request["operation"] == "inpaint"
    assert again.request["seed"] != first.request["seed"]
    assert doc.shape == (96, 128) and (doc.mask == selected).all()
    assert not window.asked  # nothing was at risk


def test_a_box_edit_can_be_tried_again(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    c = doc.cell_size
    window.set_tool("box")
    index = doc.add_box(Box(2 * c, 2 * c, 2 * c, 2 * c, 1))
    window.box_tool.select(index)
    window.actions_.run.trigger()
    wait_run(qtbot, window)
    assert doc.runs[-1].request["operation"] == "edit_box"
    assert len(doc.boxes) == 1 and window.box_tool.selected == 0  # the box stays, selected
    assert window.current_request().kind == "edit_box"


def test_replacing_the_photo_asks_first(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    photo = doc.image.copy()
    window.ask_hook = lambda kind, text: window.asked.append((kind, text)) or "cancel"
    assert window.current_request().kind == "generate"
    assert not window.run_current()  # Ctrl+Enter with nothing selected: asked, refused
    assert window.asked[-1][0] == "replace_canvas" and "photo.png" in window.asked[-1][1]
    window.ask_hook = lambda kind, text: {"class": "1"}.get(kind, "cancel")
    assert not window.generate_class()  # "Generate a Class" asks too
    assert not window.controller.busy and doc.runs == ()
    np.testing.assert_array_equal(doc.image, photo)
    window.ask_hook = lambda kind, text: {"class": "1", "replace_canvas": "replace"}.get(
        kind, "discard"
    )
    assert window.generate_class()
    wait_run(qtbot, window)
    assert doc.shape != (96, 128)
    window.undo()
    np.testing.assert_array_equal(doc.image, photo)


def test_a_blank_canvas_is_filled_without_asking(window, qtbot):
    window.ask_hook = lambda kind, text: window.asked.append((kind, text)) or "cancel"
    assert window.doc.is_blank and window.run_current()
    wait_run(qtbot, window)
    assert not window.asked and not window.doc.is_blank
