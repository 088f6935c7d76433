"""Download an official model: a progress bar, Cancel, and the transfer in a worker thread.

The session does the work (``EngineSession.download_model``): the dialog only shows its
progress. Cancel stops between chunks and the engine deletes the partial files, so nothing
half-made is left; during the short conversion at the end Cancel is disabled (the importer
cannot stop half-way, and it writes the model atomically). ``accepted`` means the model is
installed: ``entry`` is its ModelEntry.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from maskgit_studio.engine.session import DownloadProgress, EngineSession, OfficialModel

from .dialogs import describe_error
from .worker import Job

MB = 2**20
BAR_STEPS = 1000


class DownloadDialog(QDialog):
    """Downloads ``model`` when shown (``start``); closes itself when done or cancelled.

    Attributes:
        entry: the installed ModelEntry after success, else None.
        error: (title, text) after a failure (the dialog stays open to show it).
    """

    progressed = Signal(object)  # DownloadProgress, emitted from the worker thread

    def __init__(self, model: OfficialModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.entry = None
        self.error: tuple[str, str] | None = None
        self.job: Job | None = None
        self._cancel = threading.Event()
        self.setWindowTitle(f"Get {model.label}")
        self.setModal(True)
        self.title = QLabel(
            f"Downloading the official MaskGIT {model.label} model "
            "(google-research/maskgit, Apache-2.0).\nIt is converted once and then works "
            "offline; the class list becomes the 1000 ImageNet classes."
        )
        self.title.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setTextVisible(True)
        self.detail = QLabel("Connecting…")
        self.buttons = QDialogButtonBox()
        self.cancel_button: QPushButton = self.buttons.addButton(
            QDialogButtonBox.StandardButton.Cancel
        )
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.buttons)
        self.resize(460, 160)
        self.progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)

    # -- the job -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the download in a worker thread (once)."""
        if self.job is not None:
            return
        name = self.model.name
        self.job = Job(
            lambda: EngineSession.download_model(
                name, progress=self.progressed.emit, cancelled=self._cancel.is_set
            ),
            self,
        )
        self.job.worker.finished.connect(self._finished)
        self.job.worker.failed.connect(self._failed)
        self.job.done.connect(self._job_done)
        self.job.start()

    @property
    def running(self) -> bool:
        return self.job is not None

    def cancel(self) -> None:
        """Stop the transfer (the engine deletes what it had); closes when the worker ends."""
        if self.job is None:
            self.reject()
            return
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        self.detail.setText("Cancelling…")

    # -- from the worker -----------------------------------------------------------------------
    def _show_progress(self, p: DownloadProgress) -> None:
        if p.phase == "convert":
            self.bar.setRange(0, 0)  # busy: the importer reports no fraction
            self.detail.setText("Converting the weights (a few seconds)…")
            self.cancel_button.setEnabled(False)
            return
        if self._cancel.is_set():
            return
        if p.total:
            self.bar.setValue(round(BAR_STEPS * p.done / p.total))
            eta = f", {_clock(p.eta_s)} left" if p.eta_s is not None else ""
            self.detail.setText(
                f"{p.done / MB:.0f} of {p.total / MB:.0f} MB, {p.rate / MB:.1f} MB/s{eta}"
            )
        else:
            self.detail.setText(f"{p.done / MB:.0f} MB, {p.rate / MB:.1f} MB/s")

    def _finished(self, entry) -> None:
        self.entry = entry

    def _failed(self, exc: BaseException) -> None:
        if self._cancel.is_set():
            return  # a cancel surfaces as DownloadCancelled: not an error
        self.error = describe_error(exc, f"download {self.model.label}")
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setValue(0)
        self.detail.setText(self.error[1])
        self.detail.setWordWrap(True)
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)

    def _job_done(self) -> None:
        # Close from the event loop, not from inside the Job's own ``done`` emission.
        QTimer.singleShot(0, self._close_after_job)

    def _close_after_job(self) -> None:
        self.job = None
        if self.entry is not None:
            self.accept()
        elif self._cancel.is_set():
            self.reject()

    # -- closing -------------------------------------------------------------------------------
    def reject(self) -> None:
        """Escape / the window's close button: cancel first; close once the worker ended."""
        if self.job is not None:
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.job is not None:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, secs = divmod(seconds, 60)
    return (
        f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"
        if minutes >= 60
        else f"{minutes}:{secs:02d}"
    )


__all__ = ["DownloadDialog"]
