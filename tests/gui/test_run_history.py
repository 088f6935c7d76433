"""The run history and the Steps panel (issue 11, item 5 and "What to build"): every run and
branch a node, kept in the project with its token log, shown after reopening; a node's steps
on the viewer; Restore as one undoable step; replay from the stored log."""

from __future__ import annotations

import numpy as np
from PIL import Image

from maskgit_studio.editor import load_project
from maskgit_studio.engine.config import SamplerConfig, config_from_dict

from .conftest import sample_image, wait_run


def _open(window, tmp_path, name="photo.png"):
    path = tmp_path / name
    Image.fromarray(sample_image(96, 128)).save(path)
    assert window.open_path(str(path))
    return window.doc


def _inpaint(window, qtbot, cells=((2, 3), (2, 4), (3, 3))):
    window.doc.paint(list(cells))
    assert window.run_current()
    wait_run(qtbot, window)
    return window.doc.runs[-1]


def _branch(window, qtbot, step_pos, answer="0,77,2.5"):
    window.ask_hook = lambda kind, text: answer if kind == "branch" else "discard"
    window.viewer.slider.setValue(step_pos)
    window.viewer.branch_button.click()
    wait_run(qtbot, window)
    return window.doc.runs[-1]


def test_the_steps_title_names_the_class_and_seed(window, qtbot, tmp_path):
    _open(window, tmp_path)
    window.params.class_picker.set_class(1)
    record = _inpaint(window, qtbot)
    title = window.viewer.title.text()
    assert f"seed {record.seed}" in title and window.info.class_names[1] in title
    assert title.startswith(f"Run {record.id}: inpaint")


def test_the_steps_follow_the_variation_browsed(window, qtbot, tmp_path):
    _open(window, tmp_path)
    window.params.variations.setValue(3)
    _inpaint(window, qtbot)
    assert window.viewer.variation.value() == 1
    window.browse(1)
    assert window.viewer.variation.value() == 2
    window.browse(1)
    assert window.viewer.variation.value() == 3


def test_opening_another_image_leaves_the_old_run_behind(window, qtbot, tmp_path):
    _open(window, tmp_path)
    _inpaint(window, qtbot)
    assert window.viewer.steps
    _open(window, tmp_path, "other.png")
    assert not window.viewer.steps and "No run yet" in window.viewer.title.text()
    assert window.history_panel.tree.topLevelItemCount() == 0
    assert not window.viewer.branch_button.isEnabled()


def test_the_history_survives_save_and_reopen(window, qtbot, tmp_path):
    _open(window, tmp_path)
    window.params.variations.setValue(2)
    parent = _inpaint(window, qtbot)
    live = list(window.viewer.steps)
    window.accept()
    branch = _branch(window, qtbot, 2)
    branch_live = list(window.viewer.steps)
    panel = window.history_panel
    assert panel.tree.topLevelItemCount() == 1  # the branch sits under its parent
    node = panel.items[parent.id]
    assert node.childCount() == 1 and panel.items[branch.id].parent() is node
    assert node.text(2) == str(parent.seed) and not node.icon(0).isNull()
    path = tmp_path / "work.mgstudio"
    assert window.files._save_to(path)
    window.new_blank()
    assert window.open_path(str(path))
    panel = window.history_panel
    assert set(panel.items) == {parent.id, branch.id}
    assert panel.items[branch.id].parent() is panel.items[parent.id]
    assert not window.viewer.branch_button.isEnabled()  # a stored run: no live result
    # the parent's steps, rebuilt from the token log: every step's committed tokens exactly
    assert window.history.show(parent.id)
    steps = window.viewer.steps
    assert [s.index for s in steps] == [s.index for s in live]
    for stored, step in zip(steps, live, strict=True):
        known = ~step.masked
        np.testing.assert_array_equal(stored.masked, step.masked)
        np.testing.assert_array_equal(stored.ids[known], step.ids[known])
    assert window.viewer.variation.maximum() == 2
    # a branch: its parent's steps up to the branch point, then its own
    window.history_panel.tree.itemClicked.emit(panel.items[branch.id], 0)
    assert window.history.shown == branch.id
    assert [s.index for s in window.viewer.steps] == [s.index for s in branch_live]
    assert window.viewer.prefix == 3 and "branch of run" in window.viewer.title.text()


def test_restore_brings_a_run_back_as_an_undoable_edit(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    first = _inpaint(window, qtbot)
    first_image = doc.image.copy()
    second = _inpaint(window, qtbot)  # the mask stayed: the same cells again, a new seed
    assert second.seed != first.seed
    second_image = doc.image.copy()
    assert not np.array_equal(first_image, second_image)
    window.history_panel.select(first.id)
    window.history_panel.restore_button.click()
    np.testing.assert_array_equal(doc.image, first_image)
    assert doc.history.undo_label == f"Restore run {first.id}"
    window.undo()
    np.testing.assert_array_equal(doc.image, second_image)
    # after saving and reopening the run still comes back
    path = tmp_path / "r.mgstudio"
    assert window.files._save_to(path)
    assert window.open_path(str(path))
    assert window.history.restore(first.id)
    np.testing.assert_array_equal(window.doc.image, first_image)


def test_replay_from_the_stored_log_gives_the_same_tokens(window, qtbot, tmp_path, session):
    doc = _open(window, tmp_path)
    before = doc.image.copy()
    pixel_mask = None
    doc.paint([(1, 1), (1, 2)])
    pixel_mask = doc.pixel_mask()
    record = _inpaint(window, qtbot, cells=())
    window.ask_hook = lambda kind, text: "replace" if kind == "replace_canvas" else "discard"
    doc.clear_mask()
    assert window.run_current()  # a generation
    wait_run(qtbot, window)
    generated = doc.runs[-1]
    path = tmp_path / "log.mgstudio"
    assert window.files._save_to(path)
    stored = {r.id: r for r in load_project(path).runs}
    for original in (record, generated):
        request = stored[original.id].request
        sampler = config_from_dict(SamplerConfig, request["sampler"])
        if request["operation"] == "generate":
            run = session.generate(request["class_id"], sampler, request["variations"])
        else:
            run = session.inpaint(
                before,
                pixel_mask,
                request["class_id"],
                sampler,
                request["variations"],
                scale=request["scale"],
                feather=request["feather"],
            )
        result = run.run_to_end()
        np.testing.assert_array_equal(result.tokens, stored[original.id].tokens)
        np.testing.assert_array_equal(result.commit_order, stored[original.id].commit_order)
