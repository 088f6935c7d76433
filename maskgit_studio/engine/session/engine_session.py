"""EngineSession: the one face of the engine for the GUI and the CLI. Numpy in, numpy out.

Every operation returns a ``Run``: iterate it for ``StepResult`` records (one per decoding
iteration, ``run.total_steps`` of them), read ``run.result`` (a composited ``RunResult``) at the
end, or ``run.close()`` to cancel between steps.

Documents of any size are edited through model windows on a token-cell grid anchored at pixel
(0, 0); a cell is ``f * scale`` document px (see ``engine.editing``). Invariants (tested): pixels
outside ``RunResult.changed`` are bit-identical to the input; tokens outside the editable cells
are never resampled; the same inputs and seed give the same output on CPU.

Region-sized windows and the seamless composite (issue 10): with ``scale=None`` an edit's
working scale follows the edit, not the document (the region plus ``options.context`` cells
around it fit one window at the smallest scale), so a small edit on a big photo is decoded near
native resolution. The generated window is colour-matched to the original on its kept cells,
given the fine detail of its surroundings, and blended in the gradient domain (``EditOptions``;
``EditOptions.legacy()`` is the official alpha feather over whole cells). With a pixel mask only
the masked pixels (feathered) take the result.

Edits start the schedule at iteration 2 of 12 (the official recipe; see ``jobs.plan_edit``).
A detail pass (``add_detail``) redraws an enlarged fill at a finer scale.

Variations: K samples run as one batch from one seeded generator, so a result is reproduced by
(seed, K) together. ``class_id=None`` means the model's null class; models without one refuse.
"""

from __future__ import annotations

import logging
import os
import weakref
from pathlib import Path

import numpy as np
import torch

from .. import editing, model_store
from ..config import SamplerConfig, config_to_dict
from ..device import available_devices, pick_device
from ..edit_options import EditOptions
from ..editing_composite import default_feather, seamless_feather
from ..results import ModelInfo, RunResult, StepResult
from . import downloads, targets
from .jobs import (
    EditTarget,
    branch_steps,
    check_mask,
    check_run,
    check_scale,
    plan_edit,
)
from .model import LoadedModel
from .run import BranchContext, Run, edit_steps, generate_steps, pass_total

log = logging.getLogger(__name__)


class EngineSession:
    """A model (loaded lazily) on a device, running generate / inpaint / outpaint / box edits.

    Args:
        model: a model name (``"default"``, an imported model's name), a file path, or None for
            the bundled default.
        device: "auto", "cpu", "cuda", "mps" (or "cuda:N").
        threads: if given, ``torch.set_num_threads(threads)`` when the model loads.
        precision: "fp32" (fp32 end to end, no TF32 on CUDA), "bf16" (the transformer under
            bf16 autocast; the tokenizer too on CUDA) or "auto": bf16 on CUDA; on CPU, for
            models with enough work per forward (``cpu_precision.MEASURE_MIN_WORK``),
            whichever a one-time measurement on this machine found faster (cached;
            ``info.precision_reason`` says which); else fp32.
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        device: str = "auto",
        threads: int | None = None,
        precision: str = "auto",
    ) -> None:
        if precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"unknown precision {precision!r}; choose auto, fp32 or bf16")
        if threads is not None and (isinstance(threads, bool) or int(threads) != threads or threads < 1):  # fmt: skip
            raise ValueError(f"threads must be a whole number >= 1, got {threads!r}")
        self._precision = precision
        self._model_ref = model
        self._device = pick_device(device)
        self._threads = threads
        self._loaded: LoadedModel | None = None
        self._contexts: dict[int, BranchContext] = {}

    # -- models and devices ------------------------------------------------------------------
    @staticmethod
    def available_models() -> list[model_store.ModelEntry]:
        """The bundled model first, then imported/trained ones."""
        return model_store.list_models()

    # Official models to download (GUI: "Get ImageNet 256 (866 MB)…"); see downloads.py.
    downloadable_models = staticmethod(downloads.downloadable_models)
    download_model = staticmethod(downloads.download_model)

    @staticmethod
    def available_devices() -> list[str]:
        """Devices this machine can run on, best first (always ends with "cpu")."""
        return available_devices()

    @property
    def info(self) -> ModelInfo:
        """The loaded model's description (loads it on first use)."""
        return self._model().info()

    def load(self, model: str | os.PathLike | None) -> ModelInfo:
        """Load a model now (name, path or None = bundled); replaces the current one.

        Raises:
            FileNotFoundError: unknown name or missing file.
            CheckpointError: a file that is not a valid model (a ValueError).
        """
        path = model_store.resolve_model(model)
        name = self._model_name(model, path)
        if self._threads:
            torch.set_num_threads(self._threads)
        loaded = LoadedModel.load(path, name, self._device, self._precision)
        self._loaded, self._model_ref = loaded, model
        self._contexts.clear()
        log.info("session model %s on %s", name, self._device)
        return loaded.info()

    def set_device(self, name: str) -> None:
        """Move to another device ("auto", "cpu", "cuda", "mps"); the model moves with it."""
        device = pick_device(name)
        if self._loaded is not None:
            self._loaded.to(device)
        self._device = device

    def close(self) -> None:
        """Drop the model (a later call loads it again)."""
        self._loaded = None
        self._contexts.clear()

    def _model(self) -> LoadedModel:
        if self._loaded is None:
            self.load(self._model_ref)
        assert self._loaded is not None
        return self._loaded

    @staticmethod
    def _model_name(model: str | os.PathLike | None, path: Path) -> str:
        if model is None or str(model) == "default":
            return "default"
        return str(model) if not Path(str(model)).exists() else path.stem

    # -- geometry ----------------------------------------------------------------------------
    def recommended_sampler(self) -> SamplerConfig:
        """The model's recommended sampling settings (steps, schedule, temperatures, guidance)."""
        return self._model().recommended_sampler()

    def cell_size(self, scale: int) -> int:
        """Document px per token cell at working scale ``scale`` (f * scale)."""
        check_scale(scale)
        return self._model().f * scale

    def feather_px(self, scale: int, options: EditOptions | None = None) -> int:
        """The feather radius (document px) an edit at ``scale`` blends over when the caller
        sets none: the official ``image_size / 16 - 1`` model px for the alpha blend, a quarter
        cell for the seamless one. The studio draws it around the selection."""
        check_scale(scale)
        model = self._model()
        if (options or EditOptions()).blend.mode == "alpha":
            return default_feather(model.image_size, scale)
        return seamless_feather(model.f * scale)

    def default_scale(self, width: int, height: int) -> int:
        """A sensible working scale: the document's short side spans about one model window."""
        return editing.default_scale((height, width), self._model().image_size)

    def inpaint_cells(
        self, shape_hw: tuple[int, int], pixel_mask: np.ndarray, scale: int
    ) -> np.ndarray:
        """(rows, cols) bool cells that regenerate for a (H, W) pixel mask (any touched cell)."""
        check_mask(pixel_mask, shape_hw)
        return editing.pixel_mask_to_cells(pixel_mask, self.cell_size(scale))

    def box_cells(
        self, shape_hw: tuple[int, int], box_xywh: tuple[int, int, int, int], scale: int
    ) -> np.ndarray:
        """(rows, cols) bool cells a box edit regenerates: the box snapped out + a one-cell ring."""
        return editing.box_to_cells(shape_hw, box_xywh, self.cell_size(scale))

    def outpaint_cells(
        self,
        shape_hw: tuple[int, int],
        left: int = 0,
        top: int = 0,
        right: int = 0,
        bottom: int = 0,
        scale: int = 1,
    ) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """Cells of the grown canvas that regenerate, and the growth (left, top, right, bottom)
        in px after snapping each side up to whole cells."""
        growth = editing.snap_growth(left, top, right, bottom, self.cell_size(scale))
        cells = editing.outpaint_cells(shape_hw, growth, self.cell_size(scale))
        return cells, (growth.left, growth.top, growth.right, growth.bottom)

    # -- operations --------------------------------------------------------------------------
    def generate(
        self,
        class_id: int | None,
        sampler: SamplerConfig = SamplerConfig(),
        variations: int = 1,
        previews: bool = True,
    ) -> Run:
        """K new images at model resolution for ``class_id`` (None = null class)."""
        model = self._model()
        token = model.class_token(class_id)
        check_run(model, sampler, variations)
        request = self._request("generate", class_id, sampler, variations)
        context = BranchContext(None, token, sampler)
        steps = generate_steps(model, token, sampler, variations, previews, request)
        return Run(self._remembering(steps, context), pass_total(sampler), model.device)

    def inpaint(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        class_id: int | None = None,
        sampler: SamplerConfig = SamplerConfig(),
        variations: int = 1,
        previews: bool = True,
        scale: int | None = None,
        feather: int | None = None,
        options: EditOptions = EditOptions(),
    ) -> Run:
        """Regenerate the token cells touched by ``mask`` ((H, W) bool, True = regenerate).

        With ``options.pixel_mask`` (the default) only the masked pixels (feathered) take the
        result; the rest of the touched cells keep their original pixels. ``scale=None`` picks
        the region-sized scale (``editing.auto_scale`` with ``options.context``).
        """
        target, scale = targets.inpaint_target(self._model(), image, mask, scale, options)
        return self._edit(target, class_id, sampler, variations, previews, scale, feather, options)

    def refine(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        strength: float = 0.5,
        order: str = "confidence",
        class_id: int | None = None,
        sampler: SamplerConfig = SamplerConfig(),
        variations: int = 1,
        previews: bool = True,
        scale: int | None = None,
        feather: int | None = None,
        options: EditOptions = EditOptions(),
    ) -> Run:
        """Image-to-image on the cells ``mask`` touches: re-mask ``strength`` of their tokens
        (``order`` "confidence": the ones the model finds least likely first; or "random") and
        decode again; the other tokens of the region stay as encoded. Strength 1 = inpaint."""
        target, scale = targets.refine_target(
            self._model(), image, mask, scale, options, strength, order
        )
        return self._edit(target, class_id, sampler, variations, previews, scale, feather, options)

    def add_detail(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        edit_scale: int | None = None,
        strength: float = targets.DETAIL_STRENGTH,
        class_id: int | None = None,
        sampler: SamplerConfig = SamplerConfig(),
        variations: int = 1,
        previews: bool = True,
        options: EditOptions = EditOptions(),
    ) -> Run:
        """The detail pass after an edit decoded at ``edit_scale`` (its fill enlarged that many
        times; None: unknown): a random-order refine of ``strength`` of the tokens ``mask``
        touches, at the finest scale (below ``edit_scale``) that covers them in
        ``editing.DETAIL_MAX_PASSES`` windows, so the model redraws the enlarged fill near
        native resolution with the sharp picture around it as context."""
        model = self._model()
        scale = targets.detail_scale(model, image, mask, edit_scale)
        target, scale = targets.refine_target(
            model, image, mask, scale, options, strength, "random", "add_detail"
        )
        return self._edit(target, class_id, sampler, variations, previews, scale, None, options)

    def remove_object(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        sampler: SamplerConfig = SamplerConfig(),
        variations: int = 1,
        previews: bool = True,
        scale: int | None = None,
        feather: int | None = None,
        options: EditOptions = EditOptions(),
    ) -> Run:
        """Fill ``mask`` with background: an unconditional (null class) fill with the settings
        of ``targets.REMOVE_SAMPLER`` (no guidance, calmer sampling), over the mask grown by
        ``targets.REMOVE_GROW`` of a cell to take the object's outline and shadow with it."""
        model = self._model()
        target, scale = targets.remove_target(model, image, mask, scale, options)
        sampler = sampler.replace(**targets.REMOVE_SAMPLER)
        return self._edit(target, None, sampler, variations, previews, scale, feather, options)

    def outpaint(
        self,
        image: np.ndarray,
        left: int = 0,
        top: int = 0,
        right: int = 0,
        bottom: int = 0,
        class_id: int | None = None,
        sampler: SamplerConfig = SamplerConfig(),
        variations: int = 1,
        previews: bool = True,
        scale: int | None = None,
        feather: int | None = None,
        options: EditOptions = EditOptions(),
    ) -> Run:
        """Grow the canvas (each side rounded up to whole cells) and fill the new cells.

        ``scale=None``: the smallest scale at which the deepest growth plus ``options.context``
        cells of the picture fit one window (``editing.outpaint_scale``); longer strips take
        overlapping passes, each seeing the ones before it."""
        growth = (left, top, right, bottom)
        target, scale = targets.outpaint_target(self._model(), image, growth, scale, options)
        return self._edit(target, class_id, sampler, variations, previews, scale, feather, options)

    def edit_box(
        self,
        image: np.ndarray,
        box: tuple[int, int, int, int],
        class_id: int | None,
        sampler: SamplerConfig = SamplerConfig(),
        variations: int = 1,
        previews: bool = True,
        scale: int | None = None,
        feather: int | None = None,
        options: EditOptions = EditOptions(),
    ) -> Run:
        """Official box + class edit: the box's cells plus a one-cell ring regenerate as class_id.
        With ``options.pixel_mask`` only the box (feathered) takes the result."""
        model = self._model()
        model.class_token(class_id)  # refuse early (no class on a model without a null class)
        target, scale = targets.box_target(model, image, box, scale, options)
        return self._edit(target, class_id, sampler, variations, previews, scale, feather, options)

    def branch(
        self,
        parent: RunResult,
        step: StepResult,
        variation: int = 0,
        class_id: int | None = None,
        sampler: SamplerConfig = SamplerConfig(),
        previews: bool = True,
    ) -> Run:
        """Re-decode from the committed tokens of ``step`` (of variation ``variation``) with a new
        seed / temperature / class: iterations ``step.index + 1 .. sampler.steps - 1`` of that
        pass, then any later window passes. One variation. ``class_id=None`` keeps the parent's
        class. Tokens committed before the branch point count as given (commit order -1).

        Raises:
            ValueError: ``parent`` is not a result of this session (or the model changed), or
                nothing is left to decode after ``step``.
        """
        model = self._model()
        context = self._contexts.get(id(parent))
        if context is None:
            raise ValueError("can only branch from a result of this session's current model")
        steps, new_context, total = branch_steps(
            model, context, parent, step, variation, class_id, sampler, previews
        )
        return Run(self._remembering(steps, new_context), total, model.device)

    # -- internals ---------------------------------------------------------------------------
    def _edit(
        self,
        target: EditTarget,
        class_id: int | None,
        sampler: SamplerConfig,
        variations: int,
        previews: bool,
        scale: int,
        feather: int | None,
        options: EditOptions,
    ) -> Run:
        model = self._model()
        request = self._request(target.operation, class_id, sampler, variations)
        job, sampler = plan_edit(model, target, scale, feather, sampler, request, options)
        token = model.class_token(class_id)
        check_run(model, sampler, variations)
        log.info("%s: %d pass(es) at scale %d", target.operation, len(job.passes), scale)
        context = BranchContext(job, token, sampler)
        docs = [target.canvas.copy() for _ in range(variations)]
        steps = edit_steps(model, job, token, sampler, docs, previews, context)
        total = pass_total(sampler) * len(job.passes)
        return Run(self._remembering(steps, context), total, model.device)

    def _remembering(self, steps, context: BranchContext):
        """Wrap a step generator so its result is registered for ``branch``."""
        result = yield from steps
        key = id(result)
        self._contexts[key] = context
        weakref.finalize(result, self._contexts.pop, key, None)
        return result

    def _request(
        self, operation: str, class_id: int | None, sampler: SamplerConfig, variations: int
    ) -> dict:
        return {
            "operation": operation,
            "class_id": class_id,
            "sampler": config_to_dict(sampler),
            "seed": sampler.seed,
            "variations": variations,
            "model": self._model().name,
        }


__all__ = ["EngineSession"]
