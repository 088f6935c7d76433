"""Stage 4: write the studio model bundle (engine.checkpoint.save_bundle) from a finished run.

The bundle holds the trained tokenizer, the transformer's EMA weights, the class names, and a
provenance record: the full recipe, what data it saw, the final metrics of each stage, step
counts, measured throughputs, and software versions.
"""

from __future__ import annotations

import datetime
import logging
import platform
from pathlib import Path

import torch

from maskgit_studio.engine.checkpoint import save_bundle
from maskgit_studio.engine.transformer import MaskGitTransformer
from training import pretokenize as pretok
from training import train_decoder as dec_stage
from training import train_tokenizer as tok_stage
from training import train_transformer as tr_stage
from training.recipes import transformer_config
from training.run_state import STATE_FILE, STATUS_FILE, load_state, read_json

log = logging.getLogger(__name__)


STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def storage_dtype(name: str) -> torch.dtype:
    if name not in STORAGE_DTYPES:
        raise ValueError(f"export.dtype must be one of {', '.join(STORAGE_DTYPES)}, got {name!r}")
    return STORAGE_DTYPES[name]


def bundle_path(recipe: dict, out_dir: str | Path, output: str | Path | None = None) -> Path:
    return Path(output) if output is not None else Path(out_dir) / recipe["export"]["filename"]


def build_provenance(recipe: dict, out_dir: Path, tok_info: dict, tr_info: dict) -> dict:
    """A JSON-ready description of how the model was made."""
    tok_status = read_json(out_dir / tok_stage.STAGE / STATUS_FILE) or {}
    decoder_info = tok_info.get("decoder")  # set when the decoder stage sharpened it
    dec_status = read_json(out_dir / dec_stage.STAGE / STATUS_FILE) or {}
    tr_status = read_json(out_dir / tr_stage.STAGE / STATUS_FILE) or {}
    meta = read_json(out_dir / pretok.STAGE_DIR / pretok.META_FILE) or {}
    data = recipe["data"]
    return {
        "recipe_name": recipe["name"],
        "sampler": dict(recipe["export"]["sampler"]),
        "recipe": recipe,
        "data": {
            "source": data["source"],
            "image_size": data["image_size"],
            "tokenizer_images_seen": tok_info.get("step", 0) * recipe["tokenizer"]["batch_size"],
            "tokenized_images": meta.get("counts", [0, 0])[0],
            "held_out_images": meta.get("counts", [0, 0])[1],
            "mirrored_tokens": bool(meta.get("flip")),
            "transformer_sequences_seen": tr_info.get("step", 0)
            * recipe["transformer"]["batch_size"],
        },
        "metrics": {
            "tokenizer": tok_info.get("metrics", {}),
            "transformer": tr_info.get("metrics", {}),
            **({"decoder": decoder_info["metrics"]} if decoder_info else {}),
        },
        "training": {
            "tokenizer_steps": tok_info.get("step"),
            "tokenizer_minutes": round(tok_status.get("elapsed_s", 0.0) / 60, 1),
            "tokenizer_img_per_s": round(tok_status.get("img_per_s", 0.0), 1),
            **(
                {
                    "decoder_steps": decoder_info["step"],
                    "decoder_minutes": round(dec_status.get("elapsed_s", 0.0) / 60, 1),
                }
                if decoder_info
                else {}
            ),
            "transformer_steps": tr_info.get("step"),
            "transformer_minutes": round(
                tr_info.get("elapsed_s", tr_status.get("elapsed_s", 0.0)) / 60, 1
            ),
            "transformer_seq_per_s": round(tr_status.get("seq_per_s", 0.0), 1),
            "transformer_weights": "EMA"
            + (
                " (a checkpoint of a stage not yet finished)"
                if tr_info.get("from_checkpoint")
                else ""
            ),
        },
        "warm_start": {
            "tokenizer": tok_info.get("warm_start"),
            "transformer": tr_info.get("warm_start"),
        },
        "software": {"torch": torch.__version__, "python": platform.python_version()},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def checkpoint_transformer(
    recipe: dict, out_dir: Path, num_classes: int
) -> tuple[MaskGitTransformer, dict]:
    """The EMA weights of the transformer stage's latest checkpoint: a look at a run that is
    still going, or was stopped before its end (the final file is written only then).

    Returns:
        (the model in eval mode, info like the final file's: step, metrics of the last eval).
    """
    path = out_dir / tr_stage.STAGE / STATE_FILE
    state = load_state(path, mmap=True, announce=False)
    if state is None or "ema" not in state:
        raise FileNotFoundError(f"no transformer checkpoint at {path}; run the transformer stage")
    model = MaskGitTransformer(transformer_config(recipe, num_classes))
    model.load_state_dict(state["ema"])
    status = read_json(out_dir / tr_stage.STAGE / STATUS_FILE) or {}
    info = {
        "step": int(state["step"]),
        "metrics": status.get("metrics", {}) if status.get("step") == state["step"] else {},
        "recipe": recipe["name"],
        "from_checkpoint": True,
        "elapsed_s": float(state.get("elapsed_s", 0.0)),  # the status may be older
    }
    return model.eval(), info


def export_bundle(
    recipe: dict,
    out_dir: str | Path,
    output: str | Path | None = None,
    from_checkpoint: bool = False,
    plain_decoder: bool = False,
) -> Path:
    """Write OUT/model.safetensors (or ``output``) from the run's trained stages; with
    ``from_checkpoint`` the transformer comes from its latest checkpoint (a running stage).
    The tokenizer is the decoder stage's sharpened one when that stage has run, unless
    ``plain_decoder``.

    Raises:
        FileNotFoundError: a stage has not finished (the message names it).
    """
    out_dir = Path(out_dir)
    sharpened = None if plain_decoder else dec_stage.sharpened_tokenizer_path(out_dir)
    tok_path = sharpened or out_dir / tok_stage.STAGE / tok_stage.FINAL_FILE
    tokenizer, tok_info = tok_stage.load_tokenizer(tok_path)
    if sharpened:
        log.info("decoder: the sharpened one from %s", sharpened)
    meta = read_json(out_dir / pretok.STAGE_DIR / pretok.META_FILE)
    if meta is None:
        raise FileNotFoundError(f"no tokens in {out_dir / pretok.STAGE_DIR}; run pretokenize")
    if from_checkpoint:
        transformer, tr_info = checkpoint_transformer(recipe, out_dir, len(meta["class_names"]))
    else:
        final = out_dir / tr_stage.STAGE / tr_stage.FINAL_FILE
        transformer, tr_info = tr_stage.load_transformer(final)
    provenance = build_provenance(recipe, out_dir, tok_info, tr_info)
    path = save_bundle(
        bundle_path(recipe, out_dir, output),
        tokenizer,
        transformer,
        list(meta["class_names"]),
        provenance,
        dtype=storage_dtype(recipe["export"]["dtype"]),
    )
    log.info("exported %s", path)
    return path
