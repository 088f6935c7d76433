"""The official MaskGIT parameter layout, expressed as rules over the ENGINE's parameter names.

Each rule maps an engine tensor name (regex) to the official flax leaf it comes from
("encoder/ResBlock_4/Conv_2/kernel") and the reshape that turns the official array into the
engine tensor. Sources: google-research/maskgit nets/vqgan_tokenizer.py (ResBlock: GroupNorm_0,
Conv_0, GroupNorm_1, Conv_1, Conv_2 = the 1x1 shortcut on the block output) and
nets/maskgit_transformer.py (Embed_0, TransformerLayer_i, MlmLayer_0; flax SelfAttention names
query/key/value/out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import TokenizerConfig

# ---------------------------------------------------------------------------------------------
# Reshapes: each maps an engine shape to the official shape it expects, and official -> engine.


@dataclass(frozen=True)
class Reshape:
    name: str
    source_shape: Callable[[tuple[int, ...], int], tuple[int, ...]]  # (engine shape, heads)
    convert: Callable[[np.ndarray], np.ndarray]


def _heads_split(shape: tuple[int, ...], heads: int) -> tuple[int, int]:
    return heads, shape[0] // heads


IDENTITY = Reshape("identity", lambda s, h: s, lambda a: a)
CONV = Reshape(
    "conv HWIO->OIHW",
    lambda s, h: (s[2], s[3], s[1], s[0]),
    lambda a: a.transpose(3, 2, 0, 1),
)
DENSE = Reshape("dense (in,out)->(out,in)", lambda s, h: (s[1], s[0]), lambda a: a.T)
QKV_KERNEL = Reshape(
    "attention q/k/v kernel",
    lambda s, h: (s[1], *_heads_split(s, h)),
    lambda a: a.reshape(a.shape[0], -1).T,  # (C, nh, hs) -> (C, nh*hs) -> (nh*hs, C)
)
HEAD_BIAS = Reshape(
    "attention q/k/v bias", lambda s, h: _heads_split(s, h), lambda a: a.reshape(-1)
)
OUT_KERNEL = Reshape(
    "attention out kernel",
    lambda s, h: (*_heads_split((s[1],), h), s[0]),
    lambda a: a.reshape(-1, a.shape[-1]).T,  # (nh, hs, C) -> (nh*hs, C) -> (C, nh*hs)
)


# ---------------------------------------------------------------------------------------------
# Engine name -> (official name, reshape). Rules are tried in order; the first match wins.

_NORM = {"weight": "scale", "bias": "bias"}


def _norm_leaf(m: re.Match) -> str:
    return _NORM[m["p"]]


def _res_block_rules(side: str) -> list[tuple[str, Callable[[re.Match], str], Reshape]]:
    block = rf"{side}\.res_blocks\.(?P<i>\d+)"
    official = side + "/ResBlock_{i}/"
    return [
        (rf"{block}\.norm1\.(?P<p>weight|bias)", lambda m: official.format(i=m["i"]) + "GroupNorm_0/" + _norm_leaf(m), IDENTITY),
        (rf"{block}\.norm2\.(?P<p>weight|bias)", lambda m: official.format(i=m["i"]) + "GroupNorm_1/" + _norm_leaf(m), IDENTITY),
        (rf"{block}\.conv1\.weight", lambda m: official.format(i=m["i"]) + "Conv_0/kernel", CONV),
        (rf"{block}\.conv2\.weight", lambda m: official.format(i=m["i"]) + "Conv_1/kernel", CONV),
        (rf"{block}\.shortcut\.weight", lambda m: official.format(i=m["i"]) + "Conv_2/kernel", CONV),
    ]  # fmt: skip


def tokenizer_rules(
    config: TokenizerConfig,
) -> list[tuple[str, Callable[[re.Match], str], Reshape]]:
    """Mapping rules for an official-layout (``arch="vqgan"``) tokenizer."""
    n_up = len(config.channel_mult) - 1
    return [
        (r"quantizer\.codebook", lambda m: "quantizer/codebook", IDENTITY),
        (r"encoder\.conv_in\.weight", lambda m: "encoder/Conv_0/kernel", CONV),
        (r"encoder\.norm_out\.(?P<p>weight|bias)", lambda m: "encoder/GroupNorm_0/" + _norm_leaf(m), IDENTITY),
        (r"encoder\.conv_out\.weight", lambda m: "encoder/Conv_1/kernel", CONV),
        (r"encoder\.conv_out\.bias", lambda m: "encoder/Conv_1/bias", IDENTITY),
        *_res_block_rules("encoder"),
        (r"decoder\.conv_in\.weight", lambda m: "decoder/Conv_0/kernel", CONV),
        (r"decoder\.conv_in\.bias", lambda m: "decoder/Conv_0/bias", IDENTITY),
        # Up-sampling convs are the decoder's Conv_1 .. Conv_{n_up}; the output conv comes last.
        (r"decoder\.up_convs\.(?P<j>\d+)\.weight", lambda m: f"decoder/Conv_{int(m['j']) + 1}/kernel", CONV),
        (r"decoder\.up_convs\.(?P<j>\d+)\.bias", lambda m: f"decoder/Conv_{int(m['j']) + 1}/bias", IDENTITY),
        (r"decoder\.conv_out\.weight", lambda m: f"decoder/Conv_{n_up + 1}/kernel", CONV),
        (r"decoder\.conv_out\.bias", lambda m: f"decoder/Conv_{n_up + 1}/bias", IDENTITY),
        (r"decoder\.norm_out\.(?P<p>weight|bias)", lambda m: "decoder/GroupNorm_0/" + _norm_leaf(m), IDENTITY),
        *_res_block_rules("decoder"),
    ]  # fmt: skip


def transformer_rules() -> list[tuple[str, Callable[[re.Match], str], Reshape]]:
    """Mapping rules for the official bidirectional transformer."""
    layer = r"layers\.(?P<i>\d+)"

    def at(m: re.Match, rest: str) -> str:
        return f"TransformerLayer_{m['i']}/{rest}"

    def ln(m: re.Match) -> str:
        return _NORM[m["p"]]

    return [
        (r"word_embeddings\.weight", lambda m: "Embed_0/word_embeddings/embedding", IDENTITY),
        (r"position_embeddings\.weight", lambda m: "Embed_0/position_embeddings/embedding", IDENTITY),
        (r"embeddings_ln\.(?P<p>weight|bias)", lambda m: "Embed_0/embeddings_ln/" + ln(m), IDENTITY),
        (rf"{layer}\.attention\.(?P<q>query|key|value)\.weight", lambda m: at(m, f"Attention_0/self_attention/{m['q']}/kernel"), QKV_KERNEL),
        (rf"{layer}\.attention\.(?P<q>query|key|value)\.bias", lambda m: at(m, f"Attention_0/self_attention/{m['q']}/bias"), HEAD_BIAS),
        (rf"{layer}\.attention\.out\.weight", lambda m: at(m, "Attention_0/self_attention/out/kernel"), OUT_KERNEL),
        (rf"{layer}\.attention\.out\.bias", lambda m: at(m, "Attention_0/self_attention/out/bias"), IDENTITY),
        (rf"{layer}\.attention_ln\.(?P<p>weight|bias)", lambda m: at(m, "Attention_0/attention_output_ln/" + ln(m)), IDENTITY),
        (rf"{layer}\.intermediate\.weight", lambda m: at(m, "Mlp_0/intermediate_output/kernel"), DENSE),
        (rf"{layer}\.intermediate\.bias", lambda m: at(m, "Mlp_0/intermediate_output/bias"), IDENTITY),
        (rf"{layer}\.output\.weight", lambda m: at(m, "Mlp_0/layer_output/kernel"), DENSE),
        (rf"{layer}\.output\.bias", lambda m: at(m, "Mlp_0/layer_output/bias"), IDENTITY),
        (rf"{layer}\.output_ln\.(?P<p>weight|bias)", lambda m: at(m, "Mlp_0/layer_output_ln/" + ln(m)), IDENTITY),
        (r"mlm_dense\.weight", lambda m: "MlmLayer_0/mlm_dense/kernel", DENSE),
        (r"mlm_dense\.bias", lambda m: "MlmLayer_0/mlm_dense/bias", IDENTITY),
        (r"mlm_ln\.(?P<p>weight|bias)", lambda m: "MlmLayer_0/mlm_ln/" + ln(m), IDENTITY),
        (r"mlm_bias", lambda m: "MlmLayer_0/mlm_bias/bias", IDENTITY),
    ]  # fmt: skip
