"""``main(argv)``: the real entry point opens an image with a model and exits cleanly."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from maskgit_studio.gui.app import main
from maskgit_studio.gui.main_window import MainWindow

from .conftest import sample_image


def test_main_opens_the_image_then_closes_without_leftovers(
    qapp, tiny_bundle_path, tmp_path, monkeypatch
):
    state = tmp_path / "state"
    monkeypatch.setenv("MASKGIT_STUDIO_STATE", str(state))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "cfg"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    image = tmp_path / "photo.png"
    Image.fromarray(sample_image(64, 96)).save(image)
    seen = {}

    def check():
        windows = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        ]
        doc = windows[0].doc if windows else None
        if doc is None or doc.source is None or windows[0].controller.busy:
            QTimer.singleShot(50, check)
            return
        seen["shape"], seen["title"] = doc.shape, windows[0].windowTitle()
        doc.paint([(1, 1)])  # an autosaved change that a clean exit must not leave behind
        windows[0].ask_hook = lambda kind, text: "discard"
        QTimer.singleShot(600, windows[0].close)

    QTimer.singleShot(50, check)
    try:
        assert main([str(image), "--model", str(tiny_bundle_path), "--device", "cpu"]) == 0
    finally:
        QSettings.setDefaultFormat(QSettings.Format.NativeFormat)
    assert seen["shape"] == (64, 96) and "photo.png" in seen["title"]
    assert not state.exists() or not any((state / "autosave").iterdir())
