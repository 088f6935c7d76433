"""Model and device choice: loads run in the worker; the window hears ``loaded(ModelInfo)``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from maskgit_studio.engine.results import ModelInfo

from .download_dialog import DownloadDialog

if TYPE_CHECKING:
    from .main_window import MainWindow


class ModelController(QObject):
    """Signals: loaded(ModelInfo) after the first load, a model switch or a device move."""

    loaded = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        params = window.params
        params.model_chosen.connect(self.load)
        params.download_requested.connect(self.download)
        params.browse_model.connect(self.browse)
        self.download_dialog: DownloadDialog | None = None
        params.device_chosen.connect(self.set_device)

    def start(self) -> None:
        """List models and devices, then load the session's model in the worker."""
        self._list_models(None)
        self.window.params.set_devices(self.session.available_devices(), "auto")
        self.window.show_message("Loading the model…")
        self.window.controller.call(self._info, self._loaded, "load the model")

    def _info(self) -> ModelInfo:
        return self.session.info  # first access loads the model (in the worker thread)

    def load(self, model: str) -> None:
        self.window.show_message(f"Loading {Path(model).name}…")
        self.window.controller.call(
            lambda: self.session.load(model), self._loaded, "load the model"
        )

    def set_device(self, name: str) -> None:
        def move() -> ModelInfo:
            self.session.set_device(name)
            return self.session.info

        self.window.controller.call(move, self._loaded, f"use the device {name}")

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open model", "", "Models (*.safetensors)"
        )
        if path:
            self.load(path)

    def _list_models(self, current: str | None) -> None:
        session = self.session
        self.window.params.set_models(
            session.available_models(), current, session.downloadable_models()
        )

    def download(self, name: str) -> None:
        """Open the download dialog for an official model; load the model when it is in."""
        if self.download_dialog is not None:
            return
        model = next((m for m in self.session.downloadable_models() if m.name == name), None)
        if model is None:
            return
        dialog = DownloadDialog(model, self.window)
        self.download_dialog = dialog
        dialog.finished.connect(lambda _result: self._download_closed(dialog))
        dialog.open()
        dialog.start()

    def _download_closed(self, dialog: DownloadDialog) -> None:
        self.download_dialog = None
        dialog.deleteLater()
        self._list_models(None)
        if dialog.entry is not None:
            self.load(str(dialog.entry.path))

    def _loaded(self, info: ModelInfo) -> None:
        params = self.window.params
        params.set_model_info(info)
        params.apply_sampler(self.session.recommended_sampler())
        self._list_models(info.path)
        params.set_devices(self.session.available_devices(), info.device)
        self.window.show_message(f"Model {info.name} ready on {info.device}.")
        self.loaded.emit(info)
