"""Model and device choice: loads run in the worker; the window hears ``loaded(ModelInfo)``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from maskgit_studio.engine.results import ModelInfo

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
        params.browse_model.connect(self.browse)
        params.device_chosen.connect(self.set_device)

    def start(self) -> None:
        """List models and devices, then load the session's model in the worker."""
        self.window.params.set_models(self.session.available_models(), None)
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

    def _loaded(self, info: ModelInfo) -> None:
        params = self.window.params
        params.set_model_info(info)
        params.apply_sampler(self.session.recommended_sampler())
        params.set_models(self.session.available_models(), info.path)
        params.set_devices(self.session.available_devices(), info.device)
        self.window.show_message(f"Model {info.name} ready on {info.device}.")
        self.loaded.emit(info)
