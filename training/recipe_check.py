"""Everything ``maskgit-train`` checks before the first stage runs.

- :func:`check_recipe`: the whole recipe, every stage's settings, at once: every number finite
  and in its range, both model configs (the transformer's too, so a bad
  ``transformer.model.num_heads`` is refused before a 24-minute tokenizer stage, not after),
  the export's storage type and recommended sampler.
- :func:`check_resume`: a stage that will resume from a checkpoint was trained with the same
  model settings (compared with the recipe stored in the checkpoint, before anything is loaded).
- :func:`check_out_dir`: the run folder can be written, and its disk has room for what the
  stages will write (a full disk would otherwise surface mid-run, or as SIGBUS from a memory-
  mapped cache).

Each raises ``ValueError`` with one line naming the key; ``training.cli`` prints it (exit 2).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path
from typing import Any

from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.safe_io import UnreadableFile, check_writable_folder
from training.recipes import tokenizer_config, transformer_config
from training.run_state import PREVIOUS_STATE_FILE, STATE_FILE, StateError, stored_recipe

# Numbers that must lie in (lo, hi] or [lo, hi] (open: lo excluded); everything else numeric
# must be finite and >= 0.
_RANGES: dict[str, tuple[float, float, bool]] = {
    "lr": (0.0, 10.0, True),
    "disc_lr": (0.0, 10.0, True),
    "final_lr_fraction": (0.0, 1.0, False),
    "label_smoothing": (0.0, 0.99, False),
    "class_dropout": (0.0, 1.0, False),
    "edit_mask_fraction": (0.0, 1.0, False),
    "flip_prob": (0.0, 1.0, False),
    "ema_decay": (0.0, 0.999999, False),
    "beta2": (0.0, 0.999999, True),
    "dead_code_threshold": (0.0, 1.0, False),
    "batch_size": (0.0, 1 << 20, True),
    "image_size": (8.0, 4096, False),
    "length": (0.0, 1 << 31, True),
    "held_out": (0.0, 1 << 31, True),
    "images": (0.0, 1 << 31, True),
    "log_every": (0.0, 1 << 31, True),
    "workers": (0.0, 256, False),
}
MAX_STEPS = 1 << 31
STORAGE_DTYPES = ("float32", "float16", "bfloat16")
MAX_TOKEN_CODEBOOK = 1 << 16  # token files store uint16 code ids


def check_recipe(recipe: dict[str, Any]) -> None:
    """Check the whole recipe (every stage) before any stage runs.

    Raises:
        ValueError: the first problem, naming its key.
    """
    _check_numbers(recipe, "")
    for stage in ("tokenizer", "decoder", "transformer"):
        if recipe[stage]["steps"] > MAX_STEPS:
            raise ValueError(f"{stage}.steps is over {MAX_STEPS}")
    try:
        tok = tokenizer_config(recipe)
    except ValueError as exc:
        raise ValueError(f"tokenizer.model: {exc}") from None
    if tok.codebook_size > MAX_TOKEN_CODEBOOK:
        raise ValueError(
            f"tokenizer.model.codebook_size {tok.codebook_size} is over {MAX_TOKEN_CODEBOOK} "
            "(token files store 16-bit code ids)"
        )
    try:  # the class count comes from the data later; it does not change what is checked here
        transformer_config(recipe, num_classes=1)
    except ValueError as exc:
        raise ValueError(f"transformer.model: {exc}") from None
    export = recipe["export"]
    if export["dtype"] not in STORAGE_DTYPES:
        raise ValueError(
            f"export.dtype must be one of {', '.join(STORAGE_DTYPES)}, got {export['dtype']!r}"
        )
    name = export["filename"]
    if not name or Path(name).name != name:
        raise ValueError(f"export.filename must be a file name, got {name!r}")
    fields = {f.name for f in dataclasses.fields(SamplerConfig)}
    sampler = export["sampler"]
    unknown = sorted(set(sampler) - fields)
    if unknown:
        raise ValueError(f"export.sampler: unknown key(s) {', '.join(unknown)}")
    try:
        SamplerConfig(**sampler)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"export.sampler: {exc}") from None


def _check_numbers(node: dict[str, Any], prefix: str) -> None:
    for key, value in node.items():
        where = f"{prefix}{key}"
        if isinstance(value, dict):
            _check_numbers(value, f"{where}.")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number, got {value}")
        if key in _RANGES:
            lo, hi, open_lo = _RANGES[key]
            if value < lo or (open_lo and value == lo) or value > hi:
                low = f"> {lo:g}" if open_lo else f">= {lo:g}"
                raise ValueError(f"{where} must be {low} and <= {hi:g}, got {value}")
        elif value < 0:
            raise ValueError(f"{where} must be >= 0, got {value}")


# -- resuming ------------------------------------------------------------------------------------

# What a stage's checkpoint depends on: changing any of these makes its tensors not fit.
_STAGE_KEYS = {
    "tokenizer": ("data.image_size", "tokenizer.model"),
    "decoder": ("data.image_size", "tokenizer.model"),
    "transformer": ("data.image_size", "data.source", "tokenizer.model", "transformer.model"),
}


def _lookup(recipe: dict[str, Any], dotted: str) -> Any:
    node: Any = recipe
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _differences(stored: Any, current: Any, where: str) -> list[str]:
    if isinstance(stored, dict) and isinstance(current, dict):
        found = []
        for key in sorted(set(stored) | set(current)):
            if key == "dropout":  # dropout does not change a single tensor
                continue
            found += _differences(stored.get(key), current.get(key), f"{where}.{key}")
        return found
    if isinstance(stored, list) or isinstance(current, list):
        same = list(stored or []) == list(current or [])
    else:
        same = stored == current
    return [] if same else [f"{where} {stored!r} -> {current!r}"]


def check_resume(recipe: dict[str, Any], out: Path, stages: tuple[str, ...]) -> None:
    """Refuse to resume a stage whose checkpoint was trained with other model settings.

    Raises:
        ValueError: the settings differ (naming them), or the checkpoints are unusable.
    """
    for stage in stages:
        keys = _STAGE_KEYS.get(stage)
        state = out / stage / STATE_FILE
        if keys is None or not (state.exists() or state.with_name(PREVIOUS_STATE_FILE).exists()):
            continue
        try:
            stored = stored_recipe(state)
        except StateError as exc:
            raise ValueError(str(exc)) from None
        if stored is None:
            continue
        changed = [d for key in keys for d in _differences(_lookup(stored, key), _lookup(recipe, key), key)]  # fmt: skip
        if changed:
            shown = "; ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
            raise ValueError(
                f"{state} was trained with other model settings ({shown}); rerun with "
                f"--restart to start the {stage} stage over, or use the settings it was "
                "trained with"
            )


# -- the run folder ------------------------------------------------------------------------------


def check_out_dir(out: Path, recipe: dict[str, Any], stages: tuple[str, ...]) -> None:
    """The run folder can be created and written, and its disk has room for the stages.

    Raises:
        ValueError: not writable, or not enough free space (with both numbers).
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the run folder {out}: {exc.strerror or exc}") from None
    try:
        check_writable_folder(out / "probe", "run folder")
    except UnreadableFile as exc:
        raise ValueError(str(exc)) from None
    need = bytes_needed(recipe, out, stages)
    free = shutil.disk_usage(out).free
    if need > free:
        raise ValueError(
            f"not enough disk space in {out}: these stages write about {_gb(need)} and "
            f"{_gb(free)} is free (free some space, or use --out on another disk)"
        )


def _gb(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"


def bytes_needed(recipe: dict[str, Any], out: Path, stages: tuple[str, ...]) -> int:
    """About how many bytes the stages will still write into ``out`` (an upper estimate)."""
    tok_cfg = tokenizer_config(recipe)
    tr_cfg = transformer_config(recipe, num_classes=1)
    tok_params = tok_cfg.parameter_estimate()
    tr_params = tr_cfg.parameter_estimate()
    data, pre = recipe["data"], recipe["pretokenize"]
    need = 0
    if "tokenizer" in stages and not (out / "tokenizer" / "tokenizer.safetensors").exists():
        # weights + Adam moments (+ discriminator), the kept previous one and a temp copy
        need += 3 * 16 * tok_params + 4 * tok_params
        source = str(data["source"])
        if data["cache"] and source.startswith("procedural") and not (out / "cache").exists():
            need += data["length"] * data["image_size"] ** 2 * 3
    decoder_done = (out / "decoder" / "tokenizer.safetensors").exists()
    if "decoder" in stages and recipe["decoder"]["steps"] and not decoder_done:
        need += 3 * 16 * tok_params + 4 * tok_params  # as the tokenizer's, a bound
    if "pretokenize" in stages and not (out / "tokens" / "meta.json").exists():
        copies = 2 if pre["flip"] else 1
        need += (pre["images"] * copies + pre["held_out"]) * tok_cfg.grid_size**2 * 2
    if "transformer" in stages and not (out / "transformer" / "transformer.safetensors").exists():
        need += 3 * 16 * tr_params + 4 * tr_params  # weights, EMA, two Adam moments
    if "export" in stages:
        need += 4 * (tok_params + tr_params)
    return need


__all__ = ["bytes_needed", "check_out_dir", "check_recipe", "check_resume"]
