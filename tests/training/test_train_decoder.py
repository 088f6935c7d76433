"""Decoder stage: the decoder alone changes (tokens kept), the GAN starts after the critic's
warm-up, the export takes the sharpened tokenizer, and the adaptive weight balances gradients."""

from __future__ import annotations

import pytest
import torch

from maskgit_studio.engine.checkpoint import load_bundle
from training.cli import main
from training.distributed import DistContext
from training.progress import read_metrics
from training.recipes import load_recipe
from training.train_decoder import FINAL_FILE, adaptive_weight, train_decoder
from training.train_tokenizer import FINAL_FILE as TOKENIZER_FILE
from training.train_tokenizer import load_tokenizer, train_tokenizer

CTX = DistContext()
DECODER = ["decoder.steps=6"]


def _tiny(tmp_path, *overrides):
    recipe = load_recipe("tiny", [*DECODER, *overrides])
    train_tokenizer(recipe, tmp_path, CTX)
    return recipe


def test_decoder_stage_changes_only_the_decoder_and_keeps_every_token(tmp_path):
    recipe = _tiny(tmp_path)
    status = train_decoder(recipe, tmp_path, CTX)
    assert status["complete"] and status["step"] == 6
    before, _ = load_tokenizer(tmp_path / "tokenizer" / TOKENIZER_FILE)
    after, info = load_tokenizer(tmp_path / "decoder" / FINAL_FILE)
    old, new = before.state_dict(), after.state_dict()
    changed = {k for k in old if not torch.equal(old[k], new[k])}
    assert changed and all(k.startswith("decoder.") for k in changed)
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert torch.equal(before.encode_to_indices(images), after.encode_to_indices(images))
    # The file keeps the tokenizer's record, with the decoder stage's as an entry.
    assert info["step"] == recipe["tokenizer"]["steps"] and info["decoder"]["step"] == 6
    assert {"psnr", "edge_energy"} <= set(info["decoder"]["metrics"])


def test_decoder_trains_only_after_the_discriminator_warm_up(tmp_path):
    recipe = _tiny(tmp_path, "decoder.log_every=1")
    train_decoder(recipe, tmp_path, CTX)
    train = [
        r for r in read_metrics(tmp_path / "decoder" / "metrics.jsonl") if r["kind"] == "train"
    ]
    assert all("d_loss" in r for r in train)
    # Log line n reports step n - 1: steps 0-2 are the critic's alone.
    assert not any("g_adv" in r for r in train if r["step"] <= 3)
    assert all("g_adv" in r and r["lambda"] >= 0 for r in train if r["step"] > 3)


def test_without_an_adversarial_weight_the_decoder_trains_from_the_first_step_and_no_critic(
    tmp_path,
):
    recipe = _tiny(tmp_path, "decoder.log_every=1", "decoder.adversarial=0")
    status = train_decoder(recipe, tmp_path, CTX)
    assert status["complete"]
    train = [
        r for r in read_metrics(tmp_path / "decoder" / "metrics.jsonl") if r["kind"] == "train"
    ]
    assert train and all("l1" in r and "d_loss" not in r and "g_adv" not in r for r in train)
    before, _ = load_tokenizer(tmp_path / "tokenizer" / TOKENIZER_FILE)
    after, _ = load_tokenizer(tmp_path / "decoder" / FINAL_FILE)
    old, new = before.decoder.state_dict(), after.decoder.state_dict()
    assert any(not torch.equal(old[k], new[k]) for k in old)  # trained despite the warm-up key


def test_all_runs_the_decoder_stage_and_export_takes_it_unless_told_plain(tmp_path):
    out = str(tmp_path / "run")
    sets = [a for kv in DECODER for a in ("--set", kv)]
    assert main(["all", "--recipe", "tiny", "--out", out, *sets]) == 0
    sharp = load_bundle(tmp_path / "run" / "model.safetensors")
    assert sharp.provenance["training"]["decoder_steps"] == 6
    assert "decoder" in sharp.provenance["metrics"]
    plain_path = tmp_path / "plain.safetensors"
    assert main(["export", "--recipe", "tiny", "--out", out, "--output", str(plain_path), *sets, "--plain-decoder"]) == 0  # fmt: skip
    plain = load_bundle(plain_path)
    assert "decoder_steps" not in plain.provenance["training"]
    own, _ = load_tokenizer(tmp_path / "run" / "tokenizer" / TOKENIZER_FILE)
    stored = sharp.provenance["recipe"]["export"]["dtype"]  # the bundle's storage type
    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(stored, torch.float32)

    def same_decoder(bundle) -> bool:
        theirs = bundle.tokenizer.decoder.state_dict()
        return all(torch.equal(v.to(dtype).float(), theirs[k].float()) for k, v in own.decoder.state_dict().items())  # fmt: skip

    assert same_decoder(plain) and not same_decoder(sharp)


def test_adaptive_weight_is_the_ratio_of_gradient_norms():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    pixel = (3.0 * w).sum()  # gradient (3, 3), norm 4.243
    gan = (0.5 * w).sum()  # gradient (0.5, 0.5), norm 0.707
    assert float(adaptive_weight(pixel, gan, w)) == pytest.approx(6.0, rel=1e-3)


def test_recipe_refuses_a_decoder_warm_start():
    with pytest.raises(ValueError, match="decoder.init_from"):
        load_recipe("tiny", ['decoder.init_from="x.safetensors"'])


def test_full_resolution_critic_keeps_the_patch_grid():
    from training.discriminator import PatchDiscriminator

    images = torch.rand(2, 3, 32, 32)
    plain, full = PatchDiscriminator(8), PatchDiscriminator(8, full_resolution=True)
    assert plain(images).shape == full(images).shape == (2, 1, 4, 4)
    assert len(full.net) == len(plain.net) + 2
