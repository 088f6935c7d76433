"""Frozen model and sampler configurations.

A checkpoint stores these configs as JSON; the loader rebuilds the models from them alone. Model
files may come from anywhere, so every field is checked on construction: its type (``True`` is
not a number, ``"2"`` is not an int), its range (positive sizes, positive epsilons, a dropout in
[0, 1)) and sane caps (``MODEL_LIMITS``, and at most ``MAX_PARAMETERS`` parameters), so an
absurd config is refused in microseconds instead of building a network for minutes. Sampler
settings are checked the same way (finite temperatures, at most ``MAX_STEPS`` steps: the token
log stores steps as int16).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

# Caps far above every real model (the official 512 px MaskGIT: 24 layers, 768 wide, 1024 codes)
# and far below what would take minutes or gigabytes to build.
MODEL_LIMITS = {
    "image_size": 4096,
    "in_channels": 16,
    "base_channels": 2048,
    "channel_mult": 64,  # each entry
    "levels": 8,  # entries of channel_mult / unshuffle_factors
    "unshuffle_factor": 16,
    "num_res_blocks": 16,
    "codebook_size": 1 << 20,
    "code_dim": 4096,
    "norm_groups": 2048,
    "num_classes": 1 << 20,
    "grid_size": 256,
    "hidden_size": 16384,
    "num_layers": 256,
    "num_heads": 256,
    "mlp_size": 65536,
}
MAX_PARAMETERS = 4_000_000_000  # per network: 16 GB of float32
MAX_STEPS = 1024  # decoding iterations (the token log's commit order is int16)
MAX_VARIATIONS = 16  # results of one run
MAX_SCALE = 64  # working scale: a cell of f * 64 px; beyond it the padded canvas is gigabytes
MAX_FEATHER = 4096  # px
MAX_TEMPERATURE = 1000.0
MAX_GUIDANCE = 1000.0


def _check_int(config: Any, name: str, lo: int, hi: int) -> int:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
    object.__setattr__(config, name, value)
    return value


def _check_float(config: Any, name: str, lo: float, hi: float, *, open_lo: bool = False) -> float:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < lo or (open_lo and value == lo) or value > hi:
        low = f"> {lo:g}" if open_lo else f">= {lo:g}"
        raise ValueError(f"{name} must be finite, {low} and <= {hi:g}, got {value}")
    object.__setattr__(config, name, value)
    return value


def _check_bool(config: Any, name: str) -> None:
    if not isinstance(getattr(config, name), bool):
        raise ValueError(f"{name} must be true or false, not {getattr(config, name)!r}")


def _check_size(config: Any, what: str) -> None:
    estimate = config.parameter_estimate()
    if estimate > MAX_PARAMETERS:
        raise ValueError(
            f"this {what} would have about {estimate / 1e9:.0f} billion parameters "
            f"(at most {MAX_PARAMETERS / 1e9:.0f} billion)"
        )


def _check_str(config: Any, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(config, name)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")


def _check_ints(config: Any, name: str, lo: int, hi: int, max_len: int) -> tuple[int, ...]:
    value = getattr(config, name)
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a list of whole numbers, not {value!r}")
    if not 1 <= len(value) <= max_len:
        raise ValueError(f"{name} must have 1..{max_len} entries, got {len(value)}")
    items = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or not lo <= item <= hi:
            raise ValueError(f"{name} entries must be whole numbers in {lo}..{hi}, got {item!r}")
        items.append(int(item))
    object.__setattr__(config, name, tuple(items))
    return tuple(items)


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
        if not isinstance(self.arch, str) or self.arch not in ("vqgan", "fast"):
            raise ValueError(f"unknown tokenizer arch {self.arch!r} (expected 'vqgan' or 'fast')")
        limits = MODEL_LIMITS
        _check_int(self, "image_size", 1, limits["image_size"])
        _check_int(self, "in_channels", 1, limits["in_channels"])
        base = _check_int(self, "base_channels", 1, limits["base_channels"])
        mults = _check_ints(self, "channel_mult", 1, limits["channel_mult"], limits["levels"])
        _check_ints(self, "unshuffle_factors", 1, limits["unshuffle_factor"], limits["levels"])
        _check_int(self, "num_res_blocks", 0, limits["num_res_blocks"])
        _check_int(self, "codebook_size", 1, limits["codebook_size"])
        _check_int(self, "code_dim", 1, limits["code_dim"])
        groups = _check_int(self, "norm_groups", 1, limits["norm_groups"])
        _check_float(self, "norm_eps", 0.0, 1.0, open_lo=True)
        _check_bool(self, "conv_bias")
        _check_bool(self, "shortcut_on_output")
        for width in sorted({base * m for m in mults}):
            if width % min(groups, width):
                raise ValueError(
                    f"a width of {width} channels cannot be split into {groups} norm groups"
                )
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
        if self.grid_size > MODEL_LIMITS["grid_size"]:
            raise ValueError(
                f"{self.grid_size} tokens per side is over {MODEL_LIMITS['grid_size']}"
            )
        _check_size(self, "tokenizer")

    def parameter_estimate(self) -> int:
        """An upper estimate of the parameter count (encoder + decoder + codebook), from the
        config alone: used to refuse absurd configs before any module is built."""
        widths = [self.base_channels * m for m in self.channel_mult]
        top = max(widths)
        convs = sum(9 * w * w for w in widths) * (2 * self.num_res_blocks + 2)
        if self.arch == "fast":  # pixel-unshuffle stages widen the first conv of each level
            convs += sum(9 * w * w * u * u for w, u in zip(widths, self.unshuffle_factors))
        mid = 9 * top * top * 2 * self.num_res_blocks
        edges = 9 * top * (self.code_dim + self.in_channels + 1)
        return 2 * (convs + mid + edges) + self.codebook_size * self.code_dim

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
        limits = MODEL_LIMITS
        _check_int(self, "codebook_size", 1, limits["codebook_size"])
        _check_int(self, "num_classes", 1, limits["num_classes"])
        _check_bool(self, "has_null_class")
        _check_int(self, "grid_size", 1, limits["grid_size"])
        _check_int(self, "hidden_size", 1, limits["hidden_size"])
        _check_int(self, "num_layers", 1, limits["num_layers"])
        _check_int(self, "num_heads", 1, limits["num_heads"])
        _check_int(self, "mlp_size", 1, limits["mlp_size"])
        _check_float(self, "dropout", 0.0, 0.99)
        _check_float(self, "layer_norm_eps", 0.0, 1.0, open_lo=True)
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not divisible by num_heads {self.num_heads}"
            )
        _check_size(self, "transformer")

    def parameter_estimate(self) -> int:
        """An upper estimate of the parameter count, from the config alone."""
        h = self.hidden_size
        layer = 4 * h * h + 2 * h * self.mlp_size + 10 * h + self.mlp_size
        return (
            (self.vocab_size + self.seq_len) * h
            + self.num_layers * layer
            + h * h
            + 2 * self.vocab_size
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
        steps = _check_int(self, "steps", 1, MAX_STEPS)
        _check_str(self, "schedule", SCHEDULES)
        _check_str(self, "policy", REVEAL_POLICIES)
        _check_int(self, "start_iter", 0, steps - 1)
        _check_float(self, "choice_temperature", 0.0, MAX_TEMPERATURE)
        _check_float(self, "sample_temperature", 0.0, MAX_TEMPERATURE, open_lo=True)
        _check_float(self, "guidance_scale", 0.0, MAX_GUIDANCE)
        _check_int(self, "seed", 0, 2**63 - 1)

    def replace(self, **changes: Any) -> SamplerConfig:
        return dataclasses.replace(self, **changes)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a config dataclass, refusing unknown keys and bad values with a clear message.

    Raises:
        ValueError: not an object, unknown fields, or a field of the wrong type or range.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} must be an object of fields, not {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, data)) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**kwargs)


__all__ = [
    "MAX_FEATHER",
    "MAX_PARAMETERS",
    "MAX_SCALE",
    "MAX_STEPS",
    "MAX_VARIATIONS",
    "MODEL_LIMITS",
    "REVEAL_POLICIES",
    "SCHEDULES",
    "SamplerConfig",
    "TokenizerConfig",
    "TransformerConfig",
    "config_from_dict",
    "config_to_dict",
]
