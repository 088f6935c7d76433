"""Getting an official model from the studio: the dialog, its worker, Cancel and failures, with
real transfers from a loopback server and the real importer."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from maskgit_studio.engine import model_store
from maskgit_studio.engine.importers.official_download import OFFICIAL_MODELS
from maskgit_studio.gui.download_dialog import BAR_STEPS, DownloadDialog
from tests.loopback import OFFICIAL_TEST_FILES, isolate, official_test_files, serve

TOK, TR = OFFICIAL_TEST_FILES


@pytest.fixture(scope="module")
def files():
    return official_test_files(seed=5)


@pytest.fixture(autouse=True)
def dirs(tmp_path, monkeypatch):
    """Set before the window lists its models."""
    return isolate(tmp_path, monkeypatch)


def mirror(monkeypatch, served) -> None:
    monkeypatch.setenv("MASKGIT_STUDIO_DOWNLOAD_URL", served.url)


def started_dialog(qtbot, monkeypatch, served, start: bool = True) -> DownloadDialog:
    """A shown dialog for imagenet256, downloading from ``served``."""
    mirror(monkeypatch, served)
    dialog = DownloadDialog(OFFICIAL_MODELS["imagenet256"])
    qtbot.addWidget(dialog)
    dialog.show()
    if start:
        dialog.start()
    return dialog


def nothing_left(models, work) -> bool:
    return (not models.exists() or not list(models.iterdir())) and not work.exists()


def test_dialog_downloads_and_installs(qtbot, files, dirs, monkeypatch):
    models, work = dirs
    with serve(files) as served:
        dialog = started_dialog(qtbot, monkeypatch, served, start=False)
        values = []
        dialog.bar.valueChanged.connect(lambda v: values.append(v))  # in the GUI thread
        with qtbot.waitSignal(dialog.accepted, timeout=30_000):
            dialog.start()
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.job is None
    assert dialog.entry.path == models / "imagenet256.safetensors" and dialog.entry.path.is_file()
    shown = [v for v in values if v >= 0]
    assert shown[-1] == BAR_STEPS and shown == sorted(shown)
    assert dialog.bar.maximum() == 0  # busy while converting
    assert "Converting" in dialog.detail.text()
    assert not work.exists()


def test_cancel_stops_the_transfer_and_leaves_nothing(qtbot, files, dirs, monkeypatch):
    models, work = dirs
    with serve(files, slow={TOK: 0.05}) as served:
        dialog = started_dialog(qtbot, monkeypatch, served, start=False)
        dialog.bar.valueChanged.connect(lambda v: v > 0 and dialog.cancel_button.click())
        with qtbot.waitSignal(dialog.rejected, timeout=30_000):
            dialog.start()
        assert not served.gets(TR)  # stopped during the first file
    assert dialog.entry is None and dialog.error is None and dialog.job is None
    assert 0 < dialog.bar.value() < BAR_STEPS
    assert nothing_left(models, work)


def test_closing_the_dialog_cancels_first(qtbot, files, dirs, monkeypatch):
    models, work = dirs
    with serve(files, slow={TOK: 0.05}) as served:
        dialog = started_dialog(qtbot, monkeypatch, served)
        qtbot.waitUntil(lambda: dialog.bar.value() > 0, timeout=10_000)
        dialog.close()  # the window's close button: ignored until the worker stopped
        assert dialog.isVisible() and dialog.detail.text() == "Cancelling…"
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30_000)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert nothing_left(models, work)


def test_a_failure_is_shown_in_the_dialog(qtbot, files, dirs, monkeypatch):
    models, work = dirs
    with serve({TOK: files[TOK]}) as served:  # the transformer file is missing: 404
        dialog = started_dialog(qtbot, monkeypatch, served)
        qtbot.waitUntil(lambda: dialog.error is not None, timeout=30_000)
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert dialog.isVisible() and "HTTP 404" in dialog.detail.text()
    assert dialog.cancel_button.text() == "Close" and dialog.cancel_button.isEnabled()
    dialog.cancel_button.click()
    assert not dialog.isVisible()
    assert nothing_left(models, work)


def test_model_picker_gets_imagenet_then_selects_it(window, qtbot, files, dirs, monkeypatch):
    models, _ = dirs
    combo = window.params.model_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "Get ImageNet 256 (866 MB)…" in labels and "Get ImageNet 512 (868 MB)…" in labels
    assert window.params.info_label.text().endswith("on cpu (fp32)")
    before = combo.currentText()
    with serve(files) as served:
        mirror(monkeypatch, served)
        combo.activated.emit(labels.index("Get ImageNet 256 (866 MB)…"))
        assert combo.currentText() == before  # the picker still shows the loaded model
        dialog = window.models.download_dialog
        assert dialog is not None and dialog.isVisible()
        qtbot.waitUntil(lambda: window.info is not None and window.info.name == "imagenet256",
                        timeout=30_000)  # fmt: skip
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=20_000)
    assert window.models.download_dialog is None
    assert combo.currentData() == str(models / "imagenet256.safetensors")
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "Get ImageNet 256 (866 MB)…" not in labels and "Get ImageNet 512 (868 MB)…" in labels
    assert model_store.resolve_model("imagenet256") == models / "imagenet256.safetensors"
    # The class picker now searches the 1000 ImageNet names.
    picker = window.params.class_picker
    assert picker.model.rowCount() == 1000
    picker.search.setText("golden retr")
    assert picker.proxy.rowCount() == 1
    assert picker.proxy.index(0, 0).data() == "207: golden retriever"
    picker.search.returnPressed.emit()
    assert picker.current_class() == 207
