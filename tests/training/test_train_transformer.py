"""Pretokenize + transformer stages: smoke runs on the tiny recipe and MVTM masking."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from maskgit_studio.engine.checkpoint import load_bundle
from maskgit_studio.engine.config import TransformerConfig
from maskgit_studio.engine.transformer import MaskGitTransformer
from training.distributed import DistContext
from training.export import export_bundle, storage_dtype
from training.pretokenize import load_tokens, pretokenize
from training.progress import read_metrics
from training.recipes import load_recipe
from training.run_state import load_state
from training.stage import open_dataset
from training.train_tokenizer import FINAL_FILE as TOK_FILE
from training.train_tokenizer import load_tokenizer, train_tokenizer
from training.train_transformer import FINAL_FILE, load_transformer, mask_batch, train_transformer

CTX = DistContext()


@pytest.fixture(scope="module")
def tokens_run(tmp_path_factory):
    """A run folder with a trained tiny tokenizer and its tokens."""
    out = tmp_path_factory.mktemp("run")
    recipe = load_recipe("tiny")
    train_tokenizer(recipe, out, CTX)
    status = pretokenize(recipe, out, CTX)
    assert status["complete"]
    return recipe, out


def test_pretokenize_writes_uint16_tokens_labels_and_flipped(tokens_run):
    recipe, out = tokens_run
    data = load_tokens(out, "train")
    n = recipe["pretokenize"]["images"]
    assert data["tokens"].shape == (n, 4, 4) and data["tokens"].dtype == np.uint16
    assert data["flipped"].shape == (n, 4, 4) and data["labels"].shape == (n,)
    meta = data["meta"]
    assert meta["counts"] == [n, recipe["pretokenize"]["held_out"]]
    assert meta["grid_size"] == 4 and meta["codebook_size"] == 32
    assert len(meta["class_names"]) == 12
    # Rows are exactly the tokenizer's tokens of dataset items (and of their mirror images).
    tokenizer, _ = load_tokenizer(out / "tokenizer" / TOK_FILE)
    dataset = open_dataset(recipe, train=True, length=n)
    images = torch.stack([dataset[i][0] for i in range(3)])
    labels = [dataset[i][1] for i in range(3)]
    with torch.no_grad():
        assert np.array_equal(tokenizer.encode_to_indices(images).numpy(), data["tokens"][:3])
        flipped = tokenizer.encode_to_indices(images.flip(-1)).numpy()
    assert np.array_equal(flipped, data["flipped"][:3])
    assert data["labels"][:3].tolist() == labels
    val = load_tokens(out, "val")
    assert val["tokens"].shape == (recipe["pretokenize"]["held_out"], 4, 4)
    # Done stays done; a changed request redoes the work.
    again = pretokenize(recipe, out, CTX)
    assert again["meta"]["seconds"] == meta["seconds"]


def test_transformer_smoke_run_exports_ema_weights(tokens_run):
    recipe, out = tokens_run
    status = train_transformer(recipe, out, CTX)
    steps = recipe["transformer"]["steps"]
    assert status["complete"] and status["step"] == steps
    model, info = load_transformer(out / "transformer" / FINAL_FILE)
    assert model.config.has_null_class and model.config.num_classes == 12
    assert info["metrics"]["masked_ce"] > 0 and 0 <= info["metrics"]["masked_acc"] <= 1
    records = read_metrics(out / "transformer" / "metrics.jsonl")
    assert any(r["kind"] == "train" and r["seq_per_s"] >= 0 for r in records)
    assert [r["step"] for r in records if r["kind"] == "eval"] == [6, 12]
    ids = torch.full((2, model.config.seq_len), model.config.mask_id)
    ids[:, 0] = model.config.null_class_id
    assert model.image_logits(ids).shape == (2, 16, 32)


def test_a_stopped_stage_exports_from_its_checkpoint(tokens_run, tmp_path):
    recipe, done = tokens_run
    out = tmp_path / "run"
    for part in ("tokenizer", "tokens"):
        shutil.copytree(done / part, out / part)
    status = train_transformer(recipe, out, CTX, stop_at_step=4)
    assert not status["complete"] and not (out / "transformer" / FINAL_FILE).exists()
    with pytest.raises(FileNotFoundError, match="transformer"):
        export_bundle(recipe, out)
    path = export_bundle(recipe, out, tmp_path / "look.safetensors", from_checkpoint=True)
    bundle = load_bundle(path)
    state = load_state(out / "transformer" / "state.pt")
    stored = storage_dtype(recipe["export"]["dtype"])
    for name, value in bundle.transformer.state_dict().items():  # the EMA weights, as stored
        torch.testing.assert_close(value, state["ema"][name].to(stored).to(value.dtype))
    assert bundle.provenance["training"]["transformer_steps"] == 4
    assert "not yet finished" in bundle.provenance["training"]["transformer_weights"]


def test_mask_batch_masks_counts_from_the_schedule_and_drops_classes():
    config = TransformerConfig(
        codebook_size=10,
        num_classes=3,
        has_null_class=True,
        grid_size=4,
        hidden_size=8,
        num_layers=1,
        num_heads=1,
        mlp_size=8,
    )
    tokens = torch.randint(10, (256, 16))
    labels = torch.randint(3, (256,))
    gen = torch.Generator().manual_seed(0)
    ids, masked = mask_batch(tokens, labels, config, "cosine", 0.5, gen)
    assert ids.shape == (256, 17)
    assert ((ids[:, 1:] == config.mask_id) == masked).all()
    assert (ids[:, 1:][~masked] == tokens[~masked]).all()
    assert (masked.sum(1) >= 1).all()
    # The cosine schedule masks more than half the tokens on average.
    assert masked.float().mean() > 0.55
    dropped = ids[:, 0] == config.null_class_id
    assert 0.35 < dropped.float().mean() < 0.65
    kept = ~dropped
    assert (ids[kept, 0] == labels[kept] + 10).all()


def test_training_precision_resolves_and_bf16_training_runs(tokens_run, tmp_path):
    """transformer.precision=bf16 trains under CPU autocast; a bad value is refused by name."""
    import copy

    from training.train_transformer import training_precision

    assert training_precision("auto", torch.device("cpu")) == "fp32"
    assert training_precision("auto", torch.device("cuda")) == "bf16"
    # On a CPU, auto asks the engine's probe about the model: the tiny one is too small to
    # measure, so fp32.
    tiny = MaskGitTransformer(TransformerConfig(codebook_size=32, num_classes=3, grid_size=4,
                                                hidden_size=32, num_layers=1, num_heads=2, mlp_size=64))  # fmt: skip
    assert training_precision("auto", torch.device("cpu"), tiny) == "fp32"
    with pytest.raises(ValueError, match="precision"):
        training_precision("fp16", torch.device("cpu"))
    recipe, out = tokens_run
    run = tmp_path / "run"
    shutil.copytree(out / "tokens", run / "tokens")
    bf16 = copy.deepcopy(recipe)
    bf16["transformer"]["precision"] = "bf16"
    bf16["transformer"]["steps"] = 3
    status = train_transformer(bf16, run, CTX)
    assert status["complete"] and status["step"] == 3
    assert np.isfinite(status["metrics"]["masked_ce"])
