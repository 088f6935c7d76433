"""The smaller rough edges of issue 11, item 6: glyphs that render, keys for the maps, Tab
compare from anywhere in the window, why an edit starts late, Help (F1) and plain tooltips."""

from __future__ import annotations

import re

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QSlider

from .conftest import sample_image, wait_run


def _open(window, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(sample_image(96, 128)).save(path)
    assert window.open_path(str(path))
    return window.doc


def _renders(widget, text: str) -> bool:
    metrics = QFontMetrics(widget.font())
    return all(metrics.inFontUcs4(ord(ch)) for ch in text)


def test_play_and_pause_show_without_missing_glyphs(window):
    button = window.viewer.play_button
    for on in (False, True, False):
        button.setChecked(on)
        assert _renders(button, button.text())  # no "tofu" box
        assert not button.icon().isNull() or button.text().isascii()


def test_the_maps_and_the_token_masks_have_keys(window):
    viewer = window.viewer
    assert set(viewer.legends) >= {"mask", "confidence", "order"}
    for legend in viewer.legends.values():
        assert legend.toolTip() and legend.isVisibleTo(viewer)
    words = " ".join(w.text() for w in viewer.legends["confidence"].findChildren(type(viewer.note)))
    assert "sure" in words


def test_hold_tab_compares_without_canvas_focus(window, qtbot, tmp_path):
    _open(window, tmp_path)
    window.activateWindow()
    button = window.viewer.branch_button
    button.setEnabled(True)
    button.setFocus()
    qtbot.waitUntil(button.hasFocus)
    qtbot.keyPress(button, Qt.Key.Key_Tab)
    assert window.canvas._compare
    qtbot.keyRelease(button, Qt.Key.Key_Tab)
    assert not window.canvas._compare
    field = window.params.seed  # a field that takes typing keeps Tab for the next field
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyPress(field, Qt.Key.Key_Tab)
    assert not window.canvas._compare


def test_an_edit_says_why_it_starts_late(window, qtbot, tmp_path):
    doc = _open(window, tmp_path)
    window.params.steps.setValue(12)
    doc.paint([(2, 2)])
    window.run_current()
    wait_run(qtbot, window)
    viewer = window.viewer
    first = viewer.steps[0]
    assert first.index > 0 and viewer.strip.numbers[0] == first.index + 1
    viewer.slider.setValue(0)
    assert viewer.step_label.text() == f"Iteration {first.index + 1} of 12"
    assert f"start at iteration {first.index + 1} of 12" in viewer.note.text()


def test_f1_shows_every_shortcut(window, qtbot):
    help_menu = [m for m in window.menuBar().actions() if m.text() == "&Help"]
    assert help_menu
    window.activateWindow()
    qtbot.keyClick(window.canvas, Qt.Key.Key_F1)
    sheet = window.help.sheet
    assert sheet is not None and sheet.isVisible()
    text = " ".join(" ".join(row) for row in sheet.rows)
    for needle in ("Ctrl+Return", "Hold Tab", "Esc", "Ctrl+Z", "Space"):
        assert needle in text
    sheet.close()


def test_tooltips_are_plain_words(window):
    jargon = re.compile(r"\b(T|logits?|tokens? id|annealed|CFG|guidance scale)\b")
    actions = [a for menu in window.menuBar().actions() for a in menu.menu().actions()]
    for action in actions:
        if action.isSeparator() or action.menu() is not None:
            continue
        tip = action.statusTip()
        assert tip, f"{action.text()} has no tip"
        assert not jargon.search(tip), tip
    fields = [
        w
        for kind in (QAbstractSpinBox, QComboBox, QSlider)
        for w in window.params.findChildren(kind)
    ]
    for widget in fields:
        tip = widget.toolTip()
        assert tip, f"{widget.objectName() or type(widget).__name__} has no tooltip"
        assert not jargon.search(tip), tip


def test_a_bad_file_is_refused_before_asking_to_save(window, tmp_path):
    doc = _open(window, tmp_path)
    doc.paint([(1, 1)])  # unsaved changes
    window.asked.clear()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert not window.open_path(str(broken))
    assert window.errors and not window.asked  # no question for a file that cannot open
    assert window.doc is doc
    good = tmp_path / "good.png"
    Image.fromarray(sample_image(64, 64)).save(good)
    assert window.open_path(str(good))
    assert window.asked[-1][0] == "save_changes"


def test_error_texts_are_plain_words(window, tmp_path):
    from maskgit_studio.gui.dialogs import describe_error

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert not window.open_path(str(broken))
    title, text = window.errors[-1]
    assert "broken.png" in text and not re.search(r"[A-Z][a-z]+[A-Z]\w*Error", title + text)
    title, text = describe_error(RuntimeError("CUDA failure"), "run inpaint")
    assert "RuntimeError" not in title + text and "CUDA failure" in text
