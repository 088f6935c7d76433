"""Progress lines (throughput + ETA) and the metrics JSONL file of each stage."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


class MetricsLog:
    """Append-only JSON-lines metrics file, one object per record, flushed at every write.

    On resume at step s, records written after s by the killed run are dropped, so the file
    always describes the run that the checkpoint continues.
    """

    def __init__(self, path: str | os.PathLike, resume_step: int = 0, enabled: bool = True):
        self.path = Path(path)
        self.enabled = enabled
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            kept = []
            for line in self.path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line torn by a kill
                if record.get("step", 0) <= resume_step:
                    kept.append(line)
            self.path.write_text("".join(k + "\n" for k in kept))

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        record = {"time": round(time.time(), 3), **record}
        with open(self.path, "a") as fh:
            fh.write(json.dumps(record, default=float) + "\n")
            fh.flush()


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All records of a metrics JSONL file (torn lines skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


class Progress:
    """Throughput over the last interval and an ETA from the step and time budgets.

    Args:
        stage: name shown in the line.
        total_steps: the step budget.
        items_per_step: global batch size (images or sequences per step).
        unit: "img" or "seq".
        max_seconds: the wall-clock budget (0 = none); the ETA is the nearer of the two.
    """

    def __init__(
        self,
        stage: str,
        total_steps: int,
        items_per_step: int,
        unit: str,
        max_seconds: float = 0.0,
    ) -> None:
        self.stage = stage
        self.total_steps = total_steps
        self.items_per_step = items_per_step
        self.unit = unit
        self.max_seconds = max_seconds
        self._last_time: float | None = None
        self._last_step = 0
        self.rate = 0.0  # items per second over the last interval

    def start(self, step: int) -> None:
        self._last_time = time.perf_counter()
        self._last_step = step

    def line(self, step: int, elapsed: float, metrics: dict[str, float]) -> str:
        """Update the throughput and format one progress line for ``step``."""
        now = time.perf_counter()
        if self._last_time is not None and step > self._last_step:
            dt = max(now - self._last_time, 1e-9)
            self.rate = (step - self._last_step) * self.items_per_step / dt
        self._last_time, self._last_step = now, step
        steps_left = self.total_steps - step
        eta = steps_left * self.items_per_step / self.rate if self.rate > 0 else math.inf
        if self.max_seconds > 0:
            eta = min(eta, max(self.max_seconds - elapsed, 0.0))
        shown = " ".join(f"{k} {_fmt(v)}" for k, v in metrics.items())
        return (
            f"{self.stage} {step}/{self.total_steps} | {shown} | "
            f"{self.rate:.1f} {self.unit}/s | elapsed {format_duration(elapsed)} "
            f"| ETA {format_duration(eta)}"
        )


def report_train_step(
    progress: Progress,
    metrics: MetricsLog,
    log: logging.Logger,
    is_main: bool,
    step: int,
    elapsed: float,
    shown: dict[str, float],
) -> None:
    """Log one progress line and append the step's JSONL record (rank 0 only)."""
    line = progress.line(step, elapsed, shown)
    if is_main:
        log.info(line)
        record = {"step": step, "kind": "train", f"{progress.unit}_per_s": progress.rate}
        metrics.write({**record, "elapsed_s": elapsed, **shown})


def _fmt(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.3f}"
    if value != 0 and abs(value) < 0.01:
        return f"{value:.2e}"
    return f"{value:.4f}"
