"""The decoding step against the official formulas, driven by fake and tiny real models."""

import math

import pytest
import torch

from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.mask_schedule import mask_ratio
from maskgit_studio.engine.sampler import class_conditional_logits, decode_steps, halton_order
from tests.conftest import make_tiny_models

C, N, MASK = 16, 64, 99


def random_logits(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    table = torch.randn(N, C, generator=g) * 3

    def fn(ids: torch.Tensor) -> torch.Tensor:
        return table.expand(ids.shape[0], N, C)

    return fn


def run(ids, config, seed=0, fn=None):
    g = torch.Generator().manual_seed(seed)
    return list(decode_steps(fn or random_logits(), ids, MASK, config, g, grid_shape=(8, 8)))


def test_step_count_and_mask_len_formula():
    cfg = SamplerConfig(steps=8, schedule="cosine")
    ids = torch.full((3, N), MASK)
    steps = run(ids, cfg)
    assert [s.index for s in steps] == list(range(8))
    prev_masked = torch.full((3,), N)
    for s in steps[:-1]:
        expected = math.floor(N * mask_ratio("cosine", (s.index + 1) / 8, N).item())
        expected = torch.clamp(torch.minimum(prev_masked - 1, torch.tensor(expected)), min=1)
        assert torch.equal(s.masked.sum(1), expected)
        assert torch.equal(s.revealed.sum(1), prev_masked - expected)
        prev_masked = s.masked.sum(1)
    last = steps[-1]
    assert not last.masked.any() and (last.ids != MASK).all()
    assert torch.equal(last.ids, last.sampled)


def test_committed_tokens_never_change_and_known_tokens_kept():
    cfg = SamplerConfig(steps=10, schedule="linear")
    ids = torch.full((2, N), MASK)
    ids[:, :20] = torch.arange(20) % C  # known tokens
    steps = run(ids, cfg)
    committed = ids != MASK
    current = ids.clone()
    for s in steps:
        assert torch.equal(s.ids[:, :20], ids[:, :20])
        assert torch.equal(s.sampled[committed], current[committed])
        assert not (s.masked & committed).any()
        assert not (s.revealed & committed).any()
        committed = s.ids != MASK
        current = s.ids
    # N0 counts only unknown tokens: the first step re-masks floor(44 * gamma) of them.
    first = steps[0].masked.sum(1)
    assert first.tolist() == [math.floor(44 * mask_ratio("linear", 0.1, N).item())] * 2


def test_start_iter_skips_early_steps():
    cfg = SamplerConfig(steps=12, start_iter=2)
    ids = torch.full((1, N), MASK)
    ids[:, ::2] = 3
    steps = run(ids, cfg)
    assert [s.index for s in steps] == list(range(2, 12))
    assert not steps[-1].masked.any()


def test_same_seed_same_output_and_seed_matters():
    cfg = SamplerConfig(steps=6, choice_temperature=4.5)
    ids = torch.full((2, N), MASK)
    a, b, c = run(ids, cfg, seed=1), run(ids, cfg, seed=1), run(ids, cfg, seed=2)
    assert all(torch.equal(x.ids, y.ids) for x, y in zip(a, b))
    assert not torch.equal(a[-1].ids, c[-1].ids)


def test_low_choice_temperature_keeps_most_confident():
    cfg = SamplerConfig(steps=4, choice_temperature=0.0)
    steps = run(torch.full((1, N), MASK), cfg)
    s = steps[0]
    kept = s.confidence[s.revealed]
    remasked = s.confidence[s.masked]
    assert kept.min() >= remasked.max()


def test_halton_policy_reveals_in_halton_order():
    cfg = SamplerConfig(steps=5, policy="halton")
    steps = run(torch.full((1, N), MASK), cfg)
    rank = halton_order(8, 8)
    assert sorted(rank.tolist()) == list(range(N))
    revealed_ranks = rank[steps[0].revealed[0]]
    masked_ranks = rank[steps[0].masked[0]]
    assert revealed_ranks.max() < masked_ranks.min()


def test_batched_variations_differ_and_tiny_model_runs():
    _, model = make_tiny_models()
    cfg_model = model.config
    classes = torch.full((4,), cfg_model.class_token_id(1))
    fn = class_conditional_logits(model, classes)
    g = torch.Generator().manual_seed(0)
    ids = torch.full((4, cfg_model.num_image_tokens), cfg_model.mask_id)
    with torch.inference_mode():
        steps = list(decode_steps(fn, ids, cfg_model.mask_id, SamplerConfig(steps=6), g))
    final = steps[-1].ids
    assert final.shape == (4, 64) and final.max() < cfg_model.codebook_size
    assert len({tuple(row.tolist()) for row in final}) == 4


def test_guidance_combines_cond_and_uncond():
    _, model = make_tiny_models()
    cfg = model.config
    classes = torch.full((2,), cfg.class_token_id(0))
    ids = torch.randint(0, cfg.codebook_size, (2, cfg.num_image_tokens))
    guided = class_conditional_logits(model, classes, 2.0, cfg.null_class_id)(ids)
    with torch.inference_mode():
        cond = model.image_logits(torch.cat([classes[:, None], ids], 1))
        uncond = model.image_logits(torch.cat([torch.full((2, 1), cfg.null_class_id), ids], 1))
    assert torch.allclose(guided, cond + 2.0 * (cond - uncond), atol=1e-4)
    with pytest.raises(ValueError, match="no null class"):
        class_conditional_logits(model, classes, 1.0, None)


def test_gumbel_noise_is_finite_with_the_right_mean():
    from maskgit_studio.engine.sampler import gumbel_noise

    g = torch.Generator().manual_seed(0)
    x = gumbel_noise(torch.Size([200000]), g, torch.device("cpu"))
    assert torch.isfinite(x).all()
    assert x.mean().item() == pytest.approx(0.5772, abs=0.01)  # Euler-Mascheroni constant


def official_mask_lens(n0: int, steps: int, schedule: str) -> list[int]:
    """Re-mask counts of the official decode (libml/parallel_decode.py + mask_schedule.py),
    written from its float32 formulas: mask_len = floor(N0 * gamma(ratio; N0)), clamped."""
    import numpy as np

    lens, masked = [], n0
    for t in range(steps - 1):
        ratio = np.float32(t + 1) / np.float32(steps)
        if schedule == "log":
            gamma = -np.log2(ratio) / np.log2(np.float32(n0))
        else:  # exp
            gamma = 1 - np.exp2(-np.log2(np.float32(n0)) * (1 - ratio))
        gamma = np.clip(gamma, 1e-6, 1.0)
        mask_len = int(np.floor(np.float32(n0) * gamma))
        masked = max(1, min(masked - 1, mask_len))
        lens.append(masked)
    return lens


def test_schedule_counts_n0_per_row_like_the_official_decode():
    # The numbers: 256 tokens, 100 masked, T = 12, log schedule.
    n_tokens, steps = 256, 12
    fn_table = torch.randn(n_tokens, C, generator=torch.Generator().manual_seed(0))

    def fn(ids):
        return fn_table.expand(ids.shape[0], n_tokens, C)

    ids = torch.randint(0, C, (2, n_tokens), generator=torch.Generator().manual_seed(1))
    ids[0, :100] = MASK  # row 0: N0 = 100
    ids[1, 50:250] = MASK  # row 1: N0 = 200
    cfg = SamplerConfig(steps=steps, schedule="log")
    g = torch.Generator().manual_seed(0)
    out = list(decode_steps(fn, ids, MASK, cfg, g, grid_shape=(16, 16)))
    remasked = torch.stack([s.masked.sum(1) for s in out[:-1]], dim=1)  # (2, T-1)
    assert remasked[0, :4].tolist() == [53, 38, 30, 23]  # the total-count rule gave 44, 32, 25, 19
    assert remasked[0].tolist() == official_mask_lens(100, steps, "log")
    assert remasked[1].tolist() == official_mask_lens(200, steps, "log")
    assert not out[-1].masked.any()


@pytest.mark.parametrize("schedule", ["log", "exp"])
@pytest.mark.parametrize("n0", [2, 3, 17, 100, 255, 256])
def test_n0_dependent_schedules_match_the_official_counts(schedule, n0):
    steps = 12
    ids = torch.zeros((1, 256), dtype=torch.long)
    ids[0, :n0] = MASK
    g = torch.Generator().manual_seed(0)

    def fn(x):
        return torch.zeros(x.shape[0], 256, C)

    out = list(decode_steps(fn, ids, MASK, SamplerConfig(steps=steps, schedule=schedule), g))
    assert [int(s.masked.sum()) for s in out[:-1]] == official_mask_lens(n0, steps, schedule)


def test_official_mask_id_minus_one_is_accepted():
    # decode_steps: -1 marks unknown positions like the model's mask id.
    ids = torch.full((1, N), MASK)
    ids[0, :10] = -1
    ids[0, 10:20] = 5
    steps = run(ids, SamplerConfig(steps=4))
    assert steps[0].revealed.sum() + steps[0].masked.sum() == N - 10
    assert torch.equal(steps[-1].ids[0, 10:20], torch.full((10,), 5))
    assert (steps[-1].ids >= 0).all() and (steps[-1].ids < C).all()

    # The transformer reads -1 as the mask row (official jnp.take wraps it to vocab - 1).
    _, model = make_tiny_models()
    cfg = model.config
    seq = torch.randint(0, cfg.codebook_size, (2, cfg.seq_len), generator=torch.Generator())
    seq[:, 0] = cfg.class_token_id(0)
    seq[:, 5:30] = cfg.mask_id
    official = seq.clone()
    official[:, 5:30] = -1
    with torch.inference_mode():
        assert torch.equal(model(official), model(seq))
        assert torch.equal(model.image_logits(official), model.image_logits(seq))
        fn = class_conditional_logits(model, torch.full((2,), cfg.class_token_id(0)))
        assert torch.equal(fn(official[:, 1:]), fn(seq[:, 1:]))
        for bad in (-2, cfg.vocab_size):
            wrong = seq.clone()
            wrong[0, 3] = bad
            with pytest.raises(ValueError, match="token ids must be in"):
                model(wrong)
