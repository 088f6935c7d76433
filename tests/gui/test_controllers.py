"""The window's controllers, each built alone from the narrow things it uses (no MainWindow)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PIL import Image
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget

from maskgit_studio.editor import Document
from maskgit_studio.gui.actions import ACTIONS, build_actions, build_menus, build_toolbar
from maskgit_studio.gui.files import FileController
from maskgit_studio.gui.models import ModelController
from maskgit_studio.gui.params_panel import ParamsPanel
from maskgit_studio.gui.tools import BrushSize

from .conftest import sample_image


class FakeHost:
    """The FileHost protocol, recording what the controller asked of it."""

    def __init__(self) -> None:
        self.doc: Document | None = None
        self.errors: list[str] = []
        self.messages: list[str] = []

    def new_document(self, image):
        return Document(image, 8)

    def set_document(self, doc):
        self.doc = doc

    def open_path(self, path):
        return False

    def update_title(self):
        pass

    def show_message(self, text):
        self.messages.append(text)

    def report_error(self, exc, action):
        self.errors.append(action)

    def ask(self, kind, text):
        return "discard"


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def test_actions_wire_each_slot_and_shortcuts_are_unique(parent):
    called = []
    slots = {spec.name: (lambda *_, n=spec.name: called.append(n)) for spec in ACTIONS}
    tools = [SimpleNamespace(name="brush", label="Brush", shortcut="B", tip="Paint")]
    picked = []
    a = build_actions(parent, slots, tools, picked.append)
    a.undo.trigger()
    a.tool["brush"].trigger()
    assert called == ["undo"] and picked == ["brush"]
    keys = [k.toString() for action in parent.actions() for k in action.shortcuts()]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    menus = build_menus(QMenuBar(parent), a)
    assert menus.recent.title() == "Open &Recent"
    size = BrushSize(3)
    toolbar = build_toolbar(a, size, lambda opacity: None)
    assert toolbar.size_spin.value() == 3
    with pytest.raises(KeyError):
        build_actions(parent, {}, [], picked.append)
    assert QKeySequence("Ctrl+Y") in a.redo.shortcuts()


def test_files_open_save_and_recent_with_a_fake_host(tmp_path, settings, parent):
    host = FakeHost()
    files = FileController(host, settings, tmp_path / "autosave", parent)
    picture = tmp_path / "in.png"
    Image.fromarray(sample_image(32, 40)).save(picture)
    assert files.open_path(picture)
    assert host.doc is not None and host.doc.shape == (32, 40)
    project = tmp_path / "p.mgproj"
    assert files._save_to(project) and str(project) in files.recent()
    assert host.messages[-1] == f"Saved {project.name}"
    assert not files.open_path(tmp_path / "missing.png") and host.errors == ["open missing.png"]
    files.close()


def test_models_load_into_the_panel_without_a_window(session, parent, qtbot):
    params = ParamsPanel()
    qtbot.addWidget(params)
    messages, loaded = [], []

    def call_now(fn, on_done, action):  # the worker, synchronously
        on_done(fn())
        return True

    models = ModelController(session, params, call_now, messages.append, parent)
    models.loaded.connect(loaded.append)
    models.start()
    assert loaded and loaded[0].image_size == 64
    assert messages[-1].startswith("Model ") and messages[-1].endswith("ready on cpu.")
