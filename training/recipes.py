"""Training recipes: TOML files in training/configs/, with command-line overrides.

A recipe is a nested dict with the sections of ``DEFAULTS`` below. Every key has a default here,
so a recipe file only needs what it changes; ``base = "NAME"`` in a file inherits another recipe
first. Overrides use dotted keys with TOML values: ``transformer.steps=2000``,
``tokenizer.model.channel_mult=[1,4]``, ``data.source="procedural:7"`` (bare words are strings).
Unknown keys are refused with a message naming the known ones, so typos never pass silently.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from maskgit_studio.engine.config import TokenizerConfig, TransformerConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_DIR = Path(__file__).resolve().parent / "configs"

# The schema: every recipe key and its fallback value. default.toml repeats these explicitly.
DEFAULTS: dict[str, Any] = {
    "name": "unnamed",
    "description": "",
    "base": "",
    "seed": 0,
    "device": "auto",
    "data": {
        "source": "procedural",  # "procedural", "procedural:SEED" or an image-folder path
        "image_size": 128,
        "length": 20_000,  # procedural images the tokenizer cycles through
        "cache": True,  # keep rendered procedural images on disk (OUT/cache, 48 KB each)
        "held_out": 64,  # held-out images for the tokenizer's PSNR / codebook usage
        "workers": 1,  # DataLoader worker processes for the tokenizer stage
    },
    "tokenizer": {
        "steps": 5000,
        "max_minutes": 0.0,  # wall-clock budget across resumes; 0 = none
        "init_from": "",  # a model bundle whose tokenizer starts this stage (warm start)
        "batch_size": 16,  # global batch (split across DDP ranks)
        "lr": 2e-3,
        "warmup_steps": 100,
        "final_lr_fraction": 0.05,
        "weight_decay": 1e-4,
        "grad_clip": 1.0,
        "flip": True,
        "quantize_start": 150,  # steps without quantisation before k-means init
        "kmeans_images": 256,
        "kmeans_iters": 20,
        "ema_decay": 0.99,
        "commitment": 0.25,
        "dead_code_every": 100,
        "dead_code_threshold": 0.03,  # EMA uses per step below which a code is dead
        "l1": 1.0,
        "l2": 1.0,
        "gradient": 0.2,
        "ssim": 0.1,
        "adversarial": 0.05,
        "adversarial_start": 3000,
        "disc_lr": 2e-4,
        "disc_channels": 32,
        "log_every": 25,
        "eval_every": 250,
        "checkpoint_every": 250,
        "checkpoint_minutes": 5.0,
        "model": {
            "arch": "fast",
            "base_channels": 64,
            "channel_mult": [1, 4],
            "unshuffle_factors": [4, 4],
            "num_res_blocks": 2,
            "codebook_size": 512,
            "code_dim": 16,
            "norm_groups": 32,
            "shortcut_on_output": False,
        },
    },
    # Optional: sharpen the decoder with a GAN loss, encoder and codebook frozen (tokens kept).
    "decoder": {
        "steps": 0,  # 0 = off: the tokenizer's own decoder ships
        "max_minutes": 0.0,
        "init_from": "",  # unused (the stage starts from this run's tokenizer); kept for the loop
        "batch_size": 16,
        "lr": 1e-4,
        "warmup_steps": 0,  # counted from the start, so inside the discriminator's warm-up
        "final_lr_fraction": 0.1,
        "weight_decay": 0.0,
        "grad_clip": 1.0,
        "flip": True,
        "disc_warmup": 200,  # steps that train the discriminator alone first
        "l1": 1.0,
        "l2": 1.0,
        "gradient": 0.2,
        "ssim": 0.1,
        "adversarial": 0.5,  # times VQGAN's adaptive weight (pixel / GAN gradient norms)
        "disc_lr": 2e-4,
        "disc_channels": 32,
        "log_every": 25,
        "eval_every": 100,
        "checkpoint_every": 100,
        "checkpoint_minutes": 5.0,
    },
    "pretokenize": {
        "images": 60_000,  # training images tokenised (procedural: the first N items)
        "held_out": 1024,  # held-out images tokenised for the transformer's eval
        "batch_size": 64,
        "workers": 2,  # rendering scenes is the cost here, not the tokenizer
        "flip": True,  # also tokenise the mirrored images (augmentation for the transformer)
    },
    "transformer": {
        "steps": 30_000,
        "max_minutes": 0.0,
        "init_from": "",  # a model bundle whose transformer starts this stage (warm start)
        "batch_size": 64,
        "lr": 1.5e-3,
        "warmup_steps": 500,
        "final_lr_fraction": 0.02,
        "weight_decay": 0.05,
        "beta2": 0.96,
        "grad_clip": 1.0,
        "label_smoothing": 0.1,
        "class_dropout": 0.1,
        "mask_schedule": "cosine",
        "precision": "auto",  # auto (bf16 on CUDA, fp32 elsewhere), fp32 or bf16 (autocast)
        "edit_mask_fraction": 0.0,  # share of sequences masked in edit shapes (box, blob, strip)
        "flip_prob": 0.5,
        "ema_decay": 0.999,
        "log_every": 25,
        "eval_every": 500,
        "eval_sequences": 512,
        "checkpoint_every": 500,
        "checkpoint_minutes": 5.0,
        "model": {
            "hidden_size": 256,
            "num_layers": 6,
            "num_heads": 8,
            "mlp_size": 1024,
            "dropout": 0.1,
        },
    },
    "export": {
        "filename": "model.safetensors",
        "dtype": "float32",  # storage type of the weights: float32, float16 or bfloat16
        # Sampling settings recommended with this model; the studio and CLI start from them.
        "sampler": {
            "steps": 12,
            "schedule": "cosine",
            "choice_temperature": 4.5,
            "guidance_scale": 2.0,
        },
    },
}


def recipe_path(name_or_path: str) -> Path:
    """A recipe name ("default") or a .toml path -> the file, with a clear error if missing."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.is_file():
        if not candidate.is_file():
            raise ValueError(f"recipe file not found: {candidate}")
        return candidate
    path = CONFIG_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ValueError(
            f"unknown recipe {name_or_path!r}; available: {', '.join(available_recipes())}"
        )
    return path


def available_recipes() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))


def _merge(base: dict, update: dict, where: str = "") -> dict:
    """Deep-merge ``update`` into a copy of ``base``, refusing keys the schema lacks."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        dotted = f"{where}{key}"
        if key not in base:
            known = ", ".join(sorted(base))
            raise ValueError(f"unknown recipe key {dotted!r} (known here: {known})")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ValueError(f"recipe key {dotted!r} is a section, not a value")
            out[key] = _merge(base[key], value, dotted + ".")
        else:
            out[key] = _coerce(dotted, base[key], value)
    return out


def _coerce(dotted: str, default: Any, value: Any) -> Any:
    """Check a value against the default's type (ints may stand for floats)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, list):
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ValueError(f"recipe key {dotted!r} expects {type(default).__name__}, got {value!r}")
    return value


def parse_override(text: str) -> dict[str, Any]:
    """``"a.b=VALUE"`` -> ``{"a": {"b": value}}``; VALUE is TOML, or a bare string."""
    if "=" not in text:
        raise ValueError(f"override {text!r} is not KEY=VALUE (e.g. transformer.steps=2000)")
    key, raw = (s.strip() for s in text.split("=", 1))
    if not key:
        raise ValueError(f"override {text!r} has no key")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    nested: dict[str, Any] = {}
    node = nested
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return nested


def _load_file(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if path in seen:
        raise ValueError(f"recipe inheritance loops through {path}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"recipe {path} is not valid TOML: {exc}") from None
    base_name = data.get("base", "")
    base = _load_file(recipe_path(base_name), (*seen, path)) if base_name else DEFAULTS
    merged = _merge(base, data)
    merged["base"] = ""
    return merged


def load_recipe(name_or_path: str = "default", overrides: list[str] | None = None) -> dict:
    """The full recipe dict: defaults <- base recipe(s) <- the file <- each override in order."""
    recipe = _load_file(recipe_path(name_or_path))
    for text in overrides or []:
        recipe = _merge(recipe, parse_override(text))
    validate(recipe)
    return recipe


def validate(recipe: dict) -> None:
    """Cross-field checks that the schema cannot express."""
    for stage in ("tokenizer", "transformer"):
        section = recipe[stage]
        # zero steps only makes sense when continuing from a bundle (take it as it is)
        min_steps = 0 if section["init_from"] else 1
        if section["steps"] < min_steps or section["batch_size"] < 1:
            raise ValueError(
                f"{stage}.steps must be >= 1 (>= 0 with init_from) and {stage}.batch_size >= 1"
            )
        if section["max_minutes"] < 0:
            raise ValueError(f"{stage}.max_minutes must be >= 0 (0 = no time limit)")
    decoder = recipe["decoder"]
    if decoder["steps"] < 0 or decoder["batch_size"] < 1 or decoder["max_minutes"] < 0:
        raise ValueError("decoder.steps and decoder.max_minutes must be >= 0 (0 steps = off)")
    if decoder["init_from"]:
        raise ValueError("decoder.init_from is not used: the stage sharpens this run's tokenizer")
    tokenizer_config(recipe)  # the model configs validate their own fields
    if recipe["data"]["held_out"] < 1 or recipe["pretokenize"]["images"] < 1:
        raise ValueError("data.held_out and pretokenize.images must be >= 1")


def tokenizer_config(recipe: dict) -> TokenizerConfig:
    """The engine TokenizerConfig this recipe trains."""
    return TokenizerConfig(image_size=recipe["data"]["image_size"], **recipe["tokenizer"]["model"])


def transformer_config(recipe: dict, num_classes: int) -> TransformerConfig:
    """The engine TransformerConfig (always with a null class, so guidance works)."""
    tok = tokenizer_config(recipe)
    return TransformerConfig(
        codebook_size=tok.codebook_size,
        num_classes=num_classes,
        has_null_class=True,
        grid_size=tok.grid_size,
        **recipe["transformer"]["model"],
    )


def recipe_json(recipe: dict) -> str:
    return json.dumps(recipe, sort_keys=True)


def describe_overrides() -> str:
    """Help text listing every key with its default (used by --help)."""
    lines: list[str] = []

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            elif key not in ("base",):
                lines.append(f"  {prefix}{key} = {json.dumps(value)}")

    walk(DEFAULTS, "")
    return "\n".join(lines)
