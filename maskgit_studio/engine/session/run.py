"""The step generators behind EngineSession: decode passes, window edits, the Run handle.

Everything here yields numpy ``StepResult`` records and returns a numpy ``RunResult``; torch
tensors stay inside. A ``Run`` enters ``torch.inference_mode()`` around each step only, so no
grad-mode state leaks into the caller between steps.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..config import SamplerConfig
from ..device import is_out_of_memory, release_cached_memory
from ..editing import EditPass, cells_to_pixels
from ..editing_composite import (
    Blend,
    blend_window,
    crop_padded,
    downscale,
    feather_changed,
    feather_weights,
    upscale,
)
from ..results import RunResult, StepResult
from ..sampler import decode_steps
from .model import LoadedModel
from .refine import refine_start_ids

StepGen = Generator[StepResult, None, RunResult]


class Run:
    """One running operation. Iterate it for StepResults; ``result`` is set when it ends.

    Attributes:
        total_steps: exactly how many StepResults iterating will yield.
        result: the RunResult after the last step, else None.
        cancelled: True after ``close()`` before the end.

    Iterate and ``close()`` from one thread (a generator cannot be closed while it runs). An
    accelerator running out of memory surfaces as a ``MemoryError`` with advice.
    """

    def __init__(
        self, steps: StepGen, total_steps: int, device: torch.device | None = None
    ) -> None:
        self._steps = steps
        self.device = device
        self.total_steps = total_steps
        self.result: RunResult | None = None
        self.cancelled = False

    def __iter__(self) -> Run:
        return self

    def __next__(self) -> StepResult:
        if self.result is not None or self.cancelled:
            raise StopIteration
        with torch.inference_mode():
            try:
                return next(self._steps)
            except StopIteration as stop:
                self.result = stop.value
                raise StopIteration from None
            except RuntimeError as exc:
                if not is_out_of_memory(exc):
                    raise
                if self.device is not None:
                    release_cached_memory(self.device)
                raise MemoryError(
                    "the device ran out of memory: try fewer variations, a smaller scale, or "
                    "the CPU device"
                ) from exc

    def close(self) -> None:
        """Cancel between steps (a no-op once finished)."""
        if self.result is None:
            self.cancelled = True
        self._steps.close()

    def run_to_end(self) -> RunResult:
        """Consume every step and return the result."""
        for _ in self:
            pass
        assert self.result is not None
        return self.result

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class PassOutcome:
    """The end of one window decode: (K, g, g) tokens and their decode at model resolution."""

    ids: torch.Tensor
    images: np.ndarray
    commit_order: np.ndarray
    confidence: np.ndarray


@dataclass
class EditJob:
    """An edit's fixed inputs.

    Attributes:
        operation: "inpaint" | "outpaint" | "edit_box".
        canvas: (H, W, 3) uint8 document before the edit (the grown canvas for outpainting,
            new pixels edge-filled).
        hard: (H, W) bool pixels that must be fully regenerated (new canvas, painted pixels,
            the box); the feather never blends them with the old pixels.
        passes: window passes in order.
        scale: working scale s; cell = f * s document px.
        feather: feather radius in document px.
        offset: (dx, dy) of the input image inside the canvas.
        request: JSON-ready description for replay.
        blend: how each window is put back (seamless or the official alpha feather).
        pixel_mask: composite only the ``hard`` pixels (feathered), keeping the original
            pixels of regenerated cells outside them; False composites whole cells.
        refine: (strength, order): re-mask only that fraction of each pass's editable tokens
            (see ``refine.refine_start_ids``); None re-masks them all.
    """

    operation: str
    canvas: np.ndarray
    hard: np.ndarray
    passes: list[EditPass]
    scale: int
    cell: int
    feather: int
    offset: tuple[int, int]
    request: dict[str, Any]
    blend: Blend = Blend()
    pixel_mask: bool = True
    refine: tuple[float, str] | None = None


@dataclass
class BranchContext:
    """What ``branch`` needs to re-run the tail of a result.

    ``patches[p][k]`` is variation k's document inside pass p's window (clipped to the canvas)
    after pass p, for every pass but the last: replaying them onto the canvas rebuilds the
    document as it was before any later pass.
    """

    job: EditJob | None
    class_token: int
    sampler: SamplerConfig
    patches: list[list[np.ndarray]] = field(default_factory=list)


def pass_total(sampler: SamplerConfig) -> int:
    return sampler.steps - sampler.start_iter


def decode_pass(
    model: LoadedModel,
    start_ids: torch.Tensor,
    class_tokens: list[int],
    sampler: SamplerConfig,
    generator: torch.Generator,
    previews: bool,
    editable: np.ndarray,
    window: tuple[int, int, int, int],
    pass_index: int = 0,
    pass_count: int = 1,
) -> Generator[StepResult, None, PassOutcome]:
    """Decode one g x g window for K samples, yielding a StepResult per iteration.

    Args:
        start_ids: (K, g*g) int64 ids; mask_id where the model fills in.
        class_tokens: K class token ids.
        sampler: its ``start_iter`` is where the schedule starts.
        editable: (g, g) bool cells this pass may change (for display).
        window: (x0, y0, x1, y1) document rectangle of the window.
    """
    g = model.grid
    k = start_ids.shape[0]
    mask_id = model.config.mask_id
    logits_fn = model.logits_fn(class_tokens, sampler.guidance_scale)
    commit = np.full((k, g, g), -1, dtype=np.int16)
    confidence = np.ones((k, g, g), dtype=np.float32)
    final_ids, final_images = start_ids, None
    steps = decode_steps(logits_fn, start_ids.to(model.device), mask_id, sampler, generator, (g, g))
    for step in steps:
        grid = (k, g, g)
        revealed = step.revealed.reshape(grid).cpu().numpy()
        conf = step.confidence.reshape(grid).float().cpu().numpy()
        commit[revealed] = step.index
        confidence[revealed] = conf[revealed]
        sampled = step.sampled.reshape(grid)
        preview = model.decode(sampled) if previews else None
        final_ids, final_images = step.ids.reshape(grid), preview
        yield StepResult(
            index=step.index,
            total=step.total,
            pass_index=pass_index,
            pass_count=pass_count,
            ids=step.ids.reshape(grid).cpu().numpy().astype(np.int32),
            sampled=sampled.cpu().numpy().astype(np.int32),
            masked=step.masked.reshape(grid).cpu().numpy(),
            revealed=revealed,
            confidence=conf,
            editable=editable.copy(),
            window=window,
            preview=preview,
        )
    final_ids = final_ids.reshape(k, g, g)
    if final_images is None:  # no previews: decode once at the end
        final_images = model.decode(final_ids)
    return PassOutcome(final_ids, final_images, commit, confidence)


def generate_steps(
    model: LoadedModel,
    class_token: int,
    sampler: SamplerConfig,
    variations: int,
    previews: bool,
    request: dict[str, Any],
    start_ids: torch.Tensor | None = None,
) -> StepGen:
    """Class-conditional generation of K full model windows (or the tail of one, to branch)."""
    g, size = model.grid, model.image_size
    if start_ids is None:
        start_ids = torch.full((variations, g * g), model.config.mask_id, dtype=torch.long)
    generator = torch.Generator().manual_seed(sampler.seed)
    outcome = yield from decode_pass(
        model,
        start_ids,
        [class_token] * start_ids.shape[0],
        sampler,
        generator,
        previews,
        np.ones((g, g), dtype=bool),
        (0, 0, size, size),
    )
    return RunResult(
        images=list(outcome.images),
        offset=(0, 0),
        changed=np.ones((size, size), dtype=bool),
        tokens=outcome.ids.cpu().numpy().astype(np.int32),
        commit_order=outcome.commit_order,
        confidence=outcome.confidence,
        request=request,
    )


@dataclass(frozen=True)
class PassRegion:
    """Where one pass composites, in the canvas-clipped window rectangle ``rect``.

    Attributes:
        rect: (x0, y0, x1, y1) canvas pixels.
        region: (h, w) bool pixels that take the generated content fully.
        kept: (h, w) bool pixels of the window's kept cells that hold real pixels.
        ramp: (h, w) float32 cross-fade weights over the cells this pass generates again
            (``EditPass.overlap``), or None.
        real: (h, w) bool pixels of real picture the fill may borrow detail from: the kept
            cells, and with a pixel mask the unpainted pixels of the regenerated cells too (the
            picture nearest the fill); None = ``kept``.
    """

    rect: tuple[int, int, int, int]
    region: np.ndarray
    kept: np.ndarray
    ramp: np.ndarray | None = None
    real: np.ndarray | None = None


def pass_region(job: EditJob, edit: EditPass) -> PassRegion:
    """The composite geometry of a pass (the same for every run of the job)."""
    height, width = job.canvas.shape[:2]
    x0, y0, x1, y1 = edit.window.pixel_rect(job.cell)
    xe, ye = min(x1, width), min(y1, height)
    side = x1 - x0

    def pixels(cells: np.ndarray) -> np.ndarray:
        return cells_to_pixels(cells, job.cell, (side, side))[: ye - y0, : xe - x0]

    own = pixels(edit.own)
    hard = job.hard[y0:ye, x0:xe]
    region = (own & hard) if job.pixel_mask else own
    ramp = None
    if edit.overlap is not None:  # fade from this pass's cells into the earlier pass's
        weights, _ = feather_weights(region, job.cell)
        ramp = np.where(pixels(edit.overlap), weights, 0.0).astype(np.float32)
    # Kept cells of an outpaint canvas may still hold edge-filled pixels of later passes' cells;
    # they are regenerated (hard) and never a colour reference.
    kept = ~pixels(edit.editable) & ~hard
    real = ~hard if job.pixel_mask else None
    return PassRegion((x0, y0, xe, ye), region, kept, ramp, real)


def job_changed(job: EditJob) -> np.ndarray:
    """(H, W) bool: every pixel the edit may change (geometry only, the same for every run)."""
    changed = np.zeros(job.canvas.shape[:2], dtype=bool)
    for edit in job.passes:
        part = pass_region(job, edit)
        x0, y0, x1, y1 = part.rect
        changed[y0:y1, x0:x1] |= feather_changed(part.region, job.feather)
        if part.ramp is not None:
            changed[y0:y1, x0:x1] |= part.ramp > 0
    return changed


def edit_steps(
    model: LoadedModel,
    job: EditJob,
    class_token: int,
    sampler: SamplerConfig,
    docs: list[np.ndarray],
    previews: bool,
    context: BranchContext,
    first_pass: int = 0,
    resume: tuple[torch.Tensor, int] | None = None,
) -> StepGen:
    """Run the window passes of an edit on K documents (edited in place).

    Args:
        sampler: settings of every pass; its start_iter applies to fresh passes.
        docs: K (H, W, 3) uint8 canvases as they are before ``first_pass``.
        context: receives each pass's window patches (for branching later).
        first_pass / resume: start at this pass from (ids (K, g*g), start_iter) instead of
            encoding its window (a branch).
    """
    g, s, mask_id = model.grid, job.scale, model.config.mask_id
    k = len(docs)
    generator = torch.Generator().manual_seed(sampler.seed)
    count = len(job.passes)
    outcome: PassOutcome | None = None
    for p in range(first_pass, count):
        edit = job.passes[p]
        rect = edit.window.pixel_rect(job.cell)
        if p == first_pass and resume is not None:
            start_ids, start_iter = resume
        else:
            crops = np.stack([downscale(crop_padded(doc, rect), s) for doc in docs])  # (K, S, S, 3)
            start_ids = model.encode(crops).reshape(k, g * g)
            editable = torch.from_numpy(edit.editable.reshape(-1))
            if job.refine is None:
                start_ids[:, editable] = mask_id
            else:
                strength, order = job.refine
                start_ids = refine_start_ids(
                    model, start_ids, editable, [class_token] * k, strength, order, generator
                )
            start_iter = sampler.start_iter
        outcome = yield from decode_pass(
            model,
            start_ids,
            [class_token] * k,
            sampler.replace(start_iter=start_iter),
            generator,
            previews,
            edit.editable,
            rect,
            p,
            count,
        )
        part = pass_region(job, edit)
        x0, y0, x1, y1 = part.rect
        for i, doc in enumerate(docs):
            generated = upscale(outcome.images[i], s)[: y1 - y0, : x1 - x0]
            rng = np.random.default_rng([sampler.seed, p, i])  # the grain of detail matching
            doc[y0:y1, x0:x1] = blend_window(
                doc[y0:y1, x0:x1],
                generated,
                part.region,
                job.feather,
                part.kept,
                job.cell,
                job.blend,
                rng,
                part.ramp,
                s,
                part.real,
            )[0]
        if p < count - 1:
            context.patches.append([doc[y0:y1, x0:x1].copy() for doc in docs])
    assert outcome is not None
    return RunResult(
        images=docs,
        offset=job.offset,
        changed=job_changed(job),
        tokens=outcome.ids.cpu().numpy().astype(np.int32),
        commit_order=outcome.commit_order,
        confidence=outcome.confidence,
        request=job.request,
    )


def rebuild_before_pass(job: EditJob, context: BranchContext, p: int, variation: int) -> np.ndarray:
    """Variation ``variation``'s document as it was before pass ``p``."""
    doc = job.canvas.copy()
    for q in range(p):
        x0, y0, x1, y1 = pass_region(job, job.passes[q]).rect
        doc[y0:y1, x0:x1] = context.patches[q][variation]
    return doc
