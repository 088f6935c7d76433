"""Tokenizer stage: a few-step smoke run on the tiny recipe, EMA-VQ and loss pieces."""

from __future__ import annotations

import pytest
import torch

from maskgit_studio.engine.quantizer import VectorQuantizer
from training.distributed import DistContext
from training.ema_vq import EMACodebook, kmeans
from training.losses import gradient_l1, masked_token_loss, ssim_loss
from training.progress import read_metrics
from training.recipes import load_recipe
from training.train_tokenizer import FINAL_FILE, load_tokenizer, train_tokenizer

CTX = DistContext()


def test_tokenizer_smoke_run_writes_weights_metrics_and_status(tmp_path):
    recipe = load_recipe("tiny")
    status = train_tokenizer(recipe, tmp_path, CTX)
    assert status["complete"] and status["step"] == recipe["tokenizer"]["steps"]
    tokenizer, info = load_tokenizer(tmp_path / "tokenizer" / FINAL_FILE)
    assert info["step"] == recipe["tokenizer"]["steps"]
    images = torch.rand(2, 3, 32, 32)
    ids = tokenizer.encode_to_indices(images)
    assert ids.shape == (2, 4, 4) and int(ids.max()) < 32
    records = read_metrics(tmp_path / "tokenizer" / "metrics.jsonl")
    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    assert train and all(r["img_per_s"] >= 0 for r in train)
    # Held-out PSNR and codebook usage are reported once quantisation is on.
    assert evals[-1]["step"] == recipe["tokenizer"]["steps"]
    assert 0 < evals[-1]["usage"] <= 1 and evals[-1]["psnr"] > 3
    # The adversarial term switched on after its warm-up (step 8 of 12).
    assert any("d_loss" in r for r in train if r["step"] > 8)
    assert not any("d_loss" in r for r in train if r["step"] <= 8)
    # Cumulative dead-code resets are logged once the codebook exists (k-means at step 4).
    assert all("resets" in r for r in train if r["step"] > 4)
    # A second call finds the stage complete and does nothing.
    again = train_tokenizer(recipe, tmp_path, CTX)
    assert again["step"] == status["step"]


def test_kmeans_finds_separated_clusters():
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.1 * torch.randn(50, 2, generator=gen) for c in centres])
    found, counts = kmeans(x, 3, 10, gen)
    dist = torch.cdist(centres, found).min(dim=1).values
    assert (dist < 0.2).all()
    assert sorted(counts.tolist()) == [50, 50, 50]


def test_ema_update_moves_codes_to_assigned_means():
    q = VectorQuantizer(4, 2)
    ema = EMACodebook(q, decay=0.5)
    ema.init_kmeans(torch.randn(64, 2), 3, torch.Generator().manual_seed(0), CTX, 8.0)
    target = torch.tensor([[3.0, -3.0]])
    for _ in range(30):
        ema.update(target.repeat(8, 1), torch.zeros(8, dtype=torch.long), CTX)
    assert torch.allclose(q.codebook[0], target[0], atol=1e-3)
    assert not q.codebook.requires_grad


def test_dead_code_reset_gives_grace_and_does_not_churn():
    q = VectorQuantizer(8, 2)
    ema = EMACodebook(q, decay=0.99, dead_threshold=0.5, max_reset_fraction=0.5)
    ema.init_kmeans(torch.randn(256, 2), 5, torch.Generator().manual_seed(0), CTX, 64.0)
    ema.cluster_size[:] = 8.0
    ema.cluster_size[:2] = 0.0  # two dead codes
    z = torch.randn(64, 2) * 5
    gen = torch.Generator().manual_seed(1)
    assert ema.reset_dead(z, gen, CTX) == 2
    moved = q.codebook[:2].clone()
    # Each reset code now sits on one of the batch vectors...
    assert (moved[:, None] - z[None]).abs().sum(-1).min(dim=1).values.max() < 1e-6
    # ...and is not reset again at the next checks, even if nothing used it meanwhile.
    for _ in range(20):
        ema.update(z[:1].repeat(4, 1), torch.full((4,), 7), CTX)
    assert ema.reset_dead(z, gen, CTX) == 0
    assert torch.allclose(q.codebook[:2], moved, atol=1e-4)


def test_losses_are_zero_for_identical_images_and_positive_otherwise():
    a = torch.rand(2, 3, 16, 16)
    assert gradient_l1(a, a) == 0
    assert ssim_loss(a, a) < 1e-5
    b = a.flip(-1)
    assert gradient_l1(a, b) > 0 and ssim_loss(a, b) > 0.05


def test_masked_token_loss_ignores_unmasked_positions():
    logits = torch.randn(2, 5, 7)
    targets = torch.randint(7, (2, 5))
    masked = torch.tensor([[True, False, True, False, False], [False] * 4 + [True]])
    loss, _ = masked_token_loss(logits, targets, masked)
    changed = logits.clone()
    changed[~masked] = 100.0  # whatever the model says at visible positions
    loss2, _ = masked_token_loss(changed, targets, masked)
    assert torch.allclose(loss, loss2)


def test_recipe_overrides_and_errors():
    recipe = load_recipe("tiny", ["tokenizer.steps=3", "tokenizer.model.channel_mult=[1,4]"])
    assert recipe["tokenizer"]["steps"] == 3
    assert recipe["tokenizer"]["model"]["channel_mult"] == [1, 4]
    with pytest.raises(ValueError, match="unknown recipe key 'tokenizer.stepz'"):
        load_recipe("tiny", ["tokenizer.stepz=3"])
    with pytest.raises(ValueError, match="expects int"):
        load_recipe("tiny", ["tokenizer.steps=many"])
    with pytest.raises(ValueError, match="unknown recipe"):
        load_recipe("no-such-recipe")


def test_data_order_is_a_function_of_the_step_and_epoch_aware():
    from training.stage import EpochIndexed, global_batch_indices

    a = global_batch_indices(3, 10, 4, 2)
    assert torch.equal(a, global_batch_indices(3, 10, 4, 2))
    # Steps 0-4 of batch 4 over 10 items: two whole epochs, each a permutation.
    seen = torch.cat([global_batch_indices(3, 10, 4, s, True) for s in range(5)])
    assert sorted(seen[:10].tolist()) == list(range(10))
    assert sorted(seen[10:].tolist()) == list(range(10, 20))

    class Folder:
        class_names = ("a",)
        epoch = 0

        def __len__(self):
            return 10

        def set_epoch(self, epoch):
            self.epoch = epoch

        def __getitem__(self, i):
            return self.epoch, i

    view = EpochIndexed(Folder())
    assert view[3] == (0, 3) and view[17] == (1, 7)
