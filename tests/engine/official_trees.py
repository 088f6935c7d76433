"""Test helpers: official-format MaskGIT trees from random weights, and numpy references.

Everything here is written from the official source (google-research/maskgit
nets/vqgan_tokenizer.py and nets/maskgit_transformer.py, flax conventions: NHWC, HWIO kernels,
Dense (in, out), DenseGeneral attention kernels (C, heads, head_dim)), NOT from the importer,
so a test comparing the two checks the conversion for real.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# ------------------------------------------------------------------------------------------------
# Trees


@dataclass(frozen=True)
class TokShape:
    """Official VQGAN hyper-parameters (vqgan_config.py names)."""

    filters: int = 128
    channel_multipliers: tuple[int, ...] = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    embedding_dim: int = 256
    codebook_size: int = 1024


@dataclass(frozen=True)
class TrShape:
    """Official transformer hyper-parameters (maskgit_class_cond_config.py names)."""

    vocab_size: int = 2025
    hidden_size: int = 768
    num_layers: int = 24
    num_heads: int = 16
    intermediate_size: int = 3072
    latent_size: int = 16


def _fill(rng: np.random.Generator, shape: tuple[int, ...], scale: float, fast: bool) -> np.ndarray:
    if fast:  # full-size trees: uniform draws are much cheaper than normals
        return ((rng.random(shape, dtype=np.float32) - 0.5) * (2 * scale)).astype(np.float32)
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _norm(rng, channels: int, fast: bool) -> dict:
    return {
        "scale": 1 + _fill(rng, (channels,), 0.2, fast),
        "bias": _fill(rng, (channels,), 0.2, fast),
    }


def _conv(rng, k: int, cin: int, cout: int, bias: bool, fast: bool) -> dict:
    out = {"kernel": _fill(rng, (k, k, cin, cout), 1 / math.sqrt(k * k * cin), fast)}
    if bias:
        out["bias"] = _fill(rng, (cout,), 0.1, fast)
    return out


def _res_block(rng, cin: int, filters: int, fast: bool) -> dict:
    block = {
        "GroupNorm_0": _norm(rng, cin, fast),
        "Conv_0": _conv(rng, 3, cin, filters, False, fast),
        "GroupNorm_1": _norm(rng, filters, fast),
        "Conv_1": _conv(rng, 3, filters, filters, False, fast),
    }
    if cin != filters:  # the 1x1 shortcut, applied to the block output
        block["Conv_2"] = _conv(rng, 1, filters, filters, False, fast)
    return block


def tokenizer_tree(shape: TokShape, seed: int = 0, fast: bool = False) -> dict:
    """``{"params": {"encoder", "decoder", "quantizer"}}`` as the official VQVAE names it."""
    rng = np.random.default_rng(seed)
    f, mults, r = shape.filters, shape.channel_multipliers, shape.num_res_blocks
    enc: dict = {"Conv_0": _conv(rng, 3, 3, f, False, fast)}
    n, ch = 0, f
    for m in mults:
        for _ in range(r):
            enc[f"ResBlock_{n}"] = _res_block(rng, ch, f * m, fast)
            n, ch = n + 1, f * m
    for _ in range(r):
        enc[f"ResBlock_{n}"] = _res_block(rng, ch, ch, fast)
        n += 1
    enc["GroupNorm_0"] = _norm(rng, ch, fast)
    enc["Conv_1"] = _conv(rng, 1, ch, shape.embedding_dim, True, fast)

    ch = f * mults[-1]
    dec: dict = {"Conv_0": _conv(rng, 3, shape.embedding_dim, ch, True, fast)}
    n, conv = 0, 1
    for _ in range(r):
        dec[f"ResBlock_{n}"] = _res_block(rng, ch, ch, fast)
        n += 1
    for level in reversed(range(len(mults))):
        for _ in range(r):
            dec[f"ResBlock_{n}"] = _res_block(rng, ch, f * mults[level], fast)
            n, ch = n + 1, f * mults[level]
        if level > 0:
            dec[f"Conv_{conv}"] = _conv(rng, 3, ch, ch, True, fast)
            conv += 1
    dec["GroupNorm_0"] = _norm(rng, ch, fast)
    dec[f"Conv_{conv}"] = _conv(rng, 3, ch, 3, True, fast)
    codebook = _fill(rng, (shape.codebook_size, shape.embedding_dim), 1.0, fast)
    return {"params": {"encoder": enc, "decoder": dec, "quantizer": {"codebook": codebook}}}


def _dense(rng, cin: int, cout: int) -> dict:
    return {
        "kernel": (rng.standard_normal((cin, cout)) / math.sqrt(cin)).astype(np.float32),
        "bias": (rng.standard_normal(cout) * 0.1).astype(np.float32),
    }


def transformer_tree(shape: TrShape, seed: int = 0) -> dict:
    """``{"params": {"Embed_0", "TransformerLayer_i", "MlmLayer_0"}}`` as flax names them."""
    rng = np.random.default_rng(seed)
    h, nh = shape.hidden_size, shape.num_heads
    hs = h // nh

    def ln() -> dict:
        return {
            "scale": (1 + rng.standard_normal(h) * 0.2).astype(np.float32),
            "bias": (rng.standard_normal(h) * 0.2).astype(np.float32),
        }

    def attn_proj() -> dict:
        return {
            "kernel": (rng.standard_normal((h, nh, hs)) / math.sqrt(h)).astype(np.float32),
            "bias": (rng.standard_normal((nh, hs)) * 0.1).astype(np.float32),
        }

    params: dict = {
        "Embed_0": {
            "word_embeddings": {
                "embedding": rng.standard_normal((shape.vocab_size, h)).astype(np.float32)
            },
            "position_embeddings": {
                "embedding": rng.standard_normal((shape.latent_size**2 + 1, h)).astype(np.float32)
            },
            "embeddings_ln": ln(),
        }
    }
    for i in range(shape.num_layers):
        params[f"TransformerLayer_{i}"] = {
            "Attention_0": {
                "self_attention": {
                    "query": attn_proj(),
                    "key": attn_proj(),
                    "value": attn_proj(),
                    "out": {
                        "kernel": (rng.standard_normal((nh, hs, h)) / math.sqrt(h)).astype(
                            np.float32
                        ),
                        "bias": (rng.standard_normal(h) * 0.1).astype(np.float32),
                    },
                },
                "attention_output_ln": ln(),
            },
            "Mlp_0": {
                "intermediate_output": _dense(rng, h, shape.intermediate_size),
                "layer_output": _dense(rng, shape.intermediate_size, h),
                "layer_output_ln": ln(),
            },
        }
    params["MlmLayer_0"] = {
        "mlm_dense": _dense(rng, h, h),
        "mlm_ln": ln(),
        "mlm_bias": {"bias": (rng.standard_normal(shape.vocab_size) * 0.1).astype(np.float32)},
    }
    return {"params": params}


# ------------------------------------------------------------------------------------------------
# numpy references (NHWC, float64), following the official modules line by line


def conv_nhwc(x: np.ndarray, p: dict) -> np.ndarray:
    """flax nn.Conv, padding SAME, stride 1: x (B, H, W, I), kernel (k, k, I, O)."""
    kernel = p["kernel"].astype(np.float64)
    k = kernel.shape[0]
    pad = (k - 1) // 2
    xp = np.pad(x, ((0, 0), (pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)))
    h, w = x.shape[1:3]
    out = np.zeros((*x.shape[:3], kernel.shape[3]))
    for dy in range(k):
        for dx in range(k):
            out += xp[:, dy : dy + h, dx : dx + w, :] @ kernel[dy, dx]
    return out + p["bias"] if "bias" in p else out


def group_norm_nhwc(x: np.ndarray, p: dict, groups: int = 32, eps: float = 1e-6) -> np.ndarray:
    b, h, w, c = x.shape
    g = x.reshape(b, h, w, groups, c // groups)
    mean = g.mean(axis=(1, 2, 4), keepdims=True)
    var = g.var(axis=(1, 2, 4), keepdims=True)
    return ((g - mean) / np.sqrt(var + eps)).reshape(x.shape) * p["scale"] + p["bias"]


def swish(x: np.ndarray) -> np.ndarray:
    return x / (1 + np.exp(-x))


def res_block_nhwc(x: np.ndarray, p: dict) -> np.ndarray:
    """vqgan_tokenizer.ResBlock: note the shortcut conv takes the block OUTPUT (the quirk)."""
    residual = x
    h = conv_nhwc(swish(group_norm_nhwc(x, p["GroupNorm_0"])), p["Conv_0"])
    h = conv_nhwc(swish(group_norm_nhwc(h, p["GroupNorm_1"])), p["Conv_1"])
    if x.shape[-1] != h.shape[-1]:
        residual = conv_nhwc(h, p["Conv_2"])
    return h + residual


def encoder_nhwc(x: np.ndarray, enc: dict, shape: TokShape) -> np.ndarray:
    h = conv_nhwc(x, enc["Conv_0"])
    n = 0
    for level in range(len(shape.channel_multipliers)):
        for _ in range(shape.num_res_blocks):
            h = res_block_nhwc(h, enc[f"ResBlock_{n}"])
            n += 1
        if level < len(shape.channel_multipliers) - 1:  # 2x2 average pool
            b, hh, ww, c = h.shape
            h = h.reshape(b, hh // 2, 2, ww // 2, 2, c).mean(axis=(2, 4))
    for _ in range(shape.num_res_blocks):
        h = res_block_nhwc(h, enc[f"ResBlock_{n}"])
        n += 1
    return conv_nhwc(swish(group_norm_nhwc(h, enc["GroupNorm_0"])), enc["Conv_1"])


def decoder_nhwc(z: np.ndarray, dec: dict, shape: TokShape) -> np.ndarray:
    h = conv_nhwc(z, dec["Conv_0"])
    n, conv = 0, 1
    for _ in range(shape.num_res_blocks):
        h = res_block_nhwc(h, dec[f"ResBlock_{n}"])
        n += 1
    for level in reversed(range(len(shape.channel_multipliers))):
        for _ in range(shape.num_res_blocks):
            h = res_block_nhwc(h, dec[f"ResBlock_{n}"])
            n += 1
        if level > 0:  # nearest x2 upsample, then a 3x3 conv
            h = conv_nhwc(h.repeat(2, axis=1).repeat(2, axis=2), dec[f"Conv_{conv}"])
            conv += 1
    return conv_nhwc(swish(group_norm_nhwc(h, dec["GroupNorm_0"])), dec[f"Conv_{conv}"])


def layer_norm(x: np.ndarray, p: dict, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * p["scale"] + p["bias"]


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """jax.nn.gelu's default (approximate=True)."""
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def transformer_layer(x: np.ndarray, p: dict) -> np.ndarray:
    """TransformerLayer: flax SelfAttention (DenseGeneral q/k/v/out), post-LN, GELU MLP."""
    sa = p["Attention_0"]["self_attention"]

    def proj(name: str) -> np.ndarray:  # (B, T, C) x (C, nh, hs) -> (B, T, nh, hs)
        return np.einsum("btc,chd->bthd", x, sa[name]["kernel"]) + sa[name]["bias"]

    q, k, v = proj("query"), proj("key"), proj("value")
    q = q / math.sqrt(q.shape[-1])
    scores = np.einsum("bqhd,bkhd->bhqk", q, k)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    weights = scores / scores.sum(-1, keepdims=True)
    attended = np.einsum("bhqk,bkhd->bqhd", weights, v)
    attn = np.einsum("bthd,hdc->btc", attended, sa["out"]["kernel"]) + sa["out"]["bias"]
    x = layer_norm(attn + x, p["Attention_0"]["attention_output_ln"])
    mlp = p["Mlp_0"]
    hidden = gelu_tanh(
        x @ mlp["intermediate_output"]["kernel"] + mlp["intermediate_output"]["bias"]
    )
    out = hidden @ mlp["layer_output"]["kernel"] + mlp["layer_output"]["bias"]
    return layer_norm(out + x, mlp["layer_output_ln"])


def transformer_logits(ids: np.ndarray, params: dict) -> np.ndarray:
    """Transformer.__call__: (B, T) ids -> (B, T, vocab) logits with the tied MLM head."""
    emb = params["Embed_0"]
    word = emb["word_embeddings"]["embedding"].astype(np.float64)
    x = word[ids] + emb["position_embeddings"]["embedding"][: ids.shape[1]][None]
    x = layer_norm(x, emb["embeddings_ln"])
    i = 0
    while f"TransformerLayer_{i}" in params:
        x = transformer_layer(x, params[f"TransformerLayer_{i}"])
        i += 1
    mlm = params["MlmLayer_0"]
    h = gelu_tanh(x @ mlm["mlm_dense"]["kernel"] + mlm["mlm_dense"]["bias"])
    h = layer_norm(h, mlm["mlm_ln"])
    return h @ word.T + mlm["mlm_bias"]["bias"]


# ------------------------------------------------------------------------------------------------
# The PyTorch port's layout (hmorimitsu/maskgit-torch conversion notebooks), from a tree


def port_tokenizer_state(tree: dict, shape: TokShape) -> dict:
    """The port's names: res_blocks.{level}.{j}, norm0/conv0/norm1/conv1/conv_res, OIHW."""
    import torch

    r, levels = shape.num_res_blocks, len(shape.channel_multipliers)
    names = {
        "GroupNorm_0": "norm0",
        "Conv_0": "conv0",
        "GroupNorm_1": "norm1",
        "Conv_1": "conv1",
        "Conv_2": "conv_res",
    }

    def leaf(name: str, value: np.ndarray) -> tuple[str, torch.Tensor]:
        t = torch.from_numpy(value.copy())
        return (
            ("weight", t.permute(3, 2, 0, 1).contiguous())
            if name == "kernel"
            else ("weight" if name == "scale" else "bias", t)
        )

    state = {}
    p = tree["params"]
    state["quantizer.codebook.weight"] = torch.from_numpy(p["quantizer"]["codebook"].copy())
    for side in ("encoder", "decoder"):
        for key, mod in p[side].items():
            if key.startswith("ResBlock_"):
                i = int(key.split("_")[1])
                for sub, params in mod.items():
                    for pname, value in params.items():
                        tname, t = leaf(pname, value)
                        state[f"{side}.res_blocks.{i // r}.{i % r}.{names[sub]}.{tname}"] = t
            else:
                idx = int(key.split("_")[1])
                if key.startswith("GroupNorm"):
                    target = f"{side}.norm_out"
                elif idx == 0:
                    target = f"{side}.conv_in"
                elif side == "encoder" or idx == levels:
                    target = f"{side}.conv_out"
                else:  # decoder up-sampling conv: after R res blocks and the Upsample layer
                    target = f"{side}.res_blocks.{idx}.{r + 1}"
                for pname, value in mod.items():
                    tname, t = leaf(pname, value)
                    state[f"{target}.{tname}"] = t
    return state  # fmt: skip


def port_transformer_state(tree: dict) -> dict:
    """The port's names: tok_emb, pos_emb, blocks.{i}.MultiHeadAttention.in_proj_*, MLP.0/2."""
    import torch

    p = tree["params"]

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a))

    emb = p["Embed_0"]
    state = {
        "tok_emb.weight": t(emb["word_embeddings"]["embedding"]),
        "pos_emb": t(emb["position_embeddings"]["embedding"]),
        "emb_ln.weight": t(emb["embeddings_ln"]["scale"]),
        "emb_ln.bias": t(emb["embeddings_ln"]["bias"]),
        "Token_Prediction.0.weight": t(p["MlmLayer_0"]["mlm_dense"]["kernel"].T),
        "Token_Prediction.0.bias": t(p["MlmLayer_0"]["mlm_dense"]["bias"]),
        "Token_Prediction.2.weight": t(p["MlmLayer_0"]["mlm_ln"]["scale"]),
        "Token_Prediction.2.bias": t(p["MlmLayer_0"]["mlm_ln"]["bias"]),
        "bias": t(p["MlmLayer_0"]["mlm_bias"]["bias"]),
    }
    i = 0
    while f"TransformerLayer_{i}" in p:
        layer = p[f"TransformerLayer_{i}"]
        sa = layer["Attention_0"]["self_attention"]
        b = f"blocks.{i}."
        qkv = [sa[n]["kernel"] for n in ("query", "key", "value")]  # (C, nh, hs) each
        state[b + "MultiHeadAttention.in_proj_weight"] = t(
            np.concatenate([k.transpose(1, 2, 0).reshape(-1, k.shape[0]) for k in qkv])
        )
        state[b + "MultiHeadAttention.in_proj_bias"] = t(
            np.concatenate([sa[n]["bias"].reshape(-1) for n in ("query", "key", "value")])
        )
        out = sa["out"]["kernel"]  # (nh, hs, C)
        state[b + "MultiHeadAttention.out_proj.weight"] = t(
            out.transpose(2, 0, 1).reshape(out.shape[2], -1)
        )
        state[b + "MultiHeadAttention.out_proj.bias"] = t(sa["out"]["bias"])
        state[b + "AttentionLN.weight"] = t(layer["Attention_0"]["attention_output_ln"]["scale"])
        state[b + "AttentionLN.bias"] = t(layer["Attention_0"]["attention_output_ln"]["bias"])
        mlp = layer["Mlp_0"]
        state[b + "MLP.0.weight"] = t(mlp["intermediate_output"]["kernel"].T)
        state[b + "MLP.0.bias"] = t(mlp["intermediate_output"]["bias"])
        state[b + "MLP.2.weight"] = t(mlp["layer_output"]["kernel"].T)
        state[b + "MLP.2.bias"] = t(mlp["layer_output"]["bias"])
        state[b + "MlpLN.weight"] = t(mlp["layer_output_ln"]["scale"])
        state[b + "MlpLN.bias"] = t(mlp["layer_output_ln"]["bias"])
        i += 1
    return state  # fmt: skip
