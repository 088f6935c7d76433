"""Batched, seeded generation for evaluation: class-conditional samples and centre-box inpainting.

Both use the engine's own sampler (``decode_steps`` + ``class_conditional_logits``), the
tokenizer's ``decode_indices`` and the transformer precision the studio's "auto" picks on this
device, so what is measured is what the studio produces.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from maskgit_studio.engine.checkpoint import ModelBundle
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.device import precision_context, transformer_precision
from maskgit_studio.engine.editing import cells_to_pixels, pixel_mask_to_cells
from maskgit_studio.engine.editing_composite import default_feather, feather_weights
from maskgit_studio.engine.sampler import class_conditional_logits, decode_steps

log = logging.getLogger(__name__)


def _device(bundle: ModelBundle) -> torch.device:
    return next(bundle.transformer.parameters()).device


def _check_labels(bundle: ModelBundle, labels: torch.Tensor) -> None:
    num_classes = bundle.transformer_config.num_classes
    if labels.ndim != 1 or labels.numel() == 0:
        raise ValueError(f"labels must be a non-empty (B,) tensor, got {tuple(labels.shape)}")
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}) for this model")


def _decode_tokens(
    bundle: ModelBundle,
    ids: torch.Tensor,
    labels: torch.Tensor,
    sampler: SamplerConfig,
    generator: torch.Generator,
) -> torch.Tensor:
    """Fill the masked (mask_id) positions of ids (B, N); returns the final ids (B, N)."""
    cfg = bundle.transformer_config
    device = _device(bundle)
    class_tokens = (labels + cfg.codebook_size).to(device)
    logits_fn = class_conditional_logits(
        bundle.transformer, class_tokens, sampler.guidance_scale, cfg.null_class_id
    )
    final = ids
    grid = (cfg.grid_size, cfg.grid_size)
    # The precision the studio would use for this model here (bf16 where it measures faster).
    precision = transformer_precision(device, bundle.transformer).precision
    with precision_context(device, precision):
        for step in decode_steps(logits_fn, ids.to(device), cfg.mask_id, sampler, generator, grid):
            final = step.ids
    return final


@torch.inference_mode()
def generate_class_conditional(
    bundle: ModelBundle,
    labels: torch.Tensor,
    sampler: SamplerConfig,
    seed: int = 0,
    batch_size: int = 50,
) -> torch.Tensor:
    """Generate one image per label from an all-masked canvas.

    Args:
        bundle: the model.
        labels: (B,) int64 model class indices.
        sampler: steps T, schedule, temperatures, guidance (start_iter must be 0).
        seed: the decode RNG seed; same seed + labels + sampler = same images.
        batch_size: sequences per forward pass.

    Returns:
        (B, 3, S, S) float32 images in [0, 1] on the CPU.
    """
    _check_labels(bundle, labels)
    cfg = bundle.transformer_config
    generator = torch.Generator().manual_seed(seed)
    out = []
    for chunk in labels.split(batch_size):
        ids = torch.full((len(chunk), cfg.num_image_tokens), cfg.mask_id, dtype=torch.long)
        final = _decode_tokens(bundle, ids, chunk, sampler, generator)
        grid = final.view(len(chunk), cfg.grid_size, cfg.grid_size)
        out.append(bundle.tokenizer.decode_indices(grid).float().cpu())
    return torch.cat(out)


def centre_box_cells(grid_size: int, downsample_factor: int) -> np.ndarray:
    """(g, g) bool: the token cells covering the centred box of half the width and height."""
    size = grid_size * downsample_factor
    lo, hi = size // 4, size - size // 4
    pixels = np.zeros((size, size), dtype=bool)
    pixels[lo:hi, lo:hi] = True
    return pixel_mask_to_cells(pixels, downsample_factor)


def centre_box_weights(bundle: ModelBundle) -> tuple[np.ndarray, np.ndarray]:
    """Token cells (g, g) of the centre box and the feathered pixel blend weights (S, S)."""
    cfg = bundle.tokenizer_config
    cells = centre_box_cells(cfg.grid_size, cfg.downsample_factor)
    region = cells_to_pixels(cells, cfg.downsample_factor, (cfg.image_size, cfg.image_size))
    weights, _ = feather_weights(region, default_feather(cfg.image_size, 1))
    return cells, weights


@torch.inference_mode()
def inpaint_centre_box(
    bundle: ModelBundle,
    images: torch.Tensor,
    labels: torch.Tensor,
    sampler: SamplerConfig,
    seed: int = 0,
    batch_size: int = 50,
) -> torch.Tensor:
    """Regenerate the centred 50% box of real images, conditioned on their class.

    Like the studio's inpainting: encode, mask the box's tokens, decode from
    ``sampler.start_iter`` (MaskGIT edits: 2 of 12), decode to pixels, and composite with the
    feathered box mask so the pixels outside it stay the input's.

    Args:
        bundle: the model.
        images: (B, 3, S, S) float in [0, 1] (or uint8) real images at the model's size.
        labels: (B,) int64 model class indices (the masked object's class).
        sampler: decoding settings, start_iter included.
        seed: decode RNG seed.
        batch_size: sequences per forward pass.

    Returns:
        (B, 3, S, S) float32 composited images in [0, 1] on the CPU.
    """
    _check_labels(bundle, labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    images = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    cfg = bundle.transformer_config
    cells, weights = centre_box_weights(bundle)
    box = torch.from_numpy(cells.reshape(-1))
    w = torch.from_numpy(weights)[None, None]  # (1, 1, S, S)
    device = _device(bundle)
    generator = torch.Generator().manual_seed(seed)
    out = []
    for chunk, chunk_labels in zip(images.split(batch_size), labels.split(batch_size), strict=True):
        tokens = bundle.tokenizer.encode_to_indices(chunk.to(device)).flatten(1).cpu()
        ids = torch.where(box[None], cfg.mask_id, tokens)
        final = _decode_tokens(bundle, ids, chunk_labels, sampler, generator)
        grid = final.view(len(chunk), cfg.grid_size, cfg.grid_size)
        generated = bundle.tokenizer.decode_indices(grid).float().cpu()
        out.append(generated * w + chunk * (1 - w))
    return torch.cat(out)


def blank_centre_box(bundle: ModelBundle, images: torch.Tensor) -> torch.Tensor:
    """The inpainting input with the centre box filled by each image's mean colour.

    Judging these gives the accuracy the unmasked context alone earns (procedural scenes give
    their class away in the background: water for boats, snow for snowmen), the floor against
    which inpainting's accuracy should be read.

    Args:
        images: (B, 3, S, S) float in [0, 1] or uint8.

    Returns:
        (B, 3, S, S) float32 in [0, 1], blended with the same feathered weights as inpainting.
    """
    images = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    _, weights = centre_box_weights(bundle)
    w = torch.from_numpy(weights)[None, None]
    return images.mean(dim=(2, 3), keepdim=True) * w + images * (1 - w)


@torch.inference_mode()
def reconstruct(bundle: ModelBundle, images: torch.Tensor, batch_size: int = 64):
    """Tokenizer round trip of (B, 3, S, S) images: returns (recon (B,3,S,S) float, ids (B,h,w))."""
    images = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    device = _device(bundle)
    recon, ids = [], []
    for chunk in images.split(batch_size):
        idx = bundle.tokenizer.encode_to_indices(chunk.to(device))
        recon.append(bundle.tokenizer.decode_indices(idx).float().cpu())
        ids.append(idx.cpu())
    return torch.cat(recon), torch.cat(ids)


__all__ = [
    "blank_centre_box",
    "centre_box_cells",
    "centre_box_weights",
    "generate_class_conditional",
    "inpaint_centre_box",
    "reconstruct",
]
