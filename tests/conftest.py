"""Shared test setup: headless Qt, few threads, tiny seeded models."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("MASKGIT_TEST_THREADS", "1")))

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from maskgit_studio.engine.checkpoint import save_bundle  # noqa: E402
from maskgit_studio.engine.config import TokenizerConfig, TransformerConfig  # noqa: E402
from maskgit_studio.engine.transformer import MaskGitTransformer  # noqa: E402
from maskgit_studio.engine.vqgan import Tokenizer  # noqa: E402

TINY_CLASSES = ["circle", "square", "triangle"]


def tiny_configs(
    image_size: int = 64, null_class: bool = True
) -> tuple[TokenizerConfig, TransformerConfig]:
    """A 64 px 'fast' tokenizer with f = 8 (8x8 tokens) and a 2-layer transformer."""
    tok = TokenizerConfig(
        arch="fast",
        image_size=image_size,
        base_channels=16,
        channel_mult=(1, 2),
        unshuffle_factors=(4, 2),
        num_res_blocks=1,
        codebook_size=64,
        code_dim=8,
        norm_groups=8,
    )
    tr = TransformerConfig(
        codebook_size=64,
        num_classes=len(TINY_CLASSES),
        has_null_class=null_class,
        grid_size=tok.grid_size,
        hidden_size=32,
        num_layers=2,
        num_heads=2,
        mlp_size=64,
        dropout=0.0,
    )
    return tok, tr


def make_tiny_models(
    seed: int = 0, null_class: bool = True
) -> tuple[Tokenizer, MaskGitTransformer]:
    torch.manual_seed(seed)
    tok_cfg, tr_cfg = tiny_configs(null_class=null_class)
    return Tokenizer(tok_cfg).eval(), MaskGitTransformer(tr_cfg).eval()


@pytest.fixture(scope="session")
def tiny_bundle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded random-weight tiny model saved as a real .safetensors bundle."""
    tokenizer, transformer = make_tiny_models(seed=0)
    path = tmp_path_factory.mktemp("models") / "tiny.safetensors"
    return save_bundle(path, tokenizer, transformer, TINY_CLASSES, {"recipe": "tiny-test"})


@pytest.fixture(scope="session")
def tiny_bundle_no_null_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer, transformer = make_tiny_models(seed=1, null_class=False)
    path = tmp_path_factory.mktemp("models") / "tiny-nonull.safetensors"
    return save_bundle(path, tokenizer, transformer, TINY_CLASSES, {"recipe": "tiny-test"})
