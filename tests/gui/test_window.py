"""The window: runs, variations, cancel, undo/redo, files and errors, with the real tiny model."""

from __future__ import annotations

import errno
import os
import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from maskgit_studio.editor import Candidates, RunRecord, load_project

from .conftest import sample_image, wait_run


def _open(window, tmp_path, name="in.png", h=96, w=128):
    path = tmp_path / name
    Image.fromarray(sample_image(h, w)).save(path)
    assert window.open_path(str(path))
    return window.doc


def test_starts_with_a_blank_canvas_of_the_model_size(window):
    doc = window.doc
    assert doc.is_blank and doc.shape == (64, 64) and doc.cell_size == 8
    assert window.current_request().kind == "generate"
    assert window.params.class_picker.current_class() is None  # tiny model has a null class


def test_generate_a_class_fills_the_blank_canvas(window, qtbot):
    window.ask_hook = lambda kind, text: "1" if kind == "class" else "discard"
    assert window.generate_class()
    wait_run(qtbot, window)
    doc = window.doc
    assert not doc.is_blank and doc.runs[-1].request["class_id"] == 1
    assert doc.history.undo_label == "Accept generate"
    assert len(window.viewer.steps) == window.params.steps.value()


def test_variations_browse_accept_and_discard(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(2, 3), (2, 4)])
    window.params.variations.setValue(3)
    window.actions_.run.trigger()
    wait_run(qtbot, window)
    assert doc.pending is not None and doc.pending.count == 3
    before = doc.image.copy()
    np.testing.assert_array_equal(doc.image, before)  # nothing changes until accepted
    window.actions_.next.trigger()
    window.actions_.next.trigger()
    window.actions_.prev.trigger()
    assert doc.pending.index == 1
    chosen = doc.pending.current.copy()
    window.actions_.accept.trigger()
    assert doc.pending is None
    np.testing.assert_array_equal(doc.image, chosen)
    assert doc.runs[-1].accepted == 1
    window.actions_.undo.trigger()
    np.testing.assert_array_equal(doc.image, before)
    window.actions_.redo.trigger()
    np.testing.assert_array_equal(doc.image, chosen)
    # a second run, discarded with Esc
    doc.paint([(5, 5)])
    window.actions_.run.trigger()
    wait_run(qtbot, window)
    assert doc.pending is not None
    window.actions_.escape.trigger()
    assert doc.pending is None
    np.testing.assert_array_equal(doc.image, chosen)


def test_escape_cancels_a_run_and_leaves_the_document_as_it_was(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(1, 1)])
    window.params.steps.setValue(64)
    version, image, runs = doc.version, doc.image.copy(), len(doc.runs)
    emitted = []  # recorded in the worker thread, as each step is emitted
    gate = threading.Event()  # holds the worker after its first step until Esc was pressed

    def in_worker(step):
        emitted.append(step.index)
        if len(emitted) == 1:
            gate.wait(10)

    def in_gui(step):
        if not gate.is_set():
            window.escape()
            gate.set()

    window.controller.step.connect(in_gui)
    window.actions_.run.trigger()
    window.controller.job.worker.step.connect(in_worker)  # a plain function: runs in the worker
    assert window.controller.busy and not window.canvas.editable
    wait_run(qtbot, window)
    assert len(emitted) == 1  # stopped before the next iteration
    assert doc.version == version and len(doc.runs) == runs and doc.pending is None
    np.testing.assert_array_equal(doc.image, image)
    assert window.canvas.editable and not window.canvas.shade_item.shown
    assert "Cancelled" in window.status.text.text()


def test_progress_counts_the_exact_iterations(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(1, 1)])
    window.params.steps.setValue(9)
    seen = []
    window.controller.progress.connect(lambda done, total: seen.append((done, total)))
    window.actions_.run.trigger()
    wait_run(qtbot, window)
    total = seen[0][1]
    assert total == len(window.viewer.steps) > 0
    assert [d for d, _ in seen] == list(range(total + 1))


def test_branch_from_a_step(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(2, 2), (2, 3), (3, 2)])
    window.params.steps.setValue(8)
    window.params.variations.setValue(2)  # the branch starts from variation 0's step
    window.actions_.run.trigger()
    wait_run(qtbot, window)
    parent = doc.runs[-1]
    parent_steps = list(window.viewer.steps)
    window.ask_hook = lambda kind, text: "0,77,2.5" if kind == "branch" else "discard"
    window.viewer.slider.setValue(2)
    window.viewer.branch_button.click()
    wait_run(qtbot, window)
    branch = doc.runs[-1]
    assert branch.operation == "branch" and branch.parent == parent.id and branch.branch_step == 2
    assert branch.request["class_id"] == 0 and branch.request["sampler"]["seed"] == 77
    assert branch.request["sampler"]["choice_temperature"] == 2.5
    # one variation: accepted at once, as one undo step
    assert doc.pending is None and branch.accepted == 0
    assert doc.history.undo_label == "Accept branch"
    branch_index = parent_steps[2].index
    # the parent's steps up to the branch point, then the branch's own, numbered on
    viewer = window.viewer
    assert viewer.prefix == 3 and len(viewer.steps) == 3 + 8 - branch_index - 1
    assert [s.index for s in viewer.steps] == [s.index for s in parent_steps[:3]] + list(
        range(branch_index + 1, 8)
    )
    assert "branch of run" in viewer.title.text() and "seed 77" in viewer.title.text()


def test_open_errors_are_dialogs_and_keep_the_document(window, tmp_path):
    doc = window.doc
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert not window.open_path(str(broken))
    assert window.doc is doc
    title, text = window.errors[-1]
    assert "broken.png" in title + text
    huge = tmp_path / "huge.png"
    Image.new("RGB", (8000, 6000)).save(huge)
    assert not window.open_path(str(huge))
    assert "limit" in window.errors[-1][1] and window.doc is doc


def test_invalid_model_file_is_explained(window, qtbot, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    window.load_model(str(bad))
    wait_run(qtbot, window)
    title, text = window.errors[-1]
    assert title == "Invalid model file" and "Pick another model" in text
    assert window.info is not None  # the old model keeps working


def test_save_open_and_disk_full(window, qtbot, tmp_path, monkeypatch):
    doc = _open(window, tmp_path)
    doc.paint([(1, 1), (3, 4)])
    path = tmp_path / "work.mgstudio"
    assert window.files._save_to(path)
    assert not doc.modified and "work.mgstudio" in window.windowTitle()
    assert str(path) in window.files.recent()
    doc.paint([(5, 5)])
    saved = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert not window.files.save()
    assert window.errors[-1][0] == "Disk full" and "Nothing was lost" in window.errors[-1][1]
    assert path.read_bytes() == saved and doc.modified and window.doc is doc
    monkeypatch.undo()
    back = load_project(path)
    assert back.mask.sum() == 2


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_drop_a_file_opens_it(window, tmp_path):
    path = tmp_path / "dropped.png"
    Image.fromarray(sample_image(64, 80)).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    viewport = window.canvas.viewport()
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)
    assert window.doc.source == path and window.doc.shape == (64, 80)


def test_mask_export_import_and_image_export(window, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(1, 1), (4, 7)])
    mask_path = tmp_path / "mask.png"
    assert window.files.export_mask_to(mask_path)
    doc.clear_mask()
    assert window.files.import_mask_from(mask_path)
    assert doc.mask.sum() == 2 and doc.mask[4, 7] and doc.history.undo_label == "Import mask"
    wrong = tmp_path / "wrong.png"
    Image.new("L", (10, 10)).save(wrong)
    assert not window.files.import_mask_from(wrong)
    assert "10x10 px" in window.errors[-1][1]
    out = tmp_path / "out.webp"
    assert window.files.export_image_to(out)
    assert Image.open(out).size == (128, 96)


def test_view_controls(window, qtbot, tmp_path):
    _open(window, tmp_path)
    canvas = window.canvas
    window.opacity_slider.setValue(80)
    assert abs(canvas.mask_item.opacity() - 0.8) < 1e-6
    window.actions_.grid.trigger()
    assert not canvas.grid_item.isVisible()
    window.actions_.grid.trigger()
    assert canvas.grid_item.isVisible()
    window.actions_.actual.trigger()
    assert abs(canvas.zoom - 1.0) < 1e-9
    window.actions_.zoom_in.trigger()
    assert abs(canvas.zoom - 1.25) < 1e-9
    window.actions_.fit.trigger()
    assert canvas.zoom > 1.25  # a 128 px image fills a 1200 px window


def test_hold_tab_compares_with_the_original(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    run_image = np.full_like(doc.image, 7)
    tokens, order = np.zeros((1, 2, 2), np.int32), np.zeros((1, 2, 2), np.int16)
    doc.add_run(RunRecord(1, "inpaint", {}, tokens, order))
    doc.set_pending(Candidates([run_image], (0, 0), np.ones(doc.shape, bool), 1, "inpaint"))
    window.canvas.setFocus()
    shown = lambda: window.canvas.image_item.pixmap().toImage().pixelColor(5, 5).red()  # noqa: E731
    assert shown() == 7
    qtbot.keyPress(window.canvas, Qt.Key.Key_Tab)
    assert shown() == doc.image[5, 5, 0]  # the document before the candidate
    qtbot.keyRelease(window.canvas, Qt.Key.Key_Tab)
    assert shown() == 7
    window.accept()
    qtbot.keyPress(window.canvas, Qt.Key.Key_Tab)
    assert shown() == doc.original[5, 5, 0] != 7  # the original as opened
    qtbot.keyRelease(window.canvas, Qt.Key.Key_Tab)


def test_out_of_memory_message():
    from maskgit_studio.gui.dialogs import describe_error

    title, text = describe_error(MemoryError(), "run inpaint")
    assert title == "Out of memory" and "fewer variations" in text and "Nothing was lost" in text


def test_opening_a_file_during_a_run_is_refused(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(1, 1)])
    other = tmp_path / "other.png"
    Image.fromarray(sample_image(64, 64)).save(other)
    window.params.steps.setValue(48)
    window.actions_.run.trigger()
    assert not window.open_path(str(other))
    assert window.doc is doc and "A run is going" in window.status.text.text()
    wait_run(qtbot, window)
    assert window.open_path(str(other)) and window.doc.shape == (64, 64)
