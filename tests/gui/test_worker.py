"""The worker: exact step signals, results, cancel between steps, failures, no leaked threads."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, Slot

from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.results import RunResult, StepResult
from maskgit_studio.gui.worker import Job


class Recorder(QObject):
    """Receives worker signals in the GUI thread, as the window does."""

    def __init__(self) -> None:
        super().__init__()
        self.total = None
        self.steps: list = []
        self.result = None
        self.cancelled = False
        self.failed = None
        self.on_step = None

    @Slot(int)
    def started(self, total):
        self.total = total

    @Slot(object)
    def step(self, step):
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    @Slot(object)
    def finished(self, result):
        self.result = result

    @Slot()
    def was_cancelled(self):
        self.cancelled = True

    @Slot(object)
    def was_failed(self, exc):
        self.failed = exc


def _start(qtbot, fn, cancel_after=None):
    """Run ``fn`` in a Job until done; optionally cancel after ``cancel_after`` steps."""
    recorder = Recorder()
    job = Job(fn)
    w = job.worker
    w.started.connect(recorder.started)
    w.step.connect(recorder.step)
    w.finished.connect(recorder.finished)
    w.cancelled.connect(recorder.was_cancelled)
    w.failed.connect(recorder.was_failed)
    if cancel_after is not None:
        recorder.on_step = lambda s: len(recorder.steps) >= cancel_after and job.cancel()
    with qtbot.waitSignal(job.done, timeout=30_000):
        job.start()
    assert not job.thread.isRunning()
    return recorder, job


def test_every_step_then_the_result(qtbot, session):
    def start():
        return session.generate(0, SamplerConfig(steps=6, seed=3), variations=2)

    rec, _ = _start(qtbot, start)
    assert rec.total == 6 and len(rec.steps) == 6
    assert all(isinstance(s, StepResult) for s in rec.steps)
    assert [s.index for s in rec.steps] == list(range(6))
    assert rec.steps[-1].preview.shape == (2, 64, 64, 3)
    assert isinstance(rec.result, RunResult) and len(rec.result.images) == 2
    assert not rec.cancelled and rec.failed is None


def test_cancel_stops_within_one_step(qtbot, session):
    emitted = []  # recorded in the worker thread as each step is emitted
    gate = threading.Event()  # the worker waits after its 2nd step until the GUI cancelled

    def in_worker(step):
        emitted.append(step.index)
        if len(emitted) == 2:
            gate.wait(10)

    job = Job(lambda: session.generate(1, SamplerConfig(steps=48, seed=1)))
    recorder = Recorder()
    job.worker.step.connect(recorder.step)
    job.worker.step.connect(in_worker)  # a plain function: called in the worker thread
    job.worker.finished.connect(recorder.finished)
    job.worker.cancelled.connect(recorder.was_cancelled)
    recorder.on_step = lambda s: len(recorder.steps) == 2 and (job.cancel(), gate.set())
    with qtbot.waitSignal(job.done, timeout=30_000):
        job.start()
    assert recorder.cancelled and recorder.result is None
    assert emitted == [0, 1]  # no iteration ran after the cancel


def test_failure_reaches_the_gui(qtbot):
    def start():
        raise ValueError("the mask selects nothing")

    rec, _ = _start(qtbot, start)
    assert isinstance(rec.failed, ValueError) and rec.result is None


def test_plain_job_returns_its_value(qtbot, session):
    rec, _ = _start(qtbot, lambda: session.info)
    assert rec.total == 0 and rec.result.grid_size == 8


@pytest.mark.parametrize("n", [3])
def test_jobs_do_not_leak_threads(qtbot, session, n):
    jobs = []
    for _ in range(n):
        _, job = _start(qtbot, lambda: session.generate(0, SamplerConfig(steps=2)))
        jobs.append(job)
    assert all(not j.thread.isRunning() and j.thread.isFinished() for j in jobs)


def test_shutdown_joins_a_running_job_at_once(qtbot, session):
    import time

    job = Job(lambda: session.generate(0, SamplerConfig(steps=64)))
    recorder = Recorder()
    job.worker.step.connect(recorder.step)
    job.start()
    qtbot.waitUntil(lambda: len(recorder.steps) >= 1, timeout=10_000)
    job.cancel()
    start = time.perf_counter()
    assert job.wait(10_000)  # the GUI thread blocks here: the worker must quit by itself
    assert time.perf_counter() - start < 5
    assert not job.thread.isRunning()
