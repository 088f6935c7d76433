"""The studio's side of seamless edits (issue 10): the round brush and "snap to cells", the
editing options (window, blend, context, what a scale means), refine with a strength and
remove object, on the tiny model."""

from __future__ import annotations

import numpy as np

from maskgit_studio.engine.session import EditOptions

from .conftest import drag, open_sample, wait_run


def test_round_brush_paints_pixels_not_cells(window):
    doc = open_sample(window)
    window.set_tool("brush")
    window.brush_size.set_snap(False)
    window.brush_size.set_px(6)
    drag(window.canvas, [(30.0, 40.0), (60.0, 40.0)])
    assert not doc.mask.any() and doc.pixels is not None
    selected = doc.pixel_mask()
    assert selected[40, 30:60].all()
    assert not selected[40 - 4, 45] and not selected[40 + 4, 45]  # 6 px across, not a cell
    touched = doc.selection_cells()
    assert touched.sum() >= 4  # the stroke crosses cells; they regenerate, these pixels land
    shown = window.canvas.mask_item.cells
    np.testing.assert_array_equal(shown, selected)  # the overlay shows the painted pixels
    assert len(doc.history) == 1 and doc.history.undo_label == "Brush stroke"
    window.set_tool("eraser")
    drag(window.canvas, [(45.0, 40.0)])
    assert not doc.pixel_mask()[40, 45] and doc.pixel_mask()[40, 32]
    window.brush_size.set_snap(True)
    window.set_tool("brush")
    drag(window.canvas, [(4.0, 4.0)])
    assert doc.mask[0, 0]


def test_brush_size_keys_follow_the_mode(window):
    window.brush_size.set_snap(False)
    window.brush_size.set_px(16)
    window.actions_.bigger.trigger()
    assert window.brush_size.px == 18
    window.brush_size.set_snap(True)
    window.brush_size.set(2)
    window.actions_.bigger.trigger()
    assert window.brush_size.value == 3


def test_editing_options_and_what_a_scale_means(window):
    params = window.params
    assert params.edit_scale(3) is None  # fitted to the edit by default
    params.fit_window.setChecked(False)
    assert params.edit_scale(3) == 3
    params.scale.setValue(3)
    note = params.scale_note.text()
    assert "24 px" in note and "enlarged 3×" in note  # tiny model: f = 8
    params.fit_window.setChecked(True)
    assert "smallest scale" in params.scale_note.text()
    params.blend.setCurrentIndex(params.blend.findData("alpha"))
    params.context.setValue(1)
    options = params.edit_options()
    assert isinstance(options, EditOptions)
    assert options.blend.mode == "alpha" and options.context == 1 and options.pixel_mask
    params.context.setValue(-1)
    assert params.edit_options().context is None
    assert not params.strength.isEnabled()
    params.mask_operation.setCurrentIndex(params.mask_operation.findData("refine"))
    assert params.strength.isEnabled() and params.operation() == "refine"
    params.strength.setValue(30)
    assert params.refine_strength() == 0.3 and params.strength_label.text() == "30 %"


def _paint_disc(doc, x, y, r):
    doc.paint_pixels([(x, y)], r)
    return doc.pixel_mask().copy()


def test_refine_with_a_pixel_mask_changes_only_the_painted_pixels(window, qtbot):
    doc = open_sample(window)
    before = doc.image.copy()
    mask = _paint_disc(doc, 50.0, 50.0, 7.0)
    params = window.params
    params.mask_operation.setCurrentIndex(params.mask_operation.findData("refine"))
    params.strength.setValue(40)
    params.feather.setValue(1)
    assert window.run_current()
    wait_run(qtbot, window)
    record = doc.runs[-1]
    assert record.operation == "refine"
    assert record.request["refine"] == {"strength": 0.4, "order": "confidence"}
    assert record.request["options"]["pixel_mask"] is True
    grown = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    grown[ys.min() - 1 : ys.max() + 2, xs.min() - 1 : xs.max() + 2] = True  # the 1 px feather
    np.testing.assert_array_equal(doc.image[~grown], before[~grown])


def test_remove_object_runs_unconditionally(window, qtbot):
    doc = open_sample(window)
    _paint_disc(doc, 40.0, 40.0, 6.0)
    params = window.params
    params.mask_operation.setCurrentIndex(params.mask_operation.findData("remove_object"))
    assert window.run_current()
    wait_run(qtbot, window)
    record = doc.runs[-1]
    assert record.operation == "remove_object"
    assert record.request["class_id"] is None
    assert record.request["sampler"]["guidance_scale"] == 0.0


def test_add_detail_redraws_part_of_the_mask_at_the_finest_scale(window, qtbot):
    doc = open_sample(window)
    before = doc.image.copy()
    mask = _paint_disc(doc, 60.0, 44.0, 9.0)
    params = window.params
    params.mask_operation.setCurrentIndex(params.mask_operation.findData("add_detail"))
    assert params.strength.isEnabled()
    params.strength.setValue(60)
    params.fit_window.setChecked(False)  # a fixed scale does not apply: detail is always finest
    assert window.run_current()
    wait_run(qtbot, window)
    record = doc.runs[-1]
    assert record.operation == "add_detail" and record.request["scale"] == 1
    assert record.request["refine"] == {"strength": 0.6, "order": "random"}
    near = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    near[ys.min() - 3 : ys.max() + 4, xs.min() - 3 : xs.max() + 4] = True  # mask + feather
    np.testing.assert_array_equal(doc.image[~near], before[~near])
    assert (doc.image[mask] != before[mask]).any()


def test_an_enlarged_edit_points_to_add_detail(window, qtbot):
    doc = open_sample(window)
    _paint_disc(doc, 50.0, 50.0, 6.0)
    params = window.params
    params.fit_window.setChecked(False)
    params.scale.setValue(2)
    messages = []
    window.controller.message.connect(messages.append)
    assert window.run_current()
    wait_run(qtbot, window)
    assert doc.runs[-1].request["scale"] == 2
    assert "enlarged 2×" in messages[-1] and "Add detail" in messages[-1]
    params.mask_operation.setCurrentIndex(params.mask_operation.findData("add_detail"))
    assert window.run_current()
    wait_run(qtbot, window)
    assert "Add detail" not in messages[-1]  # the detail pass itself ran at scale 1
