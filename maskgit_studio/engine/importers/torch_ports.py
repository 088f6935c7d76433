"""Read the PyTorch ports of the official checkpoints (hmorimitsu/maskgit-torch layout).

Those files are ``torch.save({"state_dict": ...})`` of the same weights. They are loaded with
``torch.load(weights_only=True)`` only (never a full unpickle), then mapped back onto the official
flat layout, so one strict converter (:mod:`.official`) serves both sources. The back-mapping
uses views (transposes, reshapes), so no tensor is copied before the final conversion.

Port layout: tokenizer ``encoder.conv_in``, ``encoder.res_blocks.{level}.{j}.{norm0,conv0,norm1,
conv1,conv_res}``, ``encoder.norm_out/conv_out``, the decoder alike with the up-sampling conv at
``decoder.res_blocks.{level}.{R+1}``, ``quantizer.codebook.weight``. Transformer ``tok_emb``,
``pos_emb``, ``emb_ln``, ``blocks.{i}.MultiHeadAttention.{in_proj_weight,in_proj_bias,out_proj}``,
``blocks.{i}.{AttentionLN,MlpLN,MLP.0,MLP.2}``, ``Token_Prediction.{0,2}``, ``bias``.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from ...safe_io import UnreadableFile, open_regular
from .errors import WeightsImportError

log = logging.getLogger(__name__)

# The port runs the official 768-wide model; heads are not visible in its fused in_proj weights.
OFFICIAL_HEAD_DIM = 48


def load_state_dict(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """A port's state dict as float numpy arrays (views of the loaded tensors).

    Accepts ``{"state_dict": {...}}``, ``{"model": {...}}`` or a bare ``{name: tensor}``.
    """
    path = Path(path)
    try:  # a regular file only: a FIFO or /dev/zero would block or read forever
        open_regular(path, "checkpoint file").close()
    except UnreadableFile as exc:
        raise WeightsImportError(f"{what}: {exc}") from None
    try:
        # torch warns (e.g. about TorchScript archives) before it raises: one line, not three
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:  # mmap keeps a large file out of RAM until each tensor is used
                obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as exc:
                if "mmap" not in str(exc):
                    raise
                obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        blocked = [line for line in str(exc).splitlines() if "GLOBAL" in line]
        if not blocked:
            raise WeightsImportError(
                f"{what}: {path.name} is not a readable PyTorch checkpoint"
            ) from None
        raise WeightsImportError(
            f"{what}: {path.name} holds more than plain tensors, which this importer refuses to "
            f"unpickle ({blocked[0].strip()[:200]})"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise WeightsImportError(
            f"{what}: {path.name} is not a readable PyTorch checkpoint ({detail})"
        ) from None
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsImportError(f"{what}: {path.name} does not contain a state dict")
    arrays: dict[str, np.ndarray] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise WeightsImportError(f"{what}: entry {key!r} is not a named tensor")
        if not value.is_floating_point():
            raise WeightsImportError(f"{what}: {key} has dtype {value.dtype}, expected a float")
        if value.dtype == torch.bfloat16:  # numpy has no bfloat16
            value = value.float()
        arrays[key] = value.detach().numpy()
    return arrays


def _pop_all(state: dict[str, np.ndarray], pattern: str) -> list[tuple[re.Match, np.ndarray]]:
    found = []
    for key in [k for k in state if re.fullmatch(pattern, k)]:
        found.append((re.fullmatch(pattern, key), state.pop(key)))
    return found


def _conv(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 1, 0) if weight.ndim == 4 else weight  # OIHW -> HWIO


def _leaf(param: str, weight: np.ndarray) -> tuple[str, np.ndarray]:
    """A torch conv/norm parameter -> the official leaf name and layout."""
    if param == "bias":
        return "bias", weight
    return ("kernel", _conv(weight)) if weight.ndim == 4 else ("scale", weight)


def tokenizer_to_official(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """hmorimitsu tokenizer state dict -> official flat tree ("encoder/Conv_0/kernel" HWIO, ...).

    Keys the mapping does not know are passed through unchanged, so the strict converter reports
    them as unexpected.
    """
    flat: dict[str, np.ndarray] = {}
    blocks = {
        int(m["j"])
        for k in state
        if (m := re.match(r"encoder\.res_blocks\.0\.(?P<j>\d+)\.norm0", k))
    }
    per_level = len(blocks)  # res blocks per level (R); index R is the pool / upsample layer
    levels = (
        len({int(m[1]) for k in state if (m := re.match(r"decoder\.res_blocks\.(\d+)\.", k))}) - 1
    )
    names = {
        "norm0": "GroupNorm_0",
        "norm1": "GroupNorm_1",
        "conv0": "Conv_0",
        "conv1": "Conv_1",
        "conv_res": "Conv_2",
    }
    for side in ("encoder", "decoder"):
        pattern = (
            rf"{side}\.res_blocks\.(\d+)\.(\d+)\.(norm0|norm1|conv0|conv1|conv_res)\.(weight|bias)"
        )
        for m, weight in _pop_all(state, pattern):
            index = int(m[1]) * per_level + int(m[2])
            leaf, value = _leaf(m[4], weight)
            flat[f"{side}/ResBlock_{index}/{names[m[3]]}/{leaf}"] = value
        for m, weight in _pop_all(state, rf"{side}\.(conv_in|conv_out|norm_out)\.(weight|bias)"):
            official = {"conv_in": "Conv_0", "norm_out": "GroupNorm_0"}.get(m[1])
            official = official or ("Conv_1" if side == "encoder" else f"Conv_{levels}")
            flat[f"{side}/{official}/{_leaf(m[2], weight)[0]}"] = _leaf(m[2], weight)[1]
    for m, weight in _pop_all(
        state, rf"decoder\.res_blocks\.(\d+)\.{per_level + 1}\.(weight|bias)"
    ):
        flat[f"decoder/Conv_{m[1]}/{_leaf(m[2], weight)[0]}"] = _leaf(m[2], weight)[1]  # up convs
    for _, weight in _pop_all(state, r"quantizer\.codebook\.weight"):
        flat["quantizer/codebook"] = weight
    flat.update(state)  # leftovers: reported as unexpected by the converter
    state.clear()
    return flat  # fmt: skip


def transformer_to_official(
    state: dict[str, np.ndarray], num_heads: int | None = None
) -> tuple[dict[str, np.ndarray], int]:
    """hmorimitsu transformer state dict -> (official flat tree, number of heads).

    Args:
        state: the port's arrays (consumed).
        num_heads: attention heads; default hidden / 48 (the official 16 at width 768).
    """
    hidden = state["tok_emb.weight"].shape[1] if "tok_emb.weight" in state else 0
    if num_heads is None and hidden % OFFICIAL_HEAD_DIM:
        raise WeightsImportError(
            f"the transformer file's width {hidden} is not the official one, so its number of "
            "attention heads is unknown; pass it with --heads N"
        )
    heads = num_heads or max(hidden // OFFICIAL_HEAD_DIM, 1)
    if hidden % heads:
        raise WeightsImportError(f"hidden size {hidden} is not divisible by {heads} heads")
    simple = {
        "tok_emb.weight": "Embed_0/word_embeddings/embedding",
        "pos_emb": "Embed_0/position_embeddings/embedding",
        "emb_ln.weight": "Embed_0/embeddings_ln/scale",
        "emb_ln.bias": "Embed_0/embeddings_ln/bias",
        "Token_Prediction.0.weight": "MlmLayer_0/mlm_dense/kernel",
        "Token_Prediction.0.bias": "MlmLayer_0/mlm_dense/bias",
        "Token_Prediction.2.weight": "MlmLayer_0/mlm_ln/scale",
        "Token_Prediction.2.bias": "MlmLayer_0/mlm_ln/bias",
        "bias": "MlmLayer_0/mlm_bias/bias",
    }
    flat: dict[str, np.ndarray] = {}
    for key, official in simple.items():
        if key in state:
            value = state.pop(key)
            flat[official] = value.T if official.endswith("/kernel") else value
    for m, value in _pop_all(state, r"blocks\.(\d+)\.(.+)"):
        try:
            flat.update(_layer_leaves(m[1], m[2], value, heads))
        except ValueError:  # a reshape that does not fit: the shape is wrong
            raise WeightsImportError(
                f"transformer: {m[0]} has shape {value.shape}, which does not fit {heads} heads"
            ) from None
    flat.update(state)
    state.clear()
    return flat, heads


_LAYER_LEAVES = {
    "AttentionLN.weight": "Attention_0/attention_output_ln/scale",
    "AttentionLN.bias": "Attention_0/attention_output_ln/bias",
    "MlpLN.weight": "Mlp_0/layer_output_ln/scale",
    "MlpLN.bias": "Mlp_0/layer_output_ln/bias",
    "MLP.0.weight": "Mlp_0/intermediate_output/kernel",
    "MLP.0.bias": "Mlp_0/intermediate_output/bias",
    "MLP.2.weight": "Mlp_0/layer_output/kernel",
    "MLP.2.bias": "Mlp_0/layer_output/bias",
    "MultiHeadAttention.out_proj.bias": "Attention_0/self_attention/out/bias",
}


def _layer_leaves(index: str, rest: str, value: np.ndarray, heads: int) -> dict[str, np.ndarray]:
    """One port tensor of transformer block ``index`` -> its official leaf (or leaves)."""
    prefix = f"TransformerLayer_{index}/"
    attn = prefix + "Attention_0/self_attention/"
    if rest in _LAYER_LEAVES:
        official = prefix + _LAYER_LEAVES[rest]
        return {official: value.T if official.endswith("/kernel") else value}
    if rest == "MultiHeadAttention.out_proj.weight" and value.ndim == 2:
        return {attn + "out/kernel": value.T.reshape(heads, -1, value.shape[0])}  # (nh, hs, C)
    fused = rest in ("MultiHeadAttention.in_proj_weight", "MultiHeadAttention.in_proj_bias")
    if fused and value.ndim in (1, 2) and value.shape[0] % 3 == 0:
        out = {}
        for name, part in zip(("query", "key", "value"), np.split(value, 3)):
            if part.ndim == 2:
                out[attn + f"{name}/kernel"] = part.T.reshape(
                    part.shape[1], heads, -1
                )  # (C, nh, hs)
            else:
                out[attn + f"{name}/bias"] = part.reshape(heads, -1)  # (nh, hs)
        return out
    return {f"blocks.{index}.{rest}": value}  # unknown: reported as unexpected


__all__ = ["load_state_dict", "tokenizer_to_official", "transformer_to_official"]
