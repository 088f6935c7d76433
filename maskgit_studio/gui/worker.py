"""Long work off the GUI thread: a QObject in a QThread iterating an engine Run.

``start`` is called IN the worker thread (it may load a model, encode the image, ...). If it
returns a Run (anything with ``total_steps`` that iterates StepResults), each step is emitted
and the cancel flag is checked between steps; otherwise its return value is the result.
Payloads are numpy records; QImages are made by the receiver in the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

log = logging.getLogger(__name__)


class Worker(QObject):
    """Runs one job. Signals are delivered (queued) in the receiver's thread.

    Signals:
        started(int): the run's exact step count (0 for a plain job).
        step(object): a StepResult.
        finished(object): the RunResult (or the plain job's return value; () for None).
        cancelled(): stopped by ``cancel()``; nothing was produced.
        failed(object): the exception raised by the job.
    """

    started = Signal(int)
    step = Signal(object)
    finished = Signal(object)
    cancelled = Signal()
    failed = Signal(object)
    done = Signal()  # after any of finished / cancelled / failed

    def __init__(self, start: Callable[[], Any]) -> None:
        super().__init__()
        self._start = start
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop before its next step (safe from any thread)."""
        self._cancel.set()

    @Slot()
    def process(self) -> None:
        try:
            self._process()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI
            log.exception("job failed")
            self.failed.emit(exc)
        finally:
            self.done.emit()

    def _process(self) -> None:
        out = self._start()
        if not hasattr(out, "total_steps"):
            self.started.emit(0)
            # PySide6 6.12 corrupts None's refcount when None goes through Signal(object)
            self.finished.emit(out if out is not None else ())
            return
        run = out
        try:
            self.started.emit(int(run.total_steps))
            for step in run:
                if self._cancel.is_set():
                    break
                self.step.emit(step)
                if self._cancel.is_set():
                    break
        finally:
            if self._cancel.is_set() or run.result is None:
                run.close()
        if self._cancel.is_set():
            self.cancelled.emit()
        else:
            self.finished.emit(run.result)


class Job(QObject):
    """A Worker with its own QThread; the thread ends and is joined when the job is done.

    Connect to ``job.worker``'s signals, then call ``start()``. Keep a reference until ``done``.
    """

    done = Signal()

    def __init__(self, start: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = Worker(start)
        self.thread = QThread()
        self.thread.setObjectName("maskgit-worker")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.process)
        # Direct: the worker thread ends its own event loop, so wait() works even while the GUI
        # thread is blocked in it (shutdown).
        self.worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self._finished)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.worker.cancel()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the thread has ended (shutdown, tests)."""
        return self.thread.wait(msecs)

    def _finished(self) -> None:
        self.thread.wait()
        self.done.emit()
        self.deleteLater()  # the parent would otherwise keep every finished job alive
