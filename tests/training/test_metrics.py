"""Metrics against closed forms and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from training.metrics import (
    codebook_usage,
    frechet_distance,
    frechet_distance_from_stats,
    kernel_inception_distance,
    psnr,
    ssim,
)


def test_frechet_distance_of_identical_sets_is_zero():
    x = np.random.default_rng(0).normal(size=(300, 16))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_of_shifted_gaussians_matches_closed_form():
    rng = np.random.default_rng(1)
    n, scale_a, scale_b = 40_000, np.array([1.0, 2.0, 0.5]), np.array([1.5, 1.0, 0.5])
    shift = np.array([1.0, -2.0, 0.5])
    a = rng.normal(size=(n, 3)) * scale_a
    b = rng.normal(size=(n, 3)) * scale_b + shift
    # Diagonal covariances: |dmu|^2 + sum (s_a - s_b)^2.
    expected = float(shift @ shift + ((scale_a - scale_b) ** 2).sum())
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.03)


def test_frechet_distance_from_stats_non_diagonal():
    # With S1 = I, tr((S1 S2)^(1/2)) = sum of sqrt(eig(S2)).
    s2 = np.array([[2.0, 0.8], [0.8, 1.0]])
    eig = np.linalg.eigvalsh(s2)
    expected = 1.0 + 2 + np.trace(s2) - 2 * np.sqrt(eig).sum()
    got = frechet_distance_from_stats(np.zeros(2), np.eye(2), np.array([1.0, 0.0]), s2)
    assert got == pytest.approx(expected, rel=1e-9)
    # Symmetric in its arguments.
    back = frechet_distance_from_stats(np.array([1.0, 0.0]), s2, np.zeros(2), np.eye(2))
    assert back == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_rejects_bad_shapes():
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        frechet_distance(np.zeros(5), np.zeros(5))


def test_kid_is_about_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same, same_std = kernel_inception_distance(a, b, num_subsets=10, subset_size=200)
    assert abs(same) < 3 * same_std + 0.01
    shifted, _ = kernel_inception_distance(a, b + 1.0, num_subsets=10, subset_size=200)
    assert shifted > 0.1
    assert shifted > 10 * abs(same)


def test_kid_unbiased_mean_over_many_draws():
    # The unbiased estimator averages to ~0 over independent same-distribution pairs.
    rng = np.random.default_rng(3)
    values = [
        kernel_inception_distance(
            rng.normal(size=(50, 4)), rng.normal(size=(50, 4)), num_subsets=1, subset_size=50
        )[0]
        for _ in range(60)
    ]
    assert abs(np.mean(values)) < 3 * np.std(values) / math.sqrt(len(values))


def test_psnr_known_values():
    a = torch.zeros(2, 3, 8, 8)
    b = torch.full((2, 3, 8, 8), 0.1)  # MSE 0.01 -> 20 dB
    assert psnr(a, b).tolist() == pytest.approx([20.0, 20.0])
    c = a.clone()
    c[1] = 0.01  # MSE 1e-4 -> 40 dB
    assert psnr(a, c).tolist() == pytest.approx([math.inf, 40.0])
    assert psnr(a * 255, b * 255, max_value=255.0).tolist() == pytest.approx([20.0, 20.0])


def test_ssim_known_values():
    rng = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 32, 32, generator=rng)
    assert ssim(x, x).item() == pytest.approx(1.0)
    # Two constant images: variances are 0, so SSIM = (2ab + C1) / (a^2 + b^2 + C1).
    a, b, c1 = 0.2, 0.6, 0.01**2
    got = ssim(torch.full((1, 3, 16, 16), a), torch.full((1, 3, 16, 16), b)).item()
    assert got == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-5)
    # An inverted image is anti-correlated: SSIM is negative.
    assert ssim(x, 1 - x).item() < 0
    noisy = (x + 0.05 * torch.randn(x.shape, generator=rng)).clamp(0, 1)
    assert 0.5 < ssim(x, noisy).item() < 1.0
    pair = torch.cat([x, noisy]), torch.cat([noisy, x])
    assert torch.allclose(ssim(*pair, batch_size=1), ssim(*pair))


def test_ssim_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9))


def test_codebook_usage():
    ids = torch.tensor([[0, 1], [1, 3]])
    stats = codebook_usage(ids, codebook_size=8)
    assert stats["usage"] == pytest.approx(3 / 8)
    assert stats["used_codes"] == 3
    # Histogram 1/4, 1/2, 1/4 -> entropy 1.5 ln 2.
    assert stats["perplexity"] == pytest.approx(2**1.5)
    uniform = codebook_usage(torch.arange(16), codebook_size=16)
    assert uniform["usage"] == 1.0
    assert uniform["perplexity"] == pytest.approx(16)
    with pytest.raises(ValueError, match="token ids must lie"):
        codebook_usage(torch.tensor([0, 9]), codebook_size=8)
