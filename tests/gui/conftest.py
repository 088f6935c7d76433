"""GUI test fixtures: a real session on the tiny model, a real window, real mouse events."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from maskgit_studio.engine.session import EngineSession
from maskgit_studio.gui.theme import apply_dark_theme
from maskgit_studio.gui.worker import Job


@pytest.fixture(scope="session", autouse=True)
def private_settings(tmp_path_factory):
    """Every QSettings of the GUI tests lives in a temporary folder, never the user's."""
    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, folder)
    return folder


@pytest.fixture
def session(tiny_bundle_path):
    s = EngineSession(tiny_bundle_path, device="cpu")
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def make_window(qtbot, session, settings, autosave_dir, answers=None):
    """A started MainWindow with its model loaded; dialogs are captured, not shown."""
    from maskgit_studio.gui.main_window import MainWindow

    apply_dark_theme(QApplication.instance())
    window = MainWindow(session, settings=settings, autosave_dir=autosave_dir)
    window.errors = []
    window.asked = []
    answers = dict(answers or {})

    def ask(kind, text):
        window.asked.append((kind, text))
        return answers.get(kind, "discard")

    window.ask_hook = ask
    window.error_hook = lambda title, text: window.errors.append((title, text))
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    return window


@pytest.fixture
def window(qtbot, session, settings, tmp_path):
    w = make_window(qtbot, session, settings, tmp_path / "autosave")
    w.start(None)
    qtbot.waitUntil(lambda: w.info is not None and w.doc is not None, timeout=20_000)
    qtbot.waitUntil(lambda: not w.controller.busy, timeout=20_000)
    w.params.steps.setValue(6)  # short runs keep the suite fast
    yield w
    w.controller.shutdown()
    w.files.close()
    # no worker thread may outlive its job
    qtbot.waitUntil(lambda: not w.controller.findChildren(Job), timeout=10_000)


def sample_image(h=96, w=128, seed=0) -> np.ndarray:
    """A smooth, non-trivial picture (gradients + a disc)."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) * 127 // (h + w) + 64], axis=2)
    disc = (yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (h / 4) ** 2
    img[disc] = (220, 60, 40)
    return img.astype(np.uint8)


def open_sample(window, h=96, w=128):
    """A new document of ``sample_image`` shown in the window, fitted to the canvas."""
    doc = window.new_document(sample_image(h, w))
    window.set_document(doc)
    window.canvas.fit()
    return doc


def view_point(canvas, x: float, y: float) -> QPoint:
    """The viewport point showing document pixel (x, y)."""
    return canvas.mapFromScene(QPointF(x, y))


def send_mouse(
    canvas, kind, point: QPoint, button, buttons, modifiers=Qt.KeyboardModifier.NoModifier
):
    event = QMouseEvent(
        kind,
        QPointF(point),
        canvas.viewport().mapToGlobal(QPointF(point)),
        button,
        buttons,
        modifiers,
    )
    QApplication.sendEvent(canvas.viewport(), event)


def drag(canvas, points: Iterable[tuple[float, float]], button=Qt.MouseButton.LeftButton):
    """Press at the first document point, move through the others, release at the last."""
    points = [view_point(canvas, x, y) for x, y in points]
    no = Qt.MouseButton.NoButton
    send_mouse(canvas, QMouseEvent.Type.MouseButtonPress, points[0], button, button)
    for p in points[1:]:
        send_mouse(canvas, QMouseEvent.Type.MouseMove, p, no, button)
    send_mouse(canvas, QMouseEvent.Type.MouseButtonRelease, points[-1], button, no)


def wait_run(qtbot, window, timeout=60_000):
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=timeout)
