"""Shows a run as it goes: live preview on the canvas, the step viewer, the progress bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from .canvas import Canvas
from .run_steps import run_title
from .runner import RunController, RunView
from .status import StatusBar
from .step_viewer import StepViewer

DRAW_EVERY_MS = 30  # the canvas draws the newest step at most this often


class LiveRun(QObject):
    """Connects a RunController to the canvas, the step viewer and the status bar."""

    def __init__(
        self, controller: RunController, canvas: Canvas, viewer: StepViewer, status: StatusBar
    ) -> None:
        super().__init__(controller)
        self.controller, self.canvas, self.viewer, self.status = controller, canvas, viewer, status
        self.class_label: Callable[[int | None], str] = lambda c: "" if c is None else str(c)
        self._latest: Any = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DRAW_EVERY_MS)
        self._timer.timeout.connect(self._draw_latest)
        controller.progress.connect(status.set_progress)
        controller.run_started.connect(self._started)
        controller.step.connect(self._step)
        controller.run_ended.connect(self._ended)

    def _started(self, view: RunView) -> None:
        self.viewer.start_run(f"{self.title(view)}…", prefix=view.steps[: view.prefix])
        self.canvas.set_editable(False)

    def _step(self, step: Any) -> None:
        view = self.controller.view
        self.viewer.set_total(view.total if view else 0)
        self.viewer.add_step(step)
        self._latest = step
        if not self._timer.isActive():  # a fast run never queues up redraws
            self._timer.start()

    def _draw_latest(self) -> None:
        view = self.controller.view
        if self._latest is not None and self.controller.busy:
            self.canvas.show_step(self._latest, view.offset if view else (0, 0))

    def _ended(self, view: RunView) -> None:
        self._timer.stop()
        self._latest = None
        self.canvas.clear_step()
        self.canvas.set_editable(True)
        finished = view.result is not None
        self.viewer.title.setText(self.title(view))
        self.viewer.end_run(finished)
        self.status.set_progress(0, 0)

    def title(self, view: RunView) -> str:
        iteration = view.steps[view.prefix - 1].index + 1 if view.prefix else None
        return run_title(
            view.kind,
            self.class_label(view.class_id),
            view.seed,
            view.record_id,
            view.parent,
            iteration,
        )
