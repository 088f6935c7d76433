"""Keeps the run history panel and the step viewer on the open document's runs.

The viewer shows the run going on while one runs; otherwise the run picked in the history: the
latest run of this session with its live pictures (and branching), any other one rebuilt from
its token log. Opening another document shows that document's runs (or none).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from maskgit_studio.editor import Document, RunRecord

from .history_panel import HistoryPanel
from .live import LiveRun
from .run_steps import lineage, run_title
from .runner import RunController
from .step_viewer import StepViewer


class RunHistory(QObject):
    """Binds a document's run log to the history panel and the step viewer."""

    def __init__(
        self,
        panel: HistoryPanel,
        viewer: StepViewer,
        controller: RunController,
        live: LiveRun,
        message: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.panel, self.viewer, self.controller, self.live = panel, viewer, controller, live
        self.message = message
        self.doc: Document | None = None
        self.shown: int | None = None  # the run on the step viewer
        panel.run_clicked.connect(self.show)
        panel.restore_requested.connect(self.restore)
        controller.run_started.connect(lambda _view: self._set_shown(None))
        controller.run_ended.connect(self._ended)

    @property
    def class_label(self) -> Callable[[int | None], str]:
        return self.live.class_label

    def set_document(self, doc: Document) -> None:
        """Show ``doc``'s runs; the viewer shows its latest run, or nothing."""
        if self.doc is not None:
            self.doc.unsubscribe(self._changed)
        self.doc = doc
        doc.subscribe(self._changed)
        self.panel.set_runs(doc.runs, self.class_label)
        if doc.runs:
            self.show(doc.runs[-1].id)
        else:
            self._set_shown(None)
            self.viewer.clear()

    def refresh(self) -> None:
        """Redraw the nodes (class names change with the model)."""
        if self.doc is not None:
            self.panel.set_runs(self.doc.runs, self.class_label)

    def _changed(self, aspects: set[str]) -> None:
        doc = self.doc
        if doc is None:
            return
        if "runs" in aspects:
            self.panel.set_runs(doc.runs, self.class_label)
        pending = doc.pending
        if "pending" in aspects and pending is not None and pending.run_id == self.shown:
            self.viewer.set_variation(pending.index)  # follow the candidate being browsed

    def _ended(self, view) -> None:
        if view.record_id is not None:
            self._set_shown(view.record_id)  # the run that just ended is on the viewer

    def _record(self, run_id: int) -> RunRecord | None:
        runs = self.doc.runs if self.doc is not None else ()
        return next((r for r in runs if r.id == run_id), None)

    def _set_shown(self, run_id: int | None) -> None:
        self.shown = run_id
        if run_id is not None:
            self.panel.select(run_id)

    def show(self, run_id: int) -> bool:
        """Show run ``run_id``'s steps on the viewer."""
        record = self._record(run_id)
        if record is None:
            return False
        if self.controller.running:
            self.message("A run is going: its steps are on show until it ends.")
            return False
        variation = record.accepted or 0
        pending = self.doc.pending if self.doc is not None else None
        if pending is not None and pending.run_id == run_id:
            variation = pending.index
        view = self.controller.view
        if view is not None and view.record_id == run_id and view.steps:
            title = self.live.title(view)  # this session's run: live pictures, branching
            self.viewer.show_run(title, view.steps, view.prefix, variation, live=True)
        else:
            steps, prefix = lineage(self.doc.runs if self.doc else (), record)
            self.viewer.show_run(self.title(record), steps, prefix, variation)
        self._set_shown(run_id)
        return True

    def title(self, record: RunRecord) -> str:
        iteration = None
        if record.parent is not None:
            iteration = int(record.request.get("step", 0)) + 1
        kind = record.kind if record.operation != "branch" else "branch"
        return run_title(
            kind,
            self.class_label(record.class_id),
            record.seed,
            record.id,
            record.parent,
            iteration,
        )

    def restore(self, run_id: int) -> bool:
        """Bring run ``run_id``'s result back as one undoable step."""
        doc, record = self.doc, self._record(run_id)
        if doc is None or record is None or self.controller.busy:
            return False
        variation = record.accepted or 0
        if self.shown == run_id:
            variation = self.viewer.variation.value() - 1
        variation = min(variation, record.variations - 1)
        if record.output is None:
            self.message(f"Run {run_id} was saved without its result, so it cannot come back.")
            return False
        if not doc.restore_run(run_id, variation):
            self.message(
                f"Run {run_id} was made on a canvas of another size: it cannot be put back "
                "on this one."
            )
            return False
        self.message(f"Run {run_id} restored (variation {variation + 1}). Ctrl+Z takes it out.")
        return True
