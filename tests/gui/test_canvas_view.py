"""The canvas view in daily use: overlays after Esc, re-fit on resize until the user zooms,
re-fit when a run changes the canvas size (issue 11, items 1, 2 and 4)."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from .conftest import sample_image, wait_run


def _open(window, tmp_path, h=96, w=128):
    path = tmp_path / "photo.png"
    Image.fromarray(sample_image(h, w)).save(path)
    assert window.open_path(str(path))
    return window.doc


def _wheel(widget, steps=1, modifiers=Qt.KeyboardModifier.NoModifier):
    center = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        center,
        widget.mapToGlobal(center),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_discarding_variations_shows_the_mask_again(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(2, 3), (2, 4)])
    window.params.variations.setValue(2)
    window.run_current()
    wait_run(qtbot, window)
    assert doc.pending is not None and not window.canvas.mask_item.shown
    window.escape()
    assert doc.pending is None and doc.mask.sum() == 2
    assert window.canvas.mask_item.shown  # the mask the next run applies is on show


def test_the_view_refits_on_resize_until_the_user_zooms(window, qtbot, tmp_path):
    _open(window, tmp_path)
    canvas = window.canvas
    window.resize(1100, 760)
    qtbot.waitUntil(lambda: canvas.width() > 0)
    fitted = canvas.zoom
    window.resize(800, 560)
    qtbot.waitUntil(lambda: canvas.zoom < fitted)  # re-fitted to the smaller view
    _wheel(canvas.viewport())  # the user zooms in
    zoomed = canvas.zoom
    assert canvas.user_zoomed
    window.resize(1000, 700)
    QApplication.processEvents()
    assert canvas.zoom == zoomed  # the user's zoom is kept
    window.actions_.fit.trigger()
    assert not canvas.user_zoomed


def test_a_new_canvas_size_is_fitted(window, qtbot, tmp_path):
    doc = _open(window, tmp_path, 64, 192)
    canvas = window.canvas
    canvas.set_zoom(4.0)  # zoomed in on the wide photo
    window.ask_hook = lambda kind, text: {"class": "1", "replace_canvas": "replace"}.get(
        kind, "discard"
    )
    assert window.generate_class()
    wait_run(qtbot, window)
    assert doc.shape != (64, 192)  # the model-size image replaced the canvas
    zoom = canvas.zoom
    canvas.fit()
    assert abs(canvas.zoom - zoom) < 1e-9  # it was already fitted


def test_a_mask_kept_after_a_run_is_drawn_faint(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    canvas = window.canvas
    doc.paint([(2, 3)])
    full = canvas.mask_item.opacity()
    window.run_current()
    wait_run(qtbot, window)
    assert doc.mask.sum() == 1 and canvas.mask_item.shown
    assert canvas.mask_item.opacity() < full / 2  # the result shows through
    doc.paint([(4, 4)])  # painting again: the mask is the user's next selection
    assert canvas.mask_item.opacity() == full


def _extent(item):
    """(width, height) in document px of the shown cells of a CellsItem."""
    rect = item.boundingRect()
    cells = item.cells
    rows, cols = cells.any(axis=1).nonzero()[0], cells.any(axis=0).nonzero()[0]
    unit = rect.width() / cells.shape[1] if rect.width() else 0
    return (cols[-1] - cols[0] + 1) * unit, (rows[-1] - rows[0] + 1) * unit


def test_the_feather_band_is_shown_around_the_selection(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    window.params.feather.setValue(-1)  # auto: the model's own
    c = doc.cell_size
    doc.paint([(2, 4)])
    radius = window.session.feather_px(doc.scale)
    item = window.canvas.feather_item
    assert radius > 0 and item.shown
    assert _extent(item) == (c + 2 * radius, c + 2 * radius)
    window.params.feather.setValue(6)  # the user's radius
    assert _extent(item) == (c + 12, c + 12)
    window.params.feather.setValue(0)
    assert not item.shown  # a hard edge: nothing blends
