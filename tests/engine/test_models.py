"""Model shapes, the official 256 configuration, and the architectural quirks."""

import math

import pytest
import torch

from maskgit_studio.engine.config import TokenizerConfig, TransformerConfig
from maskgit_studio.engine.transformer import MaskGitTransformer
from maskgit_studio.engine.vqgan import ResBlock, Tokenizer
from tests.conftest import tiny_configs


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_official_transformer_256_shapes_and_count():
    cfg = TransformerConfig()  # the defaults are the official ImageNet 256 model
    assert cfg.vocab_size == 2025 and cfg.mask_id == 2024 and cfg.seq_len == 257
    assert cfg.class_token_id(0) == 1024 and cfg.null_class_id is None
    with torch.device("meta"):
        model = MaskGitTransformer(cfg)
    assert abs(n_params(model) - 172.5e6) < 0.1e6
    state = model.state_dict()
    assert state["word_embeddings.weight"].shape == (2025, 768)
    assert state["position_embeddings.weight"].shape == (257, 768)
    assert state["layers.23.intermediate.weight"].shape == (3072, 768)
    assert state["mlm_bias"].shape == (2025,)
    assert model.layers[0].attention_ln.eps == 1e-12


def test_official_tokenizer_256_layout():
    cfg = TokenizerConfig()
    assert cfg.downsample_factor == 16 and cfg.grid_size == 16
    with torch.device("meta"):
        tok = Tokenizer(cfg)
    state = tok.state_dict()
    assert state["quantizer.codebook"].shape == (1024, 256)
    assert state["encoder.conv_in.weight"].shape == (128, 3, 3, 3)
    assert "encoder.conv_in.bias" not in state  # no bias on the first conv
    assert "encoder.res_blocks.0.conv1.bias" not in state
    # The 1x1 shortcuts sit on the width-changing blocks 4 (128->256) and 8 (256->512).
    shortcuts = sorted(k for k in state if "encoder" in k and "shortcut" in k)
    assert shortcuts == [
        "encoder.res_blocks.4.shortcut.weight",
        "encoder.res_blocks.8.shortcut.weight",
    ]
    assert state["encoder.conv_out.weight"].shape == (256, 512, 1, 1)
    assert len(tok.decoder.res_blocks) == 12 and len(tok.decoder.up_convs) == 4
    assert state["decoder.conv_out.weight"].shape == (3, 128, 3, 3)
    assert tok.encoder.res_blocks[0].norm1.eps == 1e-6
    assert tok.encoder.res_blocks[0].norm1.num_groups == 32


def test_official_tokenizer_round_trip_shapes_at_small_width():
    cfg = TokenizerConfig(image_size=64, base_channels=32, code_dim=16, codebook_size=32)
    tok = Tokenizer(cfg).eval()
    ids = tok.encode_to_indices(torch.rand(2, 3, 64, 64))
    assert ids.shape == (2, 4, 4) and ids.dtype == torch.int64
    images = tok.decode_indices(ids)
    assert images.shape == (2, 3, 64, 64) and images.min() >= 0 and images.max() <= 1


def test_shortcut_quirk_applies_to_output():
    cfg = TokenizerConfig(base_channels=32, norm_groups=8)
    block = ResBlock(cfg, 8, 16).eval()
    x = torch.randn(1, 8, 6, 6)
    h = block.conv2(
        torch.nn.functional.silu(block.norm2(block.conv1(torch.nn.functional.silu(block.norm1(x)))))
    )
    assert torch.allclose(block(x), h + block.shortcut(h), atol=1e-6)
    usual = ResBlock(
        TokenizerConfig(base_channels=32, norm_groups=8, shortcut_on_output=False), 8, 16
    )
    assert usual.shortcut.in_channels == 8


def test_post_layernorm_and_tanh_gelu():
    _, cfg = tiny_configs()
    model = MaskGitTransformer(cfg).eval()
    layer = model.layers[0]
    x = torch.randn(2, cfg.seq_len, cfg.hidden_size)
    a = layer.attention_ln(x + layer.attention(x))
    m = layer.intermediate(a)
    gelu = 0.5 * m * (1 + torch.tanh(math.sqrt(2 / math.pi) * (m + 0.044715 * m**3)))
    expected = layer.output_ln(a + layer.output(gelu))
    assert torch.allclose(layer(x), expected, atol=1e-5)


def test_tied_head_and_image_logits_agree():
    _, cfg = tiny_configs()
    model = MaskGitTransformer(cfg).eval()
    ids = torch.randint(0, cfg.codebook_size, (2, cfg.seq_len))
    ids[:, 0] = cfg.class_token_id(1)
    full = model(ids)
    assert full.shape == (2, cfg.seq_len, cfg.vocab_size)
    h = model.hidden_states(ids)
    assert torch.allclose(full, h @ model.word_embeddings.weight.T + model.mlm_bias, atol=1e-5)
    assert torch.allclose(model.image_logits(ids), full[:, 1:, : cfg.codebook_size], atol=1e-5)


def test_vocab_layout_with_null_class():
    _, cfg = tiny_configs(null_class=True)
    assert cfg.null_class_id == cfg.codebook_size + cfg.num_classes
    assert cfg.mask_id == cfg.vocab_size - 1 == cfg.null_class_id + 1
    with pytest.raises(ValueError, match="out of range"):
        cfg.class_token_id(cfg.num_classes)


def test_fast_tokenizer_shapes_and_bad_input():
    tok_cfg, _ = tiny_configs()
    tok = Tokenizer(tok_cfg).eval()
    assert tok.downsample_factor == 8
    ids = tok.encode_to_indices(torch.rand(1, 3, 64, 96))  # non-square works
    assert ids.shape == (1, 8, 12)
    assert tok.decode_indices(ids).shape == (1, 3, 64, 96)
    with pytest.raises(ValueError, match="multiple of 8"):
        tok.encode_to_indices(torch.rand(1, 3, 60, 64))
    with pytest.raises(ValueError, match="token ids"):
        tok.decode_indices(torch.full((1, 2, 2), 64))
