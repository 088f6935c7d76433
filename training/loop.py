"""The training loop both model stages share: resume, budget, logging, evals, checkpoints.

A stage (``train_tokenizer``, ``train_transformer``) describes itself with a ``StageSpec`` and
brings its model, optimisers and data as a ``StageSteps`` object; ``run_stage`` does the rest:

1. ``restart`` removes the stage folder; a stage that is complete under the current budget
   (and identity, e.g. the tokens it was trained on) is skipped.
2. Seed everything, build the steps, then resume from ``state.pt`` or warm-start from
   ``init_from``; then ``prepare`` the data from the resumed step.
3. Until the step or time budget is spent, a stop signal arrives (on any rank) or
   ``stop_at_step`` is reached: one ``train_step`` at the scheduled learning rate, a progress
   line and metrics record every ``log_every`` steps, an eval every ``eval_every`` steps, a
   checkpoint when the timer says so.
4. A last eval (if none covers the last step), a checkpoint, ``status.json`` and, when the
   stage is complete, its final weights file.

Checkpoint (``state.pt``): the steps' ``state_dict()``, then step, elapsed_s, rng, recipe, the
identity entries, data_position and warm_start. Step ``s`` always trains on the same batch with
the same randomness (``training.stage.step_seed``), so a resumed run is bit-identical. The final
weights file (``save_weights``/``read_weights``): tensors, the engine config and an info record.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from maskgit_studio.engine.config import config_to_dict
from training import distributed as D
from training.progress import MetricsLog, Progress, report_train_step
from training.recipes import recipe_json
from training.run_state import (
    STATE_FILE,
    STATUS_FILE,
    atomic_write,
    capture_rng,
    load_state,
    read_json,
    save_state,
    seed_everything,
    stop_on_signals,
    write_json,
)
from training.stage import Budget, CheckpointTimer, lr_factor
from training.warm_start import load_warm_start, warm_start_record

COMPLETE_REASONS = ("steps", "time limit")


@dataclass(frozen=True)
class StageSpec:
    """What the loop needs to know of a stage besides its steps.

    Attributes:
        name: the stage (recipe section, folder under the run, progress-line prefix).
        final_file: the weights file written when the stage completes.
        unit: what a batch holds, for throughput ("img", "seq").
        headline: the eval metric whose absence asks for a final eval.
        log: the stage's logger (its lines keep the stage module's name).
    """

    name: str
    final_file: str
    unit: str
    headline: str
    log: logging.Logger


class StageSteps:
    """A stage's part of the loop; subclasses build their models in ``__init__``."""

    def state_dict(self) -> dict[str, Any]:
        """The stage's own checkpoint entries (weights, optimisers, EMA, ...)."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from a checkpoint (the full ``state.pt`` dict)."""
        raise NotImplementedError

    def warm_start(self, bundle: dict[str, Any]) -> None:
        """Start from the weights of a warm-start bundle (``training.warm_start``)."""
        raise NotImplementedError

    def prepare(self, step: int) -> None:
        """Set up the data from ``step`` on and switch to training mode."""
        raise NotImplementedError

    def train_step(self, step: int, lr: float) -> dict[str, Any]:
        """One optimisation step at learning rate ``lr``; the values its log line shows
        (tensors are read only on logged steps)."""
        raise NotImplementedError

    def evaluate(self, step: int) -> dict[str, float]:
        """Held-out metrics (rank 0 only); logs its own line."""
        raise NotImplementedError

    def save_final(self, path: Path, info: dict[str, Any]) -> None:
        """Write the final weights file (rank 0, complete stages only)."""
        raise NotImplementedError


def is_complete(status: dict | None, cfg: dict, identity: dict | None = None) -> bool:
    """Complete under the current budget (a larger budget reopens a finished stage) and with
    the same ``identity`` entries (e.g. the transformer's tokens)."""
    if not status or not status.get("complete"):
        return False
    if any(status.get(k) != v for k, v in (identity or {}).items()):
        return False
    if status["step"] < cfg["steps"]:
        limit = cfg["max_minutes"] * 60
        return limit > 0 and status["elapsed_s"] >= limit
    return True


def save_weights(
    path: Path, module: nn.Module, info: dict, dtype: torch.dtype | None = None
) -> Path:
    """Write a final weights file atomically: the module's tensors (cast to ``dtype`` if given),
    its engine config and ``info`` (step, metrics, recipe name, warm start) as metadata."""
    tensors = {}
    for key, value in module.state_dict().items():
        value = value.detach().cpu()
        tensors[key] = (value if dtype is None else value.to(dtype)).contiguous()
    meta = {"config": json.dumps(config_to_dict(module.config)), "info": json.dumps(info)}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def read_weights(path: Path, missing: str) -> tuple[dict, dict, dict]:
    """(tensors, config dict, info dict) of a file written by ``save_weights``.

    Raises:
        FileNotFoundError: with the message ``missing`` when there is no such file.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(missing)
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    return tensors, json.loads(meta["config"]), json.loads(meta["info"])


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v.detach()) if torch.is_tensor(v) else v for k, v in values.items()}


def run_stage(
    spec: StageSpec,
    build,
    recipe: dict,
    out_dir: str | Path,
    ctx: D.DistContext,
    stop_at_step: int | None = None,
    restart: bool = False,
    identity: dict[str, Any] | None = None,
) -> dict:
    """Train (or resume) one stage; returns its status dict (also written to status.json).

    Args:
        spec: the stage's name, files and log.
        build: () -> StageSteps, called after seeding (model initialisation draws randomness).
        recipe: the full recipe; ``recipe[spec.name]`` is the stage's section.
        out_dir: the run folder; the stage writes OUT/<name>/.
        ctx: distributed context.
        stop_at_step: save and return once this step is reached (like a SIGTERM there).
        restart: discard an existing checkpoint of this stage first.
        identity: entries saved in the checkpoint and status that a finished stage must match.
    """
    log, identity = spec.log, dict(identity or {})
    cfg = recipe[spec.name]
    stage_dir = Path(out_dir) / spec.name
    if restart and ctx.is_main and stage_dir.exists():
        shutil.rmtree(stage_dir)
    D.barrier(ctx)
    status = read_json(stage_dir / STATUS_FILE)
    if is_complete(status, cfg, identity) and (stage_dir / spec.final_file).is_file():
        log.info("%s stage already complete (step %d); skipping", spec.name, status["step"])
        return status

    seed_everything(recipe["seed"])
    steps = build()
    state = load_state(stage_dir / STATE_FILE)
    step, elapsed, warm = 0, 0.0, None
    if state is not None:
        steps.load_state_dict(state)
        step, elapsed = int(state["step"]), float(state["elapsed_s"])
        warm = state.get("warm_start")
        log.info("resuming %s from step %d", spec.name, step)
    elif cfg["init_from"]:
        bundle = load_warm_start(cfg["init_from"])
        steps.warm_start(bundle)
        warm = warm_start_record(bundle)
    steps.prepare(step)

    gb = cfg["batch_size"]
    budget = Budget(cfg["steps"], cfg["max_minutes"], elapsed)
    progress = Progress(spec.name, cfg["steps"], gb, spec.unit, budget.max_seconds)
    metrics = MetricsLog(stage_dir / "metrics.jsonl", step, enabled=ctx.is_main)
    timer = CheckpointTimer(cfg["checkpoint_every"], cfg["checkpoint_minutes"])
    last_eval: dict[str, float] = dict((status or {}).get("metrics", {}))
    eval_step = -1

    def checkpoint() -> None:
        if ctx.is_main:
            state = {
                **steps.state_dict(),
                "step": step,
                "elapsed_s": budget.elapsed(),
                "rng": capture_rng(),
                "recipe": recipe_json(recipe),
                **identity,
                "data_position": step * gb,
                "warm_start": warm,
            }
            save_state(stage_dir / STATE_FILE, state)
        timer.mark()

    def run_eval() -> None:
        nonlocal last_eval, eval_step
        eval_step = step
        if ctx.is_main:
            last_eval = steps.evaluate(step)
            metrics.write({"step": step, "kind": "eval", **last_eval})

    progress.start(step)
    reason = None
    with stop_on_signals() as stop:
        while True:
            reason = budget.finished(step) or stop.reason
            if stop_at_step is not None and step >= stop_at_step:
                reason = reason or "stop_at_step"
            if D.any_rank(reason is not None, ctx):
                reason = reason or "another rank stopped"
                break
            scale = lr_factor(
                step, cfg["warmup_steps"], budget.progress(step), cfg["final_lr_fraction"]
            )
            shown = steps.train_step(step, cfg["lr"] * scale)
            step += 1

            if step % cfg["log_every"] == 0 or step == 1:
                report_train_step(
                    progress, metrics, log, ctx.is_main, step, budget.elapsed(), _shown(shown)
                )
            if cfg["eval_every"] and step % cfg["eval_every"] == 0:
                run_eval()
            if timer.due(step):
                checkpoint()

    complete = reason in COMPLETE_REASONS
    if eval_step != step and (complete or last_eval.get(spec.headline) is None):
        run_eval()
    checkpoint()
    status = {
        "stage": spec.name,
        "step": step,
        "steps": cfg["steps"],
        "complete": complete,
        "reason": reason,
        "elapsed_s": budget.elapsed(),
        "metrics": last_eval,
        f"{spec.unit}_per_s": progress.rate,
        **identity,
    }
    if ctx.is_main:
        if complete:
            info = {"step": step, "metrics": last_eval, "recipe": recipe["name"]}
            if warm:
                info["warm_start"] = warm
            steps.save_final(stage_dir / spec.final_file, info)
        write_json(stage_dir / STATUS_FILE, status)
    D.barrier(ctx)
    log.info("%s stage stopped at step %d (%s)", spec.name, step, reason)
    return status
