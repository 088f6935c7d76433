"""Input checks and job planning behind EngineSession (edits and branches)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import editing
from ..config import MAX_FEATHER, MAX_SCALE, MAX_VARIATIONS, SamplerConfig, config_to_dict
from ..edit_options import EditOptions
from ..editing_composite import default_feather, seamless_feather
from ..images import MAX_PIXELS
from ..results import RunResult, StepResult
from .model import LoadedModel
from .run import (
    BranchContext,
    EditJob,
    StepGen,
    edit_steps,
    generate_steps,
    pass_total,
    rebuild_before_pass,
)


@dataclass(frozen=True)
class EditTarget:
    """What an edit changes, before it is planned into window passes.

    Attributes:
        operation: "inpaint" | "outpaint" | "edit_box".
        image: (H, W, 3) uint8 the input.
        canvas: (H', W', 3) uint8 the document to edit (the grown canvas for outpainting).
        hard: (H', W') bool pixels to regenerate fully.
        cells: (rows, cols) bool cells of the canvas grid to regenerate.
        offset: (dx, dy) of the input inside the canvas.
        extra: operation-specific fields of the request (the mask size, growth or box).
        refine: (strength, order) for a refine: re-mask only that fraction of the cells.
    """

    operation: str
    image: np.ndarray
    canvas: np.ndarray
    hard: np.ndarray
    cells: np.ndarray
    offset: tuple[int, int] = (0, 0)
    extra: dict[str, Any] = field(default_factory=dict)
    refine: tuple[float, str] | None = None


def check_scale(scale: int) -> None:
    if isinstance(scale, bool) or int(scale) != scale or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be a whole number in 1..{MAX_SCALE}, got {scale}")


def check_run(model: LoadedModel, sampler: SamplerConfig, variations: int) -> None:
    if not 1 <= variations <= MAX_VARIATIONS:
        raise ValueError(f"variations must be in 1..{MAX_VARIATIONS}, got {variations}")
    if sampler.guidance_scale > 0 and not model.config.has_null_class:
        raise ValueError("this model has no null class, so guidance is not available (set it to 0)")


def check_image(image: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 array within the pixel limit, or a ValueError."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3) uint8 array, got {image.shape} {image.dtype}")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ValueError(f"image is over the {MAX_PIXELS / 1e6:.0f} MP limit")
    return image


def check_mask(mask: np.ndarray, shape_hw: tuple[int, int]) -> None:
    mask = np.asarray(mask)
    if mask.shape != tuple(shape_hw[:2]):
        raise ValueError(f"mask shape {mask.shape} does not match the image {tuple(shape_hw[:2])}")


def plan_edit(
    model: LoadedModel,
    target: EditTarget,
    scale: int,
    feather: int | None,
    sampler: SamplerConfig,
    request: dict[str, Any],
    options: EditOptions = EditOptions(),
) -> tuple[EditJob, SamplerConfig]:
    """The job of an edit and the sampler it runs with (the editing start_iter applied).

    Editing recipe: inpaint, outpaint and box edits start the schedule at iteration
    ``round(2 * steps / 12)`` (the official box-edit recipe, 2 of 12) unless the caller's sampler
    sets a non-zero ``start_iter``. The schedule already scales with the number of masked tokens
    (N0 is counted per run), so scaling by the masked fraction is not needed.
    """
    check_scale(scale)
    if feather is None:
        if options.blend.mode == "alpha":
            feather = default_feather(model.image_size, scale)
        else:
            feather = seamless_feather(model.f * scale)
    if not 0 <= feather <= MAX_FEATHER:
        raise ValueError(f"feather must be in 0..{MAX_FEATHER} px, got {feather}")
    sampler = sampler.replace(
        start_iter=editing.editing_start_iter(sampler.steps, sampler.start_iter)
    )
    passes = editing.plan_passes(target.cells, model.grid, options.pass_overlap)
    if not passes:
        raise ValueError("nothing to regenerate")
    request = (
        request
        | target.extra
        | {
            "sampler": config_to_dict(sampler),
            "image_size": [int(target.image.shape[1]), int(target.image.shape[0])],
            "scale": scale,
            "feather": int(feather),
            "passes": len(passes),
            "options": options.to_dict(),
        }
    )
    if target.refine is not None:
        request["refine"] = {"strength": target.refine[0], "order": target.refine[1]}
    cell = model.f * scale
    job = EditJob(
        target.operation, target.canvas, target.hard, passes, scale, cell, int(feather),
        target.offset, request, options.blend, options.pixel_mask, target.refine,
    )  # fmt: skip
    return job, sampler


def branch_steps(
    model: LoadedModel,
    context: BranchContext,
    parent: RunResult,
    step: StepResult,
    variation: int,
    class_id: int | None,
    sampler: SamplerConfig,
    previews: bool,
) -> tuple[StepGen, BranchContext, int]:
    """Steps of a branch from ``step``, the context to remember its result by, and its length."""
    k = step.ids.shape[0]
    if not 0 <= variation < k:
        raise ValueError(f"variation {variation} is out of range 0..{k - 1}")
    start = step.index + 1
    if start >= sampler.steps or not step.masked[variation].any():
        raise ValueError(
            f"step {step.index + 1} of {step.total} is the last; nothing is left to decode"
        )
    token = context.class_token if class_id is None else model.class_token(class_id)
    sampler = sampler.replace(start_iter=0) if sampler.start_iter else sampler
    resume_ids = torch.from_numpy(step.ids[variation].astype(np.int64)).reshape(1, -1)
    request = {
        "operation": "branch",
        "parent": parent.request,
        "pass": step.pass_index,
        "step": step.index,
        "variation": variation,
        "class_id": class_id,
        "sampler": config_to_dict(sampler),
        "model": model.name,
    }
    job = context.job
    if job is None:  # a generation: finish the one window
        tail = sampler.replace(start_iter=start)
        steps = generate_steps(model, token, tail, 1, previews, request, start_ids=resume_ids)
        return steps, BranchContext(None, token, sampler), pass_total(tail)
    p = step.pass_index
    edit_sampler = sampler.replace(start_iter=editing.editing_start_iter(sampler.steps, 0))
    doc = rebuild_before_pass(job, context, p, variation)
    new_context = BranchContext(
        job, token, edit_sampler, [[patch[variation]] for patch in context.patches[:p]]
    )
    branch_job = EditJob(**{**job.__dict__, "request": request})
    steps = edit_steps(
        model, branch_job, token, edit_sampler, [doc], previews, new_context, p, (resume_ids, start)
    )
    total = (sampler.steps - start) + pass_total(edit_sampler) * (len(job.passes) - p - 1)
    return steps, new_context, total
