"""Official MaskGIT checkpoints -> studio bundle: every tensor in its place, checked by running
the converted modules against numpy written directly from the official source arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from maskgit_studio.engine.checkpoint import load_bundle
from maskgit_studio.engine.config import TokenizerConfig, TransformerConfig
from maskgit_studio.engine.importers import (
    WeightsImportError,
    imagenet_class_names,
    import_official,
)
from maskgit_studio.engine.importers.flax_msgpack import (
    flatten_tree,
    write_flax_msgpack,
)
from maskgit_studio.engine.importers.official import (
    check_layout,
    convert_official,
    infer_transformer_config,
    transformer_rules,
)
from maskgit_studio.engine.transformer import MaskGitTransformer

from .official_trees import (
    TokShape,
    TrShape,
    decoder_nhwc,
    encoder_nhwc,
    res_block_nhwc,
    tokenizer_tree,
    transformer_logits,
    transformer_tree,
)

# f = 4, three levels, two blocks per level: width changes (the shortcut quirk) in both halves.
SMALL_TOK = TokShape(
    filters=32, channel_multipliers=(1, 2, 2), num_res_blocks=2, embedding_dim=8, codebook_size=16
)
# 1000 classes so the bundle carries the ImageNet names; vocab = 16 codes + 1000 + mask.
SMALL_TR = TrShape(vocab_size=1017, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64, latent_size=4)  # fmt: skip


def nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).float()


@pytest.fixture(scope="module")
def small_trees():
    return tokenizer_tree(SMALL_TOK, seed=1), transformer_tree(SMALL_TR, seed=2)


@pytest.fixture(scope="module")
def small_files(small_trees, tmp_path_factory):
    folder = tmp_path_factory.mktemp("official")
    tok_tree, tr_tree = small_trees
    write_flax_msgpack(folder / "tokenizer_imagenet64_checkpoint", tok_tree, chunk_bytes=4096)
    write_flax_msgpack(folder / "maskgit_imagenet64_checkpoint", tr_tree)
    return folder / "tokenizer_imagenet64_checkpoint", folder / "maskgit_imagenet64_checkpoint"


@pytest.fixture(scope="module")
def imported(small_files, tmp_path_factory):
    dest = tmp_path_factory.mktemp("models")
    result = import_official(*small_files, name="small-official", dest_dir=dest)
    return result, load_bundle(result.path)


def test_import_writes_a_bundle_with_inferred_configs(imported, small_files):
    result, bundle = imported
    assert result.path.name == "small-official.safetensors" and result.image_size == 16
    tok, tr = bundle.tokenizer_config, bundle.transformer_config
    assert tok == TokenizerConfig(
        image_size=16, base_channels=32, channel_mult=(1, 2, 2), num_res_blocks=2,
        codebook_size=16, code_dim=8,
    )  # fmt: skip
    assert tok.shortcut_on_output and not tok.conv_bias and tok.norm_groups == 32
    assert (tr.num_classes, tr.num_heads, tr.num_layers, tr.grid_size) == (1000, 4, 2, 4)
    assert tr.mask_id == 1016 and tr.class_token_id(0) == 16  # last row; classes after codes
    assert bundle.class_names == imagenet_class_names()
    assert bundle.provenance["source"] == "official maskgit"
    files = bundle.provenance["files"]
    assert (
        files["tokenizer"]["name"] == small_files[0].name
        and len(files["transformer"]["sha256"]) == 64
    )
    assert result.parameters == bundle.parameter_count()


def test_tokenizer_matches_numpy_reference(imported, small_trees):
    _, bundle = imported
    params = small_trees[0]["params"]
    rng = np.random.default_rng(3)
    image = rng.random((2, 16, 16, 3))
    with torch.no_grad():
        latents = bundle.tokenizer.encode(nchw(image)).numpy()
        want = encoder_nhwc(image, params["encoder"], SMALL_TOK).transpose(0, 3, 1, 2)
        np.testing.assert_allclose(latents, want, rtol=1e-4, atol=1e-4)

        ids = rng.integers(0, 16, (2, 4, 4))
        codes = params["quantizer"]["codebook"][ids]  # (B, h, w, D): official decode_ids
        out = bundle.tokenizer.decode(bundle.tokenizer.quantizer.lookup(torch.from_numpy(ids)))
        want = decoder_nhwc(codes.astype(np.float64), params["decoder"], SMALL_TOK)
        np.testing.assert_allclose(out.numpy(), want.transpose(0, 3, 1, 2), rtol=1e-4, atol=1e-4)

        # Nearest code by squared distance, as the official VectorQuantizer.
        flat = want_latents = encoder_nhwc(image, params["encoder"], SMALL_TOK)
        d = ((flat[..., None, :] - params["quantizer"]["codebook"]) ** 2).sum(-1)
        np.testing.assert_array_equal(
            bundle.tokenizer.encode_to_indices(nchw(image)).numpy(), d.argmin(-1)
        )
        assert want_latents.shape == (2, 4, 4, 8)


def test_transformer_matches_numpy_reference(imported, small_trees):
    _, bundle = imported
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 16, (2, 17))
    ids[:, 0] = [16 + 207, 16 + 980]  # class tokens: label + codebook size
    ids[0, 5:9] = 1016  # some masked positions
    with torch.no_grad():
        logits = bundle.transformer(torch.from_numpy(ids)).numpy()
    want = transformer_logits(ids, small_trees[1]["params"])
    np.testing.assert_allclose(logits, want, rtol=1e-4, atol=2e-4)


def test_every_source_array_is_used_exactly(small_trees):
    """Direct tensor checks for the layouts: conv HWIO -> OIHW, Dense.T, head reshapes."""
    tok_flat, tr_flat = (flatten_tree(t["params"]) for t in small_trees)
    tok_src, tr_src = dict(tok_flat), dict(tr_flat)
    tokenizer, transformer = convert_official(tok_flat, tr_flat)
    assert not tok_flat and not tr_flat  # consumed leaf by leaf
    tok, tr = tokenizer.state_dict(), transformer.state_dict()
    kernel = tok_src["encoder/ResBlock_2/Conv_2/kernel"]  # the encoder's 1x1 shortcut
    np.testing.assert_array_equal(
        tok["encoder.res_blocks.2.shortcut.weight"], kernel.transpose(3, 2, 0, 1)
    )
    np.testing.assert_array_equal(
        tok["decoder.up_convs.1.weight"], tok_src["decoder/Conv_2/kernel"].transpose(3, 2, 0, 1)
    )
    np.testing.assert_array_equal(tok["decoder.conv_out.bias"], tok_src["decoder/Conv_3/bias"])
    np.testing.assert_array_equal(
        tok["decoder.res_blocks.6.norm1.weight"], tok_src["decoder/ResBlock_6/GroupNorm_0/scale"]
    )
    q = tr_src["TransformerLayer_1/Attention_0/self_attention/query/kernel"]  # (C, nh, hs)
    np.testing.assert_array_equal(tr["layers.1.attention.query.weight"], q.reshape(32, 32).T)
    out = tr_src["TransformerLayer_0/Attention_0/self_attention/out/kernel"]  # (nh, hs, C)
    np.testing.assert_array_equal(tr["layers.0.attention.out.weight"], out.reshape(32, 32).T)
    np.testing.assert_array_equal(
        tr["layers.0.intermediate.weight"],
        tr_src["TransformerLayer_0/Mlp_0/intermediate_output/kernel"].T,
    )
    np.testing.assert_array_equal(tr["mlm_bias"], tr_src["MlmLayer_0/mlm_bias/bias"])
    assert sum(v.numel() for v in tok.values()) == sum(a.size for a in tok_src.values())
    assert sum(v.numel() for v in tr.values()) == sum(a.size for a in tr_src.values())  # fmt: skip


@pytest.mark.slow
def test_full_size_tokenizer_layers():
    """The real 256/512 tokenizer layout (54M values) converted, with layer checks."""
    tok_tree = tokenizer_tree(TokShape(), seed=5, fast=True)
    tr_shape = TrShape(
        hidden_size=32, num_layers=1, num_heads=2, intermediate_size=32, latent_size=2
    )
    tok_flat, tr_flat = (
        flatten_tree(tok_tree["params"]),
        flatten_tree(transformer_tree(tr_shape)["params"]),
    )
    tokenizer, transformer = convert_official(tok_flat, tr_flat)
    assert tokenizer.config == TokenizerConfig(image_size=32)  # the official config, at 2x2 tokens
    assert transformer.config.mask_id == 2024 and transformer.config.class_token_id(0) == 1024
    assert sum(p.numel() for p in tokenizer.parameters()) == 54_515_587
    enc, dec = tok_tree["params"]["encoder"], tok_tree["params"]["decoder"]
    rng = np.random.default_rng(6)
    with torch.no_grad():
        for module, params, width in (
            (tokenizer.encoder.res_blocks[4], enc["ResBlock_4"], 128),  # 128 -> 256, shortcut
            (tokenizer.encoder.res_blocks[11], enc["ResBlock_11"], 512),  # last middle block
            (tokenizer.decoder.res_blocks[8], dec["ResBlock_8"], 256),  # 256 -> 128, shortcut
        ):
            x = rng.standard_normal((1, 4, 4, width))
            got = module(nchw(x)).numpy()
            np.testing.assert_allclose(
                got, res_block_nhwc(x, params).transpose(0, 3, 1, 2), rtol=1e-3, atol=1e-3
            )
        np.testing.assert_array_equal(
            tokenizer.decoder.conv_out.weight, dec["Conv_5"]["kernel"].transpose(3, 2, 0, 1)
        )
        np.testing.assert_array_equal(tokenizer.decoder.up_convs[3].bias, dec["Conv_4"]["bias"])  # fmt: skip


@pytest.mark.parametrize("size", [256, 512])
def test_full_size_transformer_layout_and_config(size):
    """Zero-stride arrays with the official 256/512 shapes pass the strict check (no memory)."""
    grid = size // 16
    shapes = {
        "Embed_0/word_embeddings/embedding": (2025, 768),
        "Embed_0/position_embeddings/embedding": (grid * grid + 1, 768),
        "Embed_0/embeddings_ln/scale": (768,),
        "Embed_0/embeddings_ln/bias": (768,),
        "MlmLayer_0/mlm_dense/kernel": (768, 768),
        "MlmLayer_0/mlm_dense/bias": (768,),
        "MlmLayer_0/mlm_ln/scale": (768,),
        "MlmLayer_0/mlm_ln/bias": (768,),
        "MlmLayer_0/mlm_bias/bias": (2025,),
    }
    for i in range(24):
        a, m = f"TransformerLayer_{i}/Attention_0/", f"TransformerLayer_{i}/Mlp_0/"
        for name in ("query", "key", "value"):
            shapes[f"{a}self_attention/{name}/kernel"] = (768, 16, 48)
            shapes[f"{a}self_attention/{name}/bias"] = (16, 48)
        shapes[f"{a}self_attention/out/kernel"] = (16, 48, 768)
        shapes[f"{a}self_attention/out/bias"] = (768,)
        for ln in (f"{a}attention_output_ln", f"{m}layer_output_ln"):
            shapes[f"{ln}/scale"] = shapes[f"{ln}/bias"] = (768,)
        shapes[f"{m}intermediate_output/kernel"], shapes[f"{m}intermediate_output/bias"] = (
            (768, 3072),
            (3072,),
        )
        shapes[f"{m}layer_output/kernel"], shapes[f"{m}layer_output/bias"] = (3072, 768), (768,)
    flat = {k: np.broadcast_to(np.float32(0), s) for k, s in shapes.items()}
    config = infer_transformer_config(flat, codebook_size=1024)
    assert config == TransformerConfig(grid_size=grid)
    with torch.device("meta"):
        model = MaskGitTransformer(config)
    plan = check_layout(flat, model, transformer_rules(), "official", heads=16)
    assert len(plan) == len(flat) == 9 + 24 * 16  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Errors: one clear message, nothing written.


def _broken(small_trees, tmp_path, edit_tok=None, edit_tr=None):
    tok, tr = (flatten_tree(t["params"]) for t in small_trees)
    (edit_tok or (lambda f: None))(tok)
    (edit_tr or (lambda f: None))(tr)
    nest = lambda flat: {"params": _unflatten(flat)}  # noqa: E731
    write_flax_msgpack(tmp_path / "tok", nest(tok))
    write_flax_msgpack(tmp_path / "tr", nest(tr))
    return tmp_path / "tok", tmp_path / "tr"


def _unflatten(flat: dict) -> dict:
    tree: dict = {}
    for key, value in flat.items():
        node = tree
        *parents, leaf = key.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return tree


@pytest.mark.parametrize(
    ("edit_tok", "edit_tr", "message"),
    [
        (lambda f: f.pop("decoder/ResBlock_3/GroupNorm_1/scale"), None, r"missing \(1\): decoder/ResBlock_3/GroupNorm_1/scale"),
        (lambda f: f.update({"encoder/Extra_0/kernel": np.zeros(3, np.float32)}), None, r"unexpected \(1\): encoder/Extra_0/kernel"),
        (None, lambda f: f.update({"Embed_0/embeddings_ln/scale": np.ones(31, np.float32)}), r"embeddings_ln/scale has shape \(31,\), expected \(32,\)"),
        (None, lambda f: f.update({"MlmLayer_0/mlm_bias/bias": np.zeros(1017, np.int32)}), "int32, not float"),
        (lambda f: f["encoder/Conv_0/kernel"].__setitem__((0, 0, 0, 0), np.nan), None, "NaN"),
        (lambda f: f.pop("encoder/Conv_0/kernel"), None, "missing 'encoder/Conv_0/kernel'"),
        (None, lambda f: f.update({"Embed_0/position_embeddings/embedding": np.ones((16, 32), np.float32)}), "not 1 class token"),
    ],
)  # fmt: skip
def test_broken_trees_get_one_clear_error(small_trees, tmp_path, edit_tok, edit_tr, message):
    tok, tr = _broken(small_trees, tmp_path, edit_tok, edit_tr)
    dest = tmp_path / "models"
    with pytest.raises(WeightsImportError, match=message):
        import_official(tok, tr, name="broken", dest_dir=dest)
    assert not dest.exists() or not any(dest.iterdir())


def test_swapped_files_are_named(small_files, tmp_path):
    tok, tr = small_files
    with pytest.raises(WeightsImportError, match="swapped"):
        import_official(tr, tok, dest_dir=tmp_path)


def test_truncated_download(small_files, tmp_path):
    cut = tmp_path / "maskgit_imagenet256_checkpoint"
    cut.write_bytes(small_files[1].read_bytes()[:5000])
    with pytest.raises(WeightsImportError, match="truncated"):
        import_official(small_files[0], cut, dest_dir=tmp_path)


def test_not_a_checkpoint(small_files, tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(WeightsImportError, match="junk"):
        import_official(junk, small_files[1], dest_dir=tmp_path)


def test_names_are_checked_before_the_slow_part(imported, small_files):
    result, _ = imported
    with pytest.raises(WeightsImportError, match="already exists"):
        import_official(*small_files, name="small-official", dest_dir=result.path.parent)
    with pytest.raises(WeightsImportError, match="invalid model name"):
        import_official(*small_files, name="../evil", dest_dir=result.path.parent)
    again = import_official(
        *small_files, name="small-official", dest_dir=result.path.parent, overwrite=True
    )
    assert again.path == result.path
