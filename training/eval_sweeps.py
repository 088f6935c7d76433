"""Generation-setting sweeps of ``maskgit-train evaluate``.

- the schedule ablation (MaskGIT Table 3's shape): FD and judge accuracy per (schedule, T);
- the sampler sweep: judge accuracy, 'no object' share and FD per (guidance scale, choice
  temperature), to choose the settings a model recommends to the studio.

Both decode one seed for every setting, so only the setting varies, and use seeds the main
report does not (seed + 2, seed + 3): settings chosen on the sweep are then reported on the
main samples, not on the images they were chosen with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from maskgit_studio.engine.checkpoint import ModelBundle
from maskgit_studio.engine.config import SamplerConfig
from training.eval_ablation import ABLATION_SCHEDULES, summarise_ablation
from training.eval_generate import generate_class_conditional
from training.eval_scores import feature_scores
from training.judge import Judge

log = logging.getLogger(__name__)

ABLATION_SEED_OFFSET = 2
SWEEP_SEED_OFFSET = 3


@dataclass(frozen=True)
class SweepInputs:
    """What every setting of a sweep is measured with.

    labels: (N,) judge class of each sample to draw (real held-out labels); to_model: (K_judge,)
    model class of each judge class; ref_feats: (R, D) judge features of the real reference.
    """

    bundle: ModelBundle
    judge: Judge
    labels: torch.Tensor
    to_model: torch.Tensor
    ref_feats: torch.Tensor
    seed: int
    batch_size: int

    def score(self, sampler: SamplerConfig, seed_offset: int) -> dict:
        """FD, KID, judge accuracy and 'no object' share of N samples drawn with sampler."""
        images = generate_class_conditional(
            self.bundle,
            self.to_model[self.labels],
            sampler.replace(start_iter=0),
            self.seed + seed_offset,
            self.batch_size,
        )
        part = feature_scores(self.judge, images, self.labels, self.ref_feats)
        keys = ("fd", "kid", "judge_accuracy", "no_object_share")
        return {k: part[k] for k in keys}


def run_ablation(inputs: SweepInputs, sampler: SamplerConfig, steps: tuple[int, ...]) -> dict:
    """FD and judge accuracy per (schedule, T in steps), the rest of sampler fixed."""
    rows = []
    for schedule in ABLATION_SCHEDULES:
        for t in steps:
            scores = inputs.score(sampler.replace(schedule=schedule, steps=t), ABLATION_SEED_OFFSET)
            rows.append({"schedule": schedule, "steps": t, **scores})
            log.info(
                "ablation %s T=%d: FD %.2f, judge %.1f%%",
                schedule,
                t,
                scores["fd"],
                100 * scores["judge_accuracy"],
            )
    summary = summarise_ablation(rows)
    return {"samples": len(inputs.labels), "steps": list(steps), "rows": rows, **summary}


# A setting may be chosen for accuracy only while its FD stays within this factor of the best
# FD: strong guidance can buy accuracy with samples that all look alike.
SWEEP_FD_SLACK = 1.5


def best_sweep_row(rows: list[dict]) -> dict | None:
    """The most accurate row among those with FD <= ``SWEEP_FD_SLACK`` x the lowest FD; among
    equally accurate rows, the lowest FD."""
    scored = [r for r in rows if r.get("judge_accuracy") is not None and r.get("fd") is not None]
    if not scored:
        return None
    limit = SWEEP_FD_SLACK * min(r["fd"] for r in scored)
    close = [r for r in scored if r["fd"] <= limit]
    return max(close, key=lambda r: (r["judge_accuracy"], -r["fd"]))


def run_sampler_sweep(
    inputs: SweepInputs,
    sampler: SamplerConfig,
    guidance_scales: tuple[float, ...],
    choice_temperatures: tuple[float, ...],
) -> dict:
    """Judge accuracy, 'no object' share, FD and KID per (guidance scale, choice temperature).

    An empty tuple sweeps only the base sampler's value. Guidance needs the model's null class;
    without one only guidance 0 is measured.

    Returns:
        {"samples", "rows", "best"}: best is ``best_sweep_row``'s pick, with ``export_flags``,
        the ``maskgit-train export`` overrides that store it.
    """
    has_null = inputs.bundle.transformer_config.has_null_class
    guidance_scales = guidance_scales or (sampler.guidance_scale,)
    choice_temperatures = choice_temperatures or (sampler.choice_temperature,)
    if not has_null:
        guidance_scales = tuple(g for g in guidance_scales if g == 0)
        if not guidance_scales:
            raise ValueError("this model has no null class, so only guidance 0 can be swept")
    rows = []
    for guidance in guidance_scales:
        for choice in choice_temperatures:
            setting = sampler.replace(guidance_scale=guidance, choice_temperature=choice)
            scores = inputs.score(setting, SWEEP_SEED_OFFSET)
            rows.append({"guidance_scale": guidance, "choice_temperature": choice, **scores})
            log.info(
                "sweep guidance %g, choice temperature %g: judge %.1f%%, FD %.2f",
                guidance,
                choice,
                100 * scores["judge_accuracy"],
                scores["fd"],
            )
    best = best_sweep_row(rows)
    if best is not None:
        best = dict(best)
        best["export_flags"] = (
            f"--set export.sampler.guidance_scale={best['guidance_scale']} "
            f"--set export.sampler.choice_temperature={best['choice_temperature']}"
        )
    return {"samples": len(inputs.labels), "rows": rows, "best": best}


__all__ = ["SweepInputs", "best_sweep_row", "run_ablation", "run_sampler_sweep"]
