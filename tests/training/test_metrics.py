"""Metrics against closed forms and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from training.metrics import (
    codebook_usage,
    edge_energy,
    edge_energy_ratio,
    frechet_distance,
    frechet_distance_from_stats,
    gradient_energy,
    kernel_inception_distance,
    periodic_energy_ratio,
    psnr,
    ssim,
    token_boundary_ratio,
)
from training.procedural import ProceduralScenes


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


def _scenes(count: int = 12, size: int = 64) -> torch.Tensor:
    ds = ProceduralScenes(size, seed=5, train=False)
    return (
        torch.stack([torch.from_numpy(ds.render(i)[0]) for i in range(count)])
        .permute(0, 3, 1, 2)
        .float()
        / 255
    )


def test_edge_energy_known_values():
    ramp = (torch.arange(5) * 0.1).expand(2, 3, 4, 5)  # rises 0.1 per pixel to the right
    assert edge_energy(ramp).tolist() == pytest.approx([0.1, 0.1])  # Sobel / 8: the slope
    assert gradient_energy(ramp).tolist() == pytest.approx([0.01, 0.01])  # dx^2, dy = 0
    diagonal = (torch.arange(6)[:, None] + torch.arange(6)[None]).float() * 0.1
    assert edge_energy(diagonal.expand(1, 3, 6, 6)).item() == pytest.approx(math.sqrt(0.02))
    assert gradient_energy(diagonal.expand(1, 3, 6, 6)).item() == pytest.approx(0.02)
    # Linear in contrast (quadratic when squared); a flat reference has none.
    assert edge_energy_ratio(2 * ramp, ramp) == pytest.approx(2.0)
    assert edge_energy_ratio(2 * ramp, ramp, squared=True) == pytest.approx(4.0)
    assert math.isnan(edge_energy_ratio(ramp, torch.zeros(1, 3, 4, 5)))
    with pytest.raises(ValueError, match="3x3"):
        edge_energy(torch.zeros(1, 3, 2, 8))


def test_blurring_lowers_edge_energy_but_not_blockiness():
    scenes = _scenes()
    assert edge_energy_ratio(scenes, scenes) == pytest.approx(1.0)
    blurred = scenes
    for _ in range(2):  # two 3x3 box blurs (a soft tokenizer's look)
        blurred = F.avg_pool2d(F.pad(blurred, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    assert 0.3 < edge_energy_ratio(blurred, scenes) < 0.8  # well under the 85 % target
    assert edge_energy_ratio(blurred, scenes, squared=True) < edge_energy_ratio(blurred, scenes)
    # A uniform blur softens every pixel pair alike: no token grid appears.
    assert token_boundary_ratio(blurred, 8) == pytest.approx(
        token_boundary_ratio(scenes, 8), abs=0.1
    )


def test_token_boundary_ratio_known_value():
    # Every row 0, .1, .2, .3 | 1.0, 1.1, 1.2, 1.3 (f = 4): across the border |dx| = 0.7, inside
    # 0.1; vertical pairs are all 0. Across: 8 rows x 0.7 and 8 zero vertical pairs (row 3-4)
    # -> 0.35; inside: 48 pairs of 0.1 and 48 zero vertical pairs -> 0.05; ratio 7.
    row = torch.tensor([0.0, 0.1, 0.2, 0.3, 1.0, 1.1, 1.2, 1.3])
    image = row.expand(1, 3, 8, 8)
    assert token_boundary_ratio(image, 4) == pytest.approx(7.0)
    # A plane with equal slopes both ways has no grid at all: exactly 1.
    plane = (torch.arange(16)[:, None] + torch.arange(16)[None]).float() * 0.01
    assert token_boundary_ratio(plane.expand(2, 3, 16, 16), 8) == pytest.approx(1.0)
    assert math.isnan(token_boundary_ratio(torch.zeros(1, 3, 8, 8), 4))
    with pytest.raises(ValueError, match="multiples of 8"):
        token_boundary_ratio(torch.zeros(1, 3, 12, 16), 8)
    with pytest.raises(ValueError, match="factor"):
        token_boundary_ratio(torch.zeros(1, 3, 8, 8), 1)


def test_real_scenes_are_not_blocky_and_blockified_ones_are():
    scenes = _scenes()
    real = token_boundary_ratio(scenes, 8)
    assert 0.9 < real < 1.15  # real scenes: about 1.05
    # Half of every pixel replaced by its 8x8 block's mean: steps at the borders, flatter inside.
    means = F.interpolate(F.avg_pool2d(scenes, 8), scale_factor=8, mode="nearest")
    blocky = 0.5 * scenes + 0.5 * means
    assert token_boundary_ratio(blocky, 8) > 1.5
    # The grid is a property of the 8 px tokens: measured on a 16 px grid it is diluted.
    assert token_boundary_ratio(blocky, 16) < token_boundary_ratio(blocky, 8)


def test_periodic_energy_sees_a_faint_dot_grid_that_borders_do_not():
    scenes = _scenes()
    assert periodic_energy_ratio(scenes, scenes, 8) == pytest.approx(1.0)
    # A soft reconstruction (3x3 blur) is no grid; the same with a dot every 4 px (4 grey
    # levels, the pattern a pixel-shuffle decoder trained adversarially paints) is.
    soft = F.avg_pool2d(scenes, 3, 1, 1, count_include_pad=False)
    dots = torch.zeros(1, 1, scenes.shape[-2], scenes.shape[-1])
    dots[..., 1::4, 1::4] = 4 / 255
    assert periodic_energy_ratio(soft, scenes, 8) < 1.1
    assert periodic_energy_ratio(soft + dots, scenes, 8) > 1.4
    # Gradients across token borders barely move: that measure cannot see it.
    assert token_boundary_ratio(soft + dots, 8) == pytest.approx(
        token_boundary_ratio(soft, 8), abs=0.1
    )
