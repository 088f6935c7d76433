"""Frozen model and sampler configurations.

A checkpoint stores these configs as JSON; the loader rebuilds the models from them alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TokenizerConfig:
    """VQ tokenizer shape.

    Two encoder/decoder families share one quantizer:
    - ``arch="vqgan"``: the official MaskGIT VQGAN (conv pyramid, avg-pool down, nearest up).
    - ``arch="fast"``: a CPU-friendly variant that trades full-resolution convolutions for
      pixel-unshuffle (space-to-depth) stages; used by our own default model.
    """

    arch: str = "vqgan"
    image_size: int = 256
    in_channels: int = 3
    base_channels: int = 128
    channel_mult: tuple[int, ...] = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    codebook_size: int = 1024
    code_dim: int = 256
    norm_groups: int = 32
    norm_eps: float = 1e-6
    conv_bias: bool = False
    # Official quirk: a width-changing res block applies its 1x1 shortcut to the block OUTPUT.
    shortcut_on_output: bool = True
    # "fast" arch only: the pixel-unshuffle factor of each stage; product = downsample factor.
    unshuffle_factors: tuple[int, ...] = (4, 2)

    def __post_init__(self) -> None:
        if self.arch not in ("vqgan", "fast"):
            raise ValueError(f"unknown tokenizer arch {self.arch!r} (expected 'vqgan' or 'fast')")
        object.__setattr__(self, "channel_mult", tuple(self.channel_mult))
        object.__setattr__(self, "unshuffle_factors", tuple(self.unshuffle_factors))
        if self.arch == "fast" and len(self.channel_mult) != len(self.unshuffle_factors):
            raise ValueError(
                "the 'fast' tokenizer needs one channel multiplier per unshuffle stage "
                f"(got {len(self.channel_mult)} and {len(self.unshuffle_factors)})"
            )
        if self.image_size % self.downsample_factor:
            raise ValueError(
                f"image_size {self.image_size} is not a multiple of the downsample factor "
                f"{self.downsample_factor}"
            )

    @property
    def downsample_factor(self) -> int:
        """Pixels per token side (f)."""
        if self.arch == "vqgan":
            return 2 ** (len(self.channel_mult) - 1)
        factor = 1
        for u in self.unshuffle_factors:
            factor *= u
        return factor

    @property
    def grid_size(self) -> int:
        """Tokens per side at the native image size."""
        return self.image_size // self.downsample_factor


@dataclass(frozen=True)
class TransformerConfig:
    """Bidirectional BERT-style transformer over [class token, image tokens].

    Vocabulary layout: ``[0, codebook_size)`` image codes, then ``num_classes`` class ids,
    then an optional null class (for classifier-free guidance), then the mask token (last row).
    """

    codebook_size: int = 1024
    num_classes: int = 1000
    has_null_class: bool = False
    grid_size: int = 16
    hidden_size: int = 768
    num_layers: int = 24
    num_heads: int = 16
    mlp_size: int = 3072
    dropout: float = 0.1
    layer_norm_eps: float = 1e-12

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not divisible by num_heads {self.num_heads}"
            )

    @property
    def vocab_size(self) -> int:
        return self.codebook_size + self.num_classes + int(self.has_null_class) + 1

    @property
    def mask_id(self) -> int:
        """The mask token is the last vocabulary row (official: 2024 of 2025)."""
        return self.vocab_size - 1

    @property
    def null_class_id(self) -> int | None:
        """Token id of the unconditional class, or None for models without one."""
        return self.codebook_size + self.num_classes if self.has_null_class else None

    @property
    def num_image_tokens(self) -> int:
        return self.grid_size * self.grid_size

    @property
    def seq_len(self) -> int:
        return 1 + self.num_image_tokens

    def class_token_id(self, label: int) -> int:
        """Token id for class ``label`` (official: label + 1024)."""
        if not 0 <= label < self.num_classes:
            raise ValueError(f"class {label} is out of range 0..{self.num_classes - 1}")
        return self.codebook_size + label


SCHEDULES = ("cosine", "linear", "square", "cubic", "sqrt", "log", "exp", "arccos")
REVEAL_POLICIES = ("confidence", "halton")


@dataclass(frozen=True)
class SamplerConfig:
    """Iterative decoding parameters (defaults: the official class-conditional settings)."""

    steps: int = 12
    schedule: str = "cosine"
    choice_temperature: float = 4.5
    sample_temperature: float = 1.0
    guidance_scale: float = 0.0
    policy: str = "confidence"
    seed: int = 0
    start_iter: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"unknown schedule {self.schedule!r}; choose from {', '.join(SCHEDULES)}"
            )
        if self.policy not in REVEAL_POLICIES:
            raise ValueError(
                f"unknown reveal policy {self.policy!r}; choose from {', '.join(REVEAL_POLICIES)}"
            )
        if not 0 <= self.start_iter < self.steps:
            raise ValueError(f"start_iter must be in [0, {self.steps - 1}], got {self.start_iter}")
        if self.sample_temperature <= 0:
            raise ValueError("sample_temperature must be > 0")
        if self.choice_temperature < 0 or self.guidance_scale < 0:
            raise ValueError("choice_temperature and guidance_scale must be >= 0")

    def replace(self, **changes: Any) -> SamplerConfig:
        return dataclasses.replace(self, **changes)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a config dataclass, refusing unknown keys with a clear message."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**kwargs)


__all__ = [
    "REVEAL_POLICIES",
    "SCHEDULES",
    "SamplerConfig",
    "TokenizerConfig",
    "TransformerConfig",
    "config_from_dict",
    "config_to_dict",
]
