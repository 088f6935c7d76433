"""Runs the current request in a worker: live steps, progress, cancel, candidates, branches.

One job at a time (a run, or a model load). The document is never touched until a run has
finished; a cancelled or failed run leaves it exactly as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from maskgit_studio.editor import Candidates, Document, EditRequest, RunRecord
from maskgit_studio.engine.config import SamplerConfig

from .run_steps import one_variation
from .worker import Job

log = logging.getLogger(__name__)


@dataclass
class RunView:
    """The run on show: its steps (for the step viewer) and, once finished, its result.

    Attributes:
        kind: "generate" | "inpaint" | "refine" | "remove_object" | "add_detail" | "outpaint" |
            "edit_box" | "branch".
        offset: (dx, dy) of the current document inside the run's output.
        steps: every StepResult so far; a branch starts with its parent's steps up to the
            branch point (``prefix`` of them, of the variation it continues).
        total: the exact number of steps the run yields (its own).
        class_id / seed: what the run uses (for titles).
        result: the engine RunResult, when finished.
        record_id: its RunRecord in the document's run log.
        accepted_version: the document version right after one of its candidates was accepted.
    """

    kind: str
    offset: tuple[int, int]
    box_index: int | None = None
    parent: int | None = None
    branch_step: int | None = None
    steps: list = field(default_factory=list)
    total: int = 0
    prefix: int = 0
    class_id: int | None = None
    seed: int | None = None
    result: Any = None
    record_id: int | None = None
    accepted_version: int | None = None


class RunController(QObject):
    """Signals:
    busy_changed(bool), progress(int done, int total), message(str),
    run_started(object RunView), step(object StepResult), run_ended(object RunView; its
    result is None unless it finished), error(object exception, str action).
    No signal carries None: PySide6 6.12 corrupts None's refcount when emitting it.
    """

    busy_changed = Signal(bool)
    progress = Signal(int, int)
    message = Signal(str)
    run_started = Signal(object)
    step = Signal(object)
    run_ended = Signal(object)
    error = Signal(object, str)

    def __init__(self, session: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.doc: Document | None = None
        self.job: Job | None = None
        self.view: RunView | None = None  # the latest run (finished or running)
        self._running: RunView | None = None
        self._base: tuple[Document | None, int] = (None, 0)  # the document a run started from
        self._action = ""
        self._on_done: Callable[[Any], None] = lambda _: None
        self.auto_accept_single = True

    @property
    def busy(self) -> bool:
        """A job (a run or a model load) holds the worker."""
        return self.job is not None

    @property
    def running(self) -> bool:
        """A run is going (its result will land in the document)."""
        return self._running is not None

    # -- plain jobs ------------------------------------------------------------------------
    # Worker signals connect only to bound methods of this (GUI-thread) object: Qt then queues
    # them into the GUI thread. A lambda would run in the worker thread.
    def call(self, fn: Callable[[], Any], on_done: Callable[[Any], None], action: str) -> bool:
        """Run ``fn`` in the worker (model loading, device moves); ``on_done(result)`` after,
        in the GUI thread."""
        if self.busy:
            return False
        self._on_done = on_done
        job = self._start_job(fn, action)
        job.worker.finished.connect(self._on_call_done)
        job.start()
        return True

    def _on_call_done(self, result: Any) -> None:
        self._on_done(result)

    def _start_job(self, fn: Callable[[], Any], action: str) -> Job:
        self._action = action
        self.job = Job(fn, self)
        self.job.worker.failed.connect(self._on_failed)
        self.job.done.connect(self._job_done)
        self.busy_changed.emit(True)
        return self.job

    def _on_failed(self, exc: BaseException) -> None:
        if self._running is not None:
            self._end(self._running)  # ended without a result
        self.error.emit(exc, self._action)

    def _job_done(self) -> None:
        self.job = None
        self.busy_changed.emit(False)

    # -- runs ------------------------------------------------------------------------------
    def run(self, request: EditRequest, params: Any) -> bool:
        """Start ``request`` with the panel's ``params``; False if busy or nothing to do."""
        doc = self.doc
        if doc is None or self.busy:
            return False
        sampler: SamplerConfig = params.sampler()
        common = {
            "sampler": sampler,
            "variations": params.variations.value(),
            "previews": True,
        }
        edit = {
            "scale": params.edit_scale(doc.scale),
            "feather": params.feather_px(),
            "options": params.edit_options(),
        }
        image, class_id = doc.image, params.current_class()
        offset, box_index = (0, 0), None
        session = self.session
        run_class, kind = class_id, request.kind
        if request.kind == "generate":
            start = lambda: session.generate(class_id, **common)  # noqa: E731
        elif request.kind == "inpaint":
            mask = doc.pixel_mask()
            kind = operation = params.operation()
            if operation == "refine":
                strength = params.refine_strength()
                start = lambda: session.refine(  # noqa: E731
                    image, mask, strength, "confidence", class_id, **common, **edit
                )
            elif operation == "add_detail":  # the finest scale that covers the mask
                strength, options = params.refine_strength(), edit["options"]
                start = lambda: session.add_detail(  # noqa: E731
                    image, mask, None, strength, class_id, **common, options=options
                )
            elif operation == "remove_object":
                run_class = None
                start = lambda: session.remove_object(image, mask, **common, **edit)  # noqa: E731
            else:
                start = lambda: session.inpaint(image, mask, class_id, **common, **edit)  # noqa: E731
        elif request.kind == "outpaint":
            left, top, right, bottom = doc.growth.pixels(doc.cell_size)
            offset = (left, top)
            start = lambda: session.outpaint(  # noqa: E731
                image, left, top, right, bottom, class_id, **common, **edit
            )
        elif request.kind == "edit_box":
            box_index = request.box_index
            box = doc.boxes[box_index]
            box_class = run_class = class_id if box.class_id is None else box.class_id
            start = lambda: session.edit_box(image, box.xywh, box_class, **common, **edit)  # noqa: E731
        else:
            raise ValueError(f"unknown request {request.kind!r}")
        view = RunView(kind, offset, box_index, class_id=run_class, seed=sampler.seed)
        self._launch(view, start, f"run {kind.replace('_', ' ')}")
        summary = request.summary
        if kind != request.kind:  # a mask, refined or removed rather than inpainted
            summary = summary.replace("Inpaint: regenerate", kind.replace("_", " ").capitalize())
        self.message.emit(f"{summary} (seed {sampler.seed})…")
        return True

    def branch(
        self, step_pos: int, variation: int, class_id: int | None, sampler: SamplerConfig
    ) -> bool:
        """Re-decode the latest run from its step ``step_pos`` with new settings."""
        parent, doc = self.view, self.doc
        if self.busy or doc is None or parent is None or parent.result is None:
            return False
        pending = doc.pending
        if pending is not None and pending.run_id == parent.record_id:
            offset = parent.offset  # the parent's candidates are still on show
        elif parent.accepted_version == doc.version:
            offset = (0, 0)  # the document is the parent's accepted output
        else:
            self.message.emit("The document changed since this run: branch from a newer run.")
            return False
        result, step = parent.result, parent.steps[step_pos]
        start = lambda: self.session.branch(result, step, variation, class_id, sampler, True)  # noqa: E731
        view = RunView("branch", offset, parent.box_index, parent.record_id, step_pos)
        view.steps = [one_variation(s, variation) for s in parent.steps[: step_pos + 1]]
        view.prefix, view.seed = len(view.steps), sampler.seed
        view.class_id = parent.class_id if class_id is None else class_id
        self._launch(view, start, "branch")
        self.message.emit(f"Branching from step {step_pos + 1} (seed {sampler.seed})…")
        return True

    def _launch(self, view: RunView, start: Callable[[], Any], action: str) -> None:
        assert self.doc is not None
        self._running = self.view = view
        self._base = (self.doc, self.doc.version)
        job = self._start_job(start, action)
        job.worker.started.connect(self._on_started)
        job.worker.step.connect(self._on_step)
        job.worker.finished.connect(self._on_finished)
        job.worker.cancelled.connect(self._on_cancelled)
        self.run_started.emit(view)
        job.start()

    def cancel(self) -> bool:
        """Stop the running job before its next step; True if one was running."""
        if self.job is None:
            return False
        self.job.cancel()
        self.message.emit("Cancelling…")
        return True

    def shutdown(self) -> None:
        """Cancel and join the worker thread (window closing)."""
        if self.job is not None:
            self.job.cancel()
            self.job.wait()

    def _on_started(self, total: int) -> None:
        if self._running is not None:
            self._running.total = total
        self.progress.emit(0, total)

    def _on_step(self, step: Any) -> None:
        view = self._running
        if view is None:
            return
        view.steps.append(step)
        self.progress.emit(len(view.steps) - view.prefix, view.total)
        self.step.emit(step)

    def _on_finished(self, result: Any) -> None:
        view, doc = self._running, self.doc
        if view is None or doc is None:
            return
        view.result = result
        if self._base != (doc, doc.version):
            self.message.emit("The document changed during the run; its result was dropped.")
            self._end(view)
            return
        operation = "branch" if view.kind == "branch" else view.kind
        last = view.steps[-1] if len(view.steps) > view.prefix else None
        record = RunRecord.from_result(
            doc.next_run_id(),
            result,
            operation,
            view.parent,
            view.branch_step,
            previews=last.preview if last is not None else None,
            input_shape=doc.shape,
            input_offset=view.offset,
        )
        doc.add_run(record)
        view.record_id = record.id
        kind = (
            view.kind if view.kind != "branch" else str(result.request.get("operation", "branch"))
        )
        doc.set_pending(
            Candidates(
                list(result.images), view.offset, result.changed, record.id, kind, view.box_index
            )
        )
        count = len(result.images)
        if count == 1 and self.auto_accept_single:
            self.accept()
            text = "Done. Ctrl+Z undoes it; hold Tab to compare."
        else:
            text = f"{count} variations: ←/→ browse, Enter accepts, Esc discards."
        self.message.emit(text + _enlarged_note(result.request, kind))
        self._end(view)

    def _on_cancelled(self) -> None:
        self.message.emit("Cancelled: the document is unchanged.")
        if self._running is not None:
            self._end(self._running)

    def _end(self, view: RunView) -> None:
        self._running = None
        self.run_ended.emit(view)

    def accept(self) -> bool:
        """Accept the candidate on show; remembers the version for later branches."""
        doc = self.doc
        if doc is None or doc.pending is None:
            return False
        run_id = doc.pending.run_id
        doc.accept_pending()
        if self.view is not None and self.view.record_id == run_id:
            self.view.accepted_version = doc.version
        return True


def _enlarged_note(request: dict, kind: str) -> str:
    """A hint after an edit whose fill was enlarged (scale > 1): the detail pass can sharpen it."""
    scale = request.get("scale")
    if kind in ("generate", "add_detail") or not isinstance(scale, int) or scale <= 1:
        return ""
    return f" The fill was enlarged {scale}×: the mask action Add detail redraws it finer."
