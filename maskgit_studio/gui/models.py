"""Model and device choice: loads run in the worker; the window hears ``loaded(ModelInfo)``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from maskgit_studio.engine.results import ModelInfo

from .download_dialog import DownloadDialog
from .params_panel import ParamsPanel

if TYPE_CHECKING:
    from maskgit_studio.engine.session import EngineSession

# RunController.call: run fn in the worker, then on_done(result) in the GUI thread.
CallInWorker = Callable[[Callable[[], Any], Callable[[Any], None], str], bool]


class ModelController(QObject):
    """Signals: loaded(ModelInfo) after the first load, a model switch or a device move.

    Args:
        session: the engine session whose model this controller loads and moves.
        params: the parameters panel: its model / device pickers drive the controller, and it
            shows the loaded model's facts and recommended sampler settings.
        call_in_worker: runs a load or a move in the worker (``RunController.call``).
        show_message: the status line.
        parent: the window (parent of the file and download dialogs).
    """

    loaded = Signal(object)

    def __init__(
        self,
        session: EngineSession,
        params: ParamsPanel,
        call_in_worker: CallInWorker,
        show_message: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.params = params
        self.call_in_worker = call_in_worker
        self.show_message = show_message
        self.dialog_parent = parent
        self.download_dialog: DownloadDialog | None = None
        params.model_chosen.connect(self.load)
        params.download_requested.connect(self.download)
        params.browse_model.connect(self.browse)
        params.device_chosen.connect(self.set_device)

    def start(self) -> None:
        """List models and devices, then load the session's model in the worker."""
        self._list_models(None)
        self.params.set_devices(self.session.available_devices(), "auto")
        self.show_message("Loading the model…")
        self.call_in_worker(self._info, self._loaded, "load the model")

    def _info(self) -> ModelInfo:
        return self.session.info  # first access loads the model (in the worker thread)

    def load(self, model: str) -> None:
        self.show_message(f"Loading {Path(model).name}…")
        self.call_in_worker(lambda: self.session.load(model), self._loaded, "load the model")

    def set_device(self, name: str) -> None:
        def move() -> ModelInfo:
            self.session.set_device(name)
            return self.session.info

        self.call_in_worker(move, self._loaded, f"use the device {name}")

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.dialog_parent, "Open model", "", "Models (*.safetensors)"
        )
        if path:
            self.load(path)

    def _list_models(self, current: str | None) -> None:
        session = self.session
        self.params.set_models(session.available_models(), current, session.downloadable_models())

    def download(self, name: str) -> None:
        """Open the download dialog for an official model; load the model when it is in."""
        if self.download_dialog is not None:
            return
        model = next((m for m in self.session.downloadable_models() if m.name == name), None)
        if model is None:
            return
        dialog = DownloadDialog(model, self.dialog_parent)
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
        params = self.params
        params.set_model_info(info)
        params.apply_sampler(self.session.recommended_sampler())
        self._list_models(info.path)
        params.set_devices(self.session.available_devices(), info.device)
        self.show_message(f"Model {info.name} ready on {info.device}.")
        self.loaded.emit(info)
