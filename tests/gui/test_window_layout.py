"""The window on the screen (issue 11, item 4) and the first-run hint: it fits the available
screen, comes back with its size and panels, and the hint shows once. Settings live in a
temporary QSettings file, never the user's."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings
from PySide6.QtWidgets import QApplication

from maskgit_studio.gui.main_window import MainWindow


def _window(qtbot, session, settings, tmp_path):
    window = MainWindow(session, settings=settings, autosave_dir=tmp_path / "autosave")
    window.ask_hook = lambda kind, text: "discard" if kind != "recover" else "later"
    qtbot.addWidget(window)
    return window


def test_the_first_window_fits_a_1280x720_screen(qtbot, session, settings, tmp_path, monkeypatch):
    screen = QRect(0, 0, 1280, 720)
    monkeypatch.setattr(
        "maskgit_studio.gui.window_layout.available_area", lambda window: screen, raising=False
    )
    window = _window(qtbot, session, settings, tmp_path)
    window.show()
    QApplication.processEvents()
    size = window.size()
    assert size.width() <= screen.width() and size.height() <= screen.height()
    hint = window.minimumSizeHint()  # the panels themselves fit such a screen
    assert hint.width() <= screen.width() and hint.height() <= screen.height()
    assert screen.contains(window.geometry().center())


def test_size_and_panels_come_back(qtbot, session, settings, tmp_path):
    window = _window(qtbot, session, settings, tmp_path)
    window.show()
    window.resize(1100, 650)  # not the size a first start picks
    window.docks["history"].hide()
    QApplication.processEvents()
    assert window.close()
    settings.sync()
    again = _window(qtbot, session, QSettings(settings.fileName(), settings.format()), tmp_path)
    again.show()
    QApplication.processEvents()
    # the height comes back (the test screen is narrower than the window: Qt keeps it on it)
    assert again.height() == 650
    assert again.docks["history"].isHidden() and not again.docks["steps"].isHidden()


def test_the_first_run_hint_shows_once(qtbot, session, settings, tmp_path):
    window = _window(qtbot, session, settings, tmp_path)
    window.show()
    window.start(None)
    assert window.help.hint.isVisible()
    text = " ".join(label.text() for label in window.help.hint.lines)
    assert len(window.help.hint.lines) == 3
    for words in ("cells", "Working scale", "Step viewer"):
        assert words in text
    window.help.hint.close_button.click()
    assert not window.help.hint.isVisible()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=20_000)
    window.close()
    again = _window(qtbot, session, settings, tmp_path)
    again.show()
    again.start(None)
    assert not again.help.hint.isVisible()
    again.actions_.welcome.trigger()  # Help > Show the Welcome Hint
    assert again.help.hint.isVisible()
    qtbot.waitUntil(lambda: not again.controller.busy, timeout=20_000)
