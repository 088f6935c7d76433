"""What each edit operation changes: its ``EditTarget`` and working scale (behind EngineSession).

A scale of None is picked for the edit: region-sized (``editing.auto_scale``) for inpaint,
refine, remove and box edits, growth-sized (``editing.outpaint_scale``) for outpainting.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import editing
from ..config import MAX_SCALE
from ..edit_options import REFINE_ORDERS, EditOptions
from ..editing_composite import feather_changed
from ..images import MAX_PIXELS
from .jobs import EditTarget, check_image, check_mask, check_scale
from .model import LoadedModel

# Remove object: the null class without guidance, sampled calmly so that the fill continues the
# background instead of inventing a new object (measured by benchmarks/bench_edits.py), over the
# mask grown by this fraction of a cell (the object's anti-aliased outline and its shadow).
REMOVE_SAMPLER = {"guidance_scale": 0.0, "sample_temperature": 0.7, "choice_temperature": 2.0}
REMOVE_GROW = 0.25
# The detail pass re-masks this fraction of the region's tokens (bench_edits: texture ratio).
DETAIL_STRENGTH = 0.5


def _scale(scale: int | None, pick) -> int:
    if scale is None:
        return pick()
    check_scale(scale)
    return int(scale)


def _image_and_mask(
    image: np.ndarray, mask: np.ndarray, hint: str
) -> tuple[np.ndarray, np.ndarray]:
    """The checked (H, W, 3) image and its (H, W) bool mask; an empty mask says ``hint``."""
    image = check_image(image)
    check_mask(mask, image.shape[:2])
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise ValueError(f"the mask selects nothing: {hint}")
    return image, mask


def _region_scale(
    model: LoadedModel, image: np.ndarray, mask: np.ndarray, scale: int | None, options: EditOptions
) -> int:
    """The user's scale, or the smallest that fits the masked region plus its context."""
    return _scale(
        scale,
        lambda: editing.auto_scale(image.shape[:2], mask, model.f, model.grid, 0, options.context),
    )


def inpaint_target(
    model: LoadedModel,
    image: np.ndarray,
    mask: np.ndarray,
    scale: int | None,
    options: EditOptions,
    operation: str = "inpaint",
) -> tuple[EditTarget, int]:
    """The cells a (H, W) pixel mask touches regenerate; the mask's pixels take the result."""
    image, mask = _image_and_mask(image, mask, "paint the area to regenerate")
    scale = _region_scale(model, image, mask, scale, options)
    cells = editing.pixel_mask_to_cells(mask, model.f * scale)
    extra = {"masked_pixels": int(mask.sum())}
    return EditTarget(operation, image, image.copy(), mask, cells, extra=extra), scale


def refine_target(
    model: LoadedModel,
    image: np.ndarray,
    mask: np.ndarray,
    scale: int | None,
    options: EditOptions,
    strength: float,
    order: str,
    operation: str = "refine",
) -> tuple[EditTarget, int]:
    """An inpaint target that re-masks only ``strength`` of its tokens, in ``order``."""
    if not 0.0 < float(strength) <= 1.0:
        raise ValueError(f"strength must be in (0, 1], got {strength}")
    if order not in REFINE_ORDERS:
        raise ValueError(f"unknown refine order {order!r}; choose {' or '.join(REFINE_ORDERS)}")
    target, scale = inpaint_target(model, image, mask, scale, options, operation)
    return replace(target, refine=(float(strength), order)), scale


def remove_target(
    model: LoadedModel,
    image: np.ndarray,
    mask: np.ndarray,
    scale: int | None,
    options: EditOptions,
) -> tuple[EditTarget, int]:
    """An inpaint of the mask grown by ``REMOVE_GROW`` cells (a model with a null class only)."""
    if model.config.null_class_id is None:
        raise ValueError("this model has no unconditional (null) class, so it cannot remove")
    image, mask = _image_and_mask(image, mask, "paint over the object to remove")
    scale = _region_scale(model, image, mask, scale, options)
    grown = feather_changed(mask, max(round(model.f * scale * REMOVE_GROW), 1))
    return inpaint_target(model, image, grown, scale, options, "remove_object")


def detail_scale(
    model: LoadedModel, image: np.ndarray, mask: np.ndarray, edit_scale: int | None
) -> int:
    """The detail pass's scale (``editing.detail_scale``) after an edit at ``edit_scale`` (None:
    any scale, e.g. a fill of unknown origin), or a ValueError that says why there is none."""
    image, mask = _image_and_mask(image, mask, "paint the area to give detail")
    if edit_scale is not None:
        check_scale(edit_scale)
    bound = MAX_SCALE + 1 if edit_scale is None else int(edit_scale)
    scale = editing.detail_scale(image.shape[:2], mask, model.f, model.grid, bound)
    if scale is None:
        if bound == 1:
            raise ValueError("the edit ran at scale 1 (full resolution): there is no finer detail")
        raise ValueError(
            f"the region is too large for a detail pass (over {editing.DETAIL_MAX_PASSES} "
            "windows at every finer scale): paint a smaller area"
        )
    return scale


def outpaint_target(
    model: LoadedModel,
    image: np.ndarray,
    growth_px: tuple[int, int, int, int],
    scale: int | None,
    options: EditOptions,
) -> tuple[EditTarget, int]:
    """The grown canvas (new pixels edge-filled) and its new cells (left, top, right, bottom)."""
    image = check_image(image)
    scale = _scale(
        scale,
        lambda: editing.outpaint_scale(
            image.shape[:2], growth_px, model.f, model.grid, options.context
        ),
    )
    cell = model.f * scale
    growth = editing.snap_growth(*growth_px, cell)
    if growth.is_empty:
        raise ValueError("outpaint needs a growth > 0 px on at least one side")
    height, width = image.shape[:2]
    new_h, new_w = growth.new_shape((height, width))
    if new_h * new_w > MAX_PIXELS:
        raise ValueError(
            f"the grown canvas {new_w}x{new_h} is over the {MAX_PIXELS / 1e6:.0f} MP limit"
        )
    pad = ((growth.top, growth.bottom), (growth.left, growth.right), (0, 0))
    # The new pixels are regenerated; edge fill keeps the model's crops tidy.
    canvas = np.pad(image, pad, mode="edge")
    hard = np.ones((new_h, new_w), dtype=bool)
    hard[growth.top : growth.top + height, growth.left : growth.left + width] = False
    cells = editing.outpaint_cells((height, width), growth, cell)
    extra = {"growth": [growth.left, growth.top, growth.right, growth.bottom]}
    offset = (growth.left, growth.top)
    return EditTarget("outpaint", image, canvas, hard, cells, offset, extra), scale


def box_target(
    model: LoadedModel,
    image: np.ndarray,
    box: tuple[int, int, int, int],
    scale: int | None,
    options: EditOptions,
) -> tuple[EditTarget, int]:
    """The box's cells plus a one-cell ring regenerate (official recipe); the box is the
    region that takes the result (or the cells, without ``options.pixel_mask``)."""
    image = check_image(image)
    box = tuple(int(v) for v in box)
    if len(box) != 4:
        raise ValueError(f"box must be (x, y, w, h), got {box}")
    scale = _scale(
        scale,
        lambda: editing.auto_scale(
            image.shape[:2], box, model.f, model.grid, editing.BOX_RING, options.context
        ),
    )
    cells = editing.box_to_cells(image.shape[:2], box, model.f * scale)
    x, y, w, h = box
    hard = np.zeros(image.shape[:2], dtype=bool)
    hard[max(y, 0) : max(y + h, 0), max(x, 0) : max(x + w, 0)] = True
    return EditTarget("edit_box", image, image.copy(), hard, cells, extra={"box": list(box)}), scale


__all__ = [
    "DETAIL_STRENGTH",
    "REMOVE_GROW",
    "REMOVE_SAMPLER",
    "box_target",
    "detail_scale",
    "inpaint_target",
    "outpaint_target",
    "refine_target",
    "remove_target",
]
