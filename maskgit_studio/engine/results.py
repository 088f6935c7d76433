"""Numpy-only records that cross the engine seam (GUI and CLI never see torch tensors).

Grid arrays are (K, h, w): K variations of an h x w token window. Pixel arrays are uint8 RGB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ModelInfo:
    """What a user (and the GUI) needs to know about the loaded model."""

    name: str
    path: str
    class_names: tuple[str, ...]
    image_size: int
    grid_size: int
    downsample_factor: int
    codebook_size: int
    supports_guidance: bool
    device: str
    parameters: int
    precision: str = "fp32"  # the transformer's: "fp32" or "bf16"
    precision_reason: str = ""  # why, e.g. "measured: fp32 16.1 ms vs bf16 29.4 ms per layer"
    tokenizer: dict[str, Any] = field(default_factory=dict)
    transformer: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepResult:
    """One decoding iteration of a run, for live display and the step viewer.

    Attributes:
        index: iteration index t in [start_iter, total).
        total: T, the number of iterations of the schedule.
        pass_index / pass_count: which window pass (outpainting may need several).
        ids: (K, h, w) int32 committed tokens after this step; mask_id where still masked.
        sampled: (K, h, w) int32 the full sampled canvas of this step (known tokens kept).
        masked: (K, h, w) bool still masked after this step.
        revealed: (K, h, w) bool tokens committed at this step.
        confidence: (K, h, w) float32 probability of each sampled token (1.0 for known ones).
        editable: (h, w) bool cells this pass may change.
        window: (x0, y0, x1, y1) document-pixel rectangle the model window covers
            (coordinates of the output document, which may be larger for outpainting).
        preview: (K, H, W, 3) uint8 decode of ``sampled`` at model resolution, or None.
    """

    index: int
    total: int
    pass_index: int
    pass_count: int
    ids: np.ndarray
    sampled: np.ndarray
    masked: np.ndarray
    revealed: np.ndarray
    confidence: np.ndarray
    editable: np.ndarray
    window: tuple[int, int, int, int]
    preview: np.ndarray | None = None


@dataclass(frozen=True)
class RunResult:
    """The outcome of a whole run: K candidate documents, already composited.

    Attributes:
        images: K arrays (H, W, 3) uint8; for outpainting the grown canvas.
        offset: (dx, dy) position of the input image's top-left inside each output image.
        changed: (H, W) bool pixels that may differ from the input (the feathered region).
        tokens: (K, h, w) int32 final tokens of the last window pass.
        commit_order: (K, h, w) int16 iteration at which each token was fixed; -1 = given.
        confidence: (K, h, w) float32 confidence when each token was committed.
        request: JSON-ready description (operation, parameters, seed, model) to replay it.
    """

    images: list[np.ndarray]
    offset: tuple[int, int]
    changed: np.ndarray
    tokens: np.ndarray
    commit_order: np.ndarray
    confidence: np.ndarray
    request: dict[str, Any]
