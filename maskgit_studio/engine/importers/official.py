"""Convert the official MaskGIT ImageNet checkpoints (flax trees) into the engine's models.

Source layout (google-research/maskgit nets/vqgan_tokenizer.py, nets/maskgit_transformer.py),
flattened with "/" (see MASKGIT.md). The mapping is driven by the ENGINE model's parameter names:
each engine tensor names the official leaf it comes from and how to reshape it, so the check is
strict both ways (every engine tensor filled, every official leaf used, every shape exact).

Conversions: conv kernel (H, W, I, O) -> (O, I, H, W); Dense kernel (in, out) -> weight (out, in);
attention q/k/v kernel (C, heads, head_dim) -> (heads*head_dim, C), bias (heads, head_dim) ->
(heads*head_dim,); attention out kernel (heads, head_dim, C) -> (C, heads*head_dim);
LayerNorm/GroupNorm scale -> weight. The shortcut quirk, mask id (last row, 2024) and class
offset (codebook size, 1024) come from the configs built here.

Memory: leaves are popped from the source dict as they are converted, so a 700 MB transformer
never exists three times over (file tree + converted tensors + copies).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import MutableMapping
from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from ..config import TokenizerConfig, TransformerConfig
from ..transformer import MaskGitTransformer
from ..vqgan import Tokenizer
from .errors import WeightsImportError
from .official_layout import Reshape, tokenizer_rules, transformer_rules

log = logging.getLogger(__name__)

Flat = MutableMapping[str, Any]  # "encoder/Conv_0/kernel" -> np.ndarray

# Official model constants that the weights alone do not reveal.
OFFICIAL_NORM_GROUPS = 32
OFFICIAL_NORM_EPS = 1e-6
OFFICIAL_LAYER_NORM_EPS = 1e-12
OFFICIAL_DROPOUT = 0.1
_FLOAT_KINDS = ("f",)


# ---------------------------------------------------------------------------------------------
# Config inference from the official trees.


def _shape(flat: Flat, key: str, what: str) -> tuple[int, ...]:
    value = flat.get(key)
    if not isinstance(value, np.ndarray):
        raise WeightsImportError(f"{what}: missing {key!r}; is this the right file?")
    return value.shape


def _indices(flat: Flat, prefix: str, what: str) -> int:
    """How many numbered children ``prefix0, prefix1, ...`` the tree has (checked contiguous)."""
    found = {int(m[1]) for k in flat if (m := re.match(rf"{re.escape(prefix)}(\d+)/", k))}
    if found != set(range(len(found))):
        raise WeightsImportError(f"{what}: {prefix}N entries are not numbered 0..{len(found) - 1}")
    return len(found)


def infer_tokenizer_config(flat: Flat, image_size: int) -> TokenizerConfig:
    """Official VQGAN config from the tree's shapes (widths, levels, blocks, codebook)."""
    what = "tokenizer checkpoint"
    kernel = _shape(flat, "encoder/Conv_0/kernel", what)  # (3, 3, in, base)
    if len(kernel) != 4:
        raise WeightsImportError(f"{what}: encoder/Conv_0/kernel has shape {kernel}, expected 4-D")
    in_channels, base = kernel[2], kernel[3]
    levels = _indices(flat, "decoder/Conv_", what) - 1  # Conv_0, the up convs, the output conv
    blocks = _indices(flat, "encoder/ResBlock_", what)
    if levels < 1 or blocks == 0 or blocks % (levels + 1):
        raise WeightsImportError(
            f"{what}: {blocks} encoder res blocks do not fit {levels} levels (+ middle blocks)"
        )
    per_level = blocks // (levels + 1)
    mult = []
    for level in range(levels):
        width = _shape(flat, f"encoder/ResBlock_{level * per_level}/Conv_0/kernel", what)[-1]
        if width % base:
            raise WeightsImportError(
                f"{what}: level {level} width {width} is not a multiple of {base}"
            )
        mult.append(width // base)
    codebook_size, code_dim = _shape(flat, "quantizer/codebook", what)
    try:
        return TokenizerConfig(
            arch="vqgan",
            image_size=image_size,
            in_channels=in_channels,
            base_channels=base,
            channel_mult=tuple(mult),
            num_res_blocks=per_level,
            codebook_size=codebook_size,
            code_dim=code_dim,
            norm_groups=OFFICIAL_NORM_GROUPS,
            norm_eps=OFFICIAL_NORM_EPS,
            conv_bias=False,
            shortcut_on_output=True,
        )
    except ValueError as exc:
        raise WeightsImportError(f"{what}: unusable configuration ({exc})") from None


def infer_transformer_config(
    flat: Flat, codebook_size: int, num_heads: int | None = None
) -> TransformerConfig:
    """Official transformer config from the tree's shapes.

    Args:
        flat: the flattened transformer params.
        codebook_size: the tokenizer's codebook size (the class-token offset, 1024).
        num_heads: only needed when the attention kernels do not show it (PyTorch ports).
    """
    what = "transformer checkpoint"
    vocab, hidden = _shape(flat, "Embed_0/word_embeddings/embedding", what)
    positions = _shape(flat, "Embed_0/position_embeddings/embedding", what)[0]
    grid = math.isqrt(max(positions - 1, 0))
    if grid * grid != positions - 1 or grid == 0:
        raise WeightsImportError(
            f"{what}: {positions} position embeddings is not 1 class token + a square grid"
        )
    layers = _indices(flat, "TransformerLayer_", what)
    if num_heads is None:
        num_heads = _shape(
            flat, "TransformerLayer_0/Attention_0/self_attention/query/kernel", what
        )[1]
    mlp = _shape(flat, "TransformerLayer_0/Mlp_0/intermediate_output/kernel", what)[-1]
    num_classes = vocab - codebook_size - 1  # vocabulary = codes + classes + the mask token
    if num_classes < 1:
        raise WeightsImportError(
            f"{what}: vocabulary of {vocab} leaves no classes after {codebook_size} codes + mask "
            "(does the tokenizer belong to this transformer?)"
        )
    try:
        return TransformerConfig(
            codebook_size=codebook_size,
            num_classes=num_classes,
            has_null_class=False,
            grid_size=grid,
            hidden_size=hidden,
            num_layers=layers,
            num_heads=num_heads,
            mlp_size=mlp,
            dropout=OFFICIAL_DROPOUT,
            layer_norm_eps=OFFICIAL_LAYER_NORM_EPS,
        )
    except ValueError as exc:
        raise WeightsImportError(f"{what}: unusable configuration ({exc})") from None


# ---------------------------------------------------------------------------------------------
# The strict converter.


def _plan(module: torch.nn.Module, rules, what: str) -> dict[str, tuple[str, Reshape, tuple]]:
    """engine name -> (official name, reshape, engine shape) for every engine tensor."""
    compiled = [(re.compile(pattern), name, reshape) for pattern, name, reshape in rules]
    plan = {}
    for key, tensor in module.state_dict().items():
        for pattern, name, reshape in compiled:
            if m := pattern.fullmatch(key):
                plan[key] = (name(m), reshape, tuple(tensor.shape))
                break
        else:  # the engine grew a tensor the official layout has no source for
            raise WeightsImportError(f"{what}: the engine model's {key!r} has no official source")
    return plan


def _listing(title: str, items: list[str], limit: int = 6) -> str:
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return f"{title} ({len(items)}): {', '.join(items[:limit])}{more}"


def check_layout(
    flat: Flat, module: torch.nn.Module, rules, what: str, heads: int = 1
) -> dict[str, tuple[str, Reshape, tuple]]:
    """Check an official flat tree against ``module`` without converting anything.

    Returns:
        The plan: engine name -> (official name, reshape, engine shape).

    Raises:
        WeightsImportError: listing every missing, unexpected, mis-shaped or non-float leaf.
    """
    plan = _plan(module, rules, what)
    wanted = {src: reshape.source_shape(shape, heads) for src, reshape, shape in plan.values()}
    missing = sorted(k for k in wanted if k not in flat)
    unexpected = sorted(k for k in flat if k not in wanted)
    bad: list[str] = []
    for source, shape in wanted.items():
        value = flat.get(source)
        if value is None:
            continue
        if not isinstance(value, np.ndarray) or value.dtype.kind not in _FLOAT_KINDS:
            bad.append(f"{source} is {getattr(value, 'dtype', type(value).__name__)}, not float")
        elif value.shape != shape:
            bad.append(f"{source} has shape {value.shape}, expected {shape}")
    if missing or unexpected or bad:
        found = (("missing", missing), ("unexpected", unexpected), ("wrong", bad))
        parts = [_listing(title, items) for title, items in found if items]
        raise WeightsImportError(f"{what} does not match the official layout; " + "; ".join(parts))
    return plan


def convert_state(
    flat: Flat, module: torch.nn.Module, rules, what: str, heads: int = 1
) -> dict[str, torch.Tensor]:
    """Check, then convert an official flat tree into ``module``'s state dict (float32).

    Leaves are POPPED from ``flat`` as they are converted (leaf by leaf, bounded memory).
    """
    plan = check_layout(flat, module, rules, what, heads)
    state: dict[str, torch.Tensor] = {}
    for key, (source, reshape, shape) in plan.items():
        # One owned, contiguous float32 copy; the popped source is freed right after.
        array = np.array(reshape.convert(flat.pop(source)), dtype=np.float32, order="C")
        if not np.isfinite(array).all():
            raise WeightsImportError(f"{what}: {source} contains NaN or infinite values")
        tensor = torch.from_numpy(array)
        assert tuple(tensor.shape) == shape, (key, tensor.shape, shape)
        state[key] = tensor
    return state


class _SkipInit(TorchFunctionMode):
    """Skips initialisation while reference modules are built: ``torch.nn.init`` calls and
    in-place tensor ops (``div_``, ``normal_``, ...) return their tensor, random factories
    return ``torch.empty``. On the meta device those ops run Python meta kernels whose first
    use imports sympy (and torch._dynamo): seconds of start-up for values thrown away."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if getattr(func, "__module__", None) == "torch.nn.init":
            return args[0] if args else kwargs["tensor"]
        in_place = name.endswith("_") and not name.startswith("_")
        if in_place and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            return args[0]  # in-place initialisation of a meta tensor
        if func in (torch.randn, torch.rand):
            kwargs.pop("generator", None)
            return torch.empty(*args, **kwargs)
        return func(*args, **kwargs)


def _on_meta(cls, config):
    """``cls(config)`` with meta tensors and no initialisation (shapes only)."""
    with torch.device("meta"), _SkipInit():
        return cls(config)


def _build(cls, config, state: dict[str, torch.Tensor]):
    module = _on_meta(cls, config)  # no random init: the converted tensors are assigned as-is
    module.load_state_dict(state, strict=True, assign=True)
    return module.eval()


def params_of(tree: dict[str, Any], what: str) -> dict[str, Any]:
    """The parameter subtree of a checkpoint: ``tree["params"]`` (or an old optimizer's target)."""
    node = tree
    for key in ("target", "params"):  # flax optimizer states wrap params in "target"
        if isinstance(node, dict) and isinstance(node.get(key), dict):
            node = node[key]
    if node is tree and not any(k in tree for k in ("encoder", "Embed_0")):
        raise WeightsImportError(f"{what} has no 'params' (top-level keys: {sorted(tree)[:8]})")
    ignored = sorted(set(tree) - {"params", "target"}) if node is not tree else []
    if ignored:
        log.info("%s: ignoring non-parameter entries %s", what, ignored)
    return node


def check_kind(flat: Flat, expected: str, what: str) -> None:
    """Catch swapped --tokenizer / --transformer files with a message that says so."""
    is_tokenizer = any(k.startswith(("encoder/", "decoder/", "quantizer/")) for k in flat)
    is_transformer = any(k.startswith(("Embed_0/", "TransformerLayer_")) for k in flat)
    found = (
        "tokenizer"
        if is_tokenizer and not is_transformer
        else "transformer"
        if is_transformer and not is_tokenizer
        else None
    )
    if found is not None and found != expected:
        raise WeightsImportError(
            f"{what} is a MaskGIT {found} checkpoint, not a {expected} one "
            "(are --tokenizer and --transformer swapped?)"
        )  # fmt: skip


def convert_official(
    tokenizer_flat: Flat,
    transformer_flat: Flat,
    num_heads: int | None = None,
) -> tuple[Tokenizer, MaskGitTransformer]:
    """Build engine models from flattened official param trees (both are consumed).

    Args:
        tokenizer_flat: "encoder/Conv_0/kernel" -> array, the tokenizer's params.
        transformer_flat: "Embed_0/word_embeddings/embedding" -> array, the transformer's params.
        num_heads: attention heads, when the kernels do not show them.

    Returns:
        (tokenizer, transformer) in eval mode on the CPU, float32.
    """
    check_kind(tokenizer_flat, "tokenizer", "the tokenizer file")
    check_kind(transformer_flat, "transformer", "the transformer file")
    codebook_size = _shape(tokenizer_flat, "quantizer/codebook", "tokenizer checkpoint")[0]
    tr_cfg = infer_transformer_config(transformer_flat, codebook_size, num_heads)
    levels = _indices(tokenizer_flat, "decoder/Conv_", "tokenizer checkpoint") - 1
    image_size = tr_cfg.grid_size * 2 ** max(levels - 1, 0)
    tok_cfg = infer_tokenizer_config(tokenizer_flat, image_size)
    log.info("official tokenizer: %s", tok_cfg)
    log.info("official transformer: %s", tr_cfg)

    tok_ref, tr_ref = _on_meta(Tokenizer, tok_cfg), _on_meta(MaskGitTransformer, tr_cfg)
    tok_state = convert_state(
        tokenizer_flat, tok_ref, tokenizer_rules(tok_cfg), "the tokenizer checkpoint"
    )
    tr_state = convert_state(
        transformer_flat,
        tr_ref,
        transformer_rules(),
        "the transformer checkpoint",
        tr_cfg.num_heads,
    )
    return _build(Tokenizer, tok_cfg, tok_state), _build(MaskGitTransformer, tr_cfg, tr_state)


__all__ = [
    "convert_official",
    "check_layout",
    "convert_state",
    "infer_tokenizer_config",
    "infer_transformer_config",
    "params_of",
    "tokenizer_rules",
    "transformer_rules",
]
