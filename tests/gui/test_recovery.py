"""Autosave after every change, and recovery after a real crash of the real window."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

from maskgit_studio.editor import find_recoverable

from .conftest import make_window, sample_image

ROOT = Path(__file__).resolve().parents[2]

CRASHING_SESSION = textwrap.dedent(
    """
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import torch
    torch.set_num_threads(1)
    from PySide6.QtCore import QSettings, QTimer
    from maskgit_studio.engine.session import EngineSession
    from maskgit_studio.gui.app import create_app
    from maskgit_studio.gui.main_window import MainWindow

    model, image, state = sys.argv[1:4]
    app = create_app()
    window = MainWindow(EngineSession(model), QSettings(state + "/s.ini", QSettings.Format.IniFormat), state)
    window.start(image)

    def edit():
        if window.doc is None or window.doc.source is None:
            return QTimer.singleShot(50, edit)
        window.doc.paint([(1, 1), (1, 2), (4, 6)])
        window.doc.set_growth(type(window.doc.growth)(right=2))
        QTimer.singleShot(1000, lambda: os._exit(9))  # crash after the autosave delay

    QTimer.singleShot(50, edit)
    app.exec()
    """
)


def test_autosave_follows_changes(window, qtbot, tmp_path):
    doc = window.doc
    doc.paint([(0, 0)])
    qtbot.waitUntil(lambda: window.files.autosaver is not None, timeout=5000)
    saver = window.files.autosaver
    qtbot.waitUntil(lambda: saver.path.exists(), timeout=5000)
    first = saver.path.stat().st_mtime_ns
    doc.paint([(2, 2)])
    qtbot.waitUntil(lambda: saver.path.stat().st_mtime_ns != first, timeout=5000)
    window.files.close()
    assert not saver.path.exists() and not saver.lock.exists()


def test_recover_after_a_crash(qtbot, session, settings, tmp_path, tiny_bundle_path):
    image = tmp_path / "photo.png"
    Image.fromarray(sample_image(64, 80)).save(image)
    state = tmp_path / "state"
    state.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_SESSION, str(tiny_bundle_path), str(image), str(state)],
        env=env,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 9, proc.stderr[-2000:]
    assert len(find_recoverable(state)) == 1
    window = make_window(qtbot, session, settings, state, answers={"recover": "recover"})
    window.start(None)
    qtbot.waitUntil(lambda: window.info is not None and not window.controller.busy, timeout=20_000)
    assert window.asked[0][0] == "recover" and "photo.png" in window.asked[0][1]
    doc = window.doc
    assert doc.shape == (64, 80) and doc.source == image and doc.modified
    expected = np.zeros(doc.grid_shape, bool)
    expected[1, 1:3] = expected[4, 6] = True
    np.testing.assert_array_equal(doc.mask, expected)
    assert doc.growth.right == 2
    np.testing.assert_array_equal(doc.image, sample_image(64, 80))
    # the crashed session's files are gone; ours holds the document now
    assert find_recoverable(state) == []
    window.files.close()


def test_autosave_failure_is_said_once_and_work_goes_on(window, qtbot, monkeypatch):
    import errno

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    window.doc.paint([(1, 1)])
    qtbot.waitUntil(lambda: "Autosave failed" in window.status.text.text(), timeout=5000)
    assert not window.errors  # a status message, not a dialog after every stroke
    window.show_message("")
    window.doc.paint([(2, 2)])
    qtbot.wait(600)
    window.files.flush_autosave()
    assert window.status.text.text() == ""  # not repeated
    monkeypatch.undo()
    window.doc.paint([(3, 3)])
    saver = lambda: window.files.autosaver  # noqa: E731
    qtbot.waitUntil(lambda: saver() is not None and saver().path.exists(), timeout=5000)
