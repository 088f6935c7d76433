"""A loaded model bundle seen as numpy-in / numpy-out operations (used by the session only)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import ModelBundle, load_bundle
from ..config import SamplerConfig, TransformerConfig, config_to_dict
from ..cpu_precision import PrecisionChoice
from ..device import precision_context, tokenizer_context, transformer_precision
from ..results import ModelInfo
from ..sampler import TokensToLogits, class_conditional_logits

log = logging.getLogger(__name__)


class LoadedModel:
    """Tokenizer + transformer on one device, with uint8 image <-> token helpers.

    Callers run these under ``torch.inference_mode()`` (the session's Run does).
    """

    def __init__(
        self, bundle: ModelBundle, name: str, device: torch.device, precision: str = "auto"
    ) -> None:
        self.bundle = bundle
        self.name = name
        self.device = device
        self.precision_preference = precision
        self.precision_choice = self._precision()

    def _precision(self) -> PrecisionChoice:
        transformer = self.bundle.transformer
        return transformer_precision(self.device, transformer, self.precision_preference)

    @property
    def precision(self) -> str:
        """The transformer's precision in use: "fp32" or "bf16"."""
        return self.precision_choice.precision

    @classmethod
    def load(
        cls, path: Path, name: str, device: torch.device, precision: str = "auto"
    ) -> LoadedModel:
        return cls(load_bundle(path, device=device), name, device, precision)

    def to(self, device: torch.device) -> None:
        self.bundle.tokenizer.to(device)
        self.bundle.transformer.to(device)
        self.device = device
        self.precision_choice = self._precision()

    # -- facts -------------------------------------------------------------------------------
    @property
    def config(self) -> TransformerConfig:
        return self.bundle.transformer_config

    @property
    def f(self) -> int:
        return self.bundle.tokenizer_config.downsample_factor

    @property
    def grid(self) -> int:
        return self.bundle.tokenizer_config.grid_size

    @property
    def image_size(self) -> int:
        return self.bundle.image_size

    @property
    def class_names(self) -> list[str]:
        return self.bundle.class_names

    def info(self) -> ModelInfo:
        b = self.bundle
        return ModelInfo(
            name=self.name,
            path=str(b.path) if b.path else "",
            class_names=tuple(b.class_names),
            image_size=b.image_size,
            grid_size=self.grid,
            downsample_factor=self.f,
            codebook_size=self.config.codebook_size,
            supports_guidance=self.config.has_null_class,
            device=str(self.device),
            parameters=b.parameter_count(),
            precision=self.precision,
            precision_reason=self.precision_choice.reason,
            tokenizer=config_to_dict(b.tokenizer_config),
            transformer=config_to_dict(b.transformer_config),
            provenance=dict(b.provenance),
        )

    def class_token(self, class_id: int | None) -> int:
        """Token id of a class label, or of the null class for ``None``.

        Raises:
            ValueError: label out of range, or ``None`` on a model without a null class.
        """
        if class_id is None:
            if self.config.null_class_id is None:
                raise ValueError(
                    "this model has no unconditional (null) class: choose a class "
                    f"(0..{self.config.num_classes - 1})"
                )
            return self.config.null_class_id
        return self.config.class_token_id(int(class_id))

    # -- tensors -----------------------------------------------------------------------------
    def encode(self, images: np.ndarray) -> torch.Tensor:
        """(K, S, S, 3) uint8 at model resolution -> (K, g, g) int64 token ids on the device."""
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        x = x.permute(0, 3, 1, 2).float() / 255.0  # (K, 3, S, S) in [0, 1]
        with tokenizer_context(self.device, self.precision):
            return self.bundle.tokenizer.encode_to_indices(x)

    def decode(self, ids: torch.Tensor) -> np.ndarray:
        """(K, g, g) token ids -> (K, S, S, 3) uint8 images."""
        with tokenizer_context(self.device, self.precision):
            x = self.bundle.tokenizer.decode_indices(ids.to(self.device).long())
        x = (x.float().clamp(0, 1) * 255.0).round().to(torch.uint8)  # (K, 3, S, S)
        return x.permute(0, 2, 3, 1).cpu().numpy()

    def recommended_sampler(self) -> SamplerConfig:
        """Sampling settings stored with the model (provenance "sampler"), else the defaults."""
        raw = self.bundle.provenance.get("sampler") or {}
        keys = (
            "steps",
            "schedule",
            "choice_temperature",
            "sample_temperature",
            "guidance_scale",
            "policy",
        )
        values = {k: raw[k] for k in keys if k in raw}
        if self.config.null_class_id is None:
            values["guidance_scale"] = 0.0  # no null class: guidance is impossible
        try:
            return SamplerConfig(**values)
        except (TypeError, ValueError):
            log.warning("ignoring invalid recommended sampler settings in the model: %r", raw)
            return SamplerConfig()

    def logits_fn(self, class_tokens: list[int], guidance_scale: float) -> TokensToLogits:
        """(K, N) ids -> (K, N, C) logits for the given per-sample class tokens."""
        tokens = torch.tensor(class_tokens, dtype=torch.long, device=self.device)
        inner = class_conditional_logits(
            self.bundle.transformer, tokens, guidance_scale, self.config.null_class_id
        )

        def tokens_to_logits(ids: torch.Tensor) -> torch.Tensor:
            with precision_context(self.device, self.precision):
                return inner(ids).float()

        return tokens_to_logits
