"""Image-quality metrics: Frechet distance, KID, PSNR, SSIM, codebook usage, sharpness, blockiness.

Feature metrics (FD, KID) take (N, D) feature arrays from any feature extractor; the evaluator
uses the judge's penultimate layer. Pixel metrics take (B, 3, H, W) float images in [0, 1].
Everything returns plain Python floats so results go straight into JSON.

Sharpness and blockiness (issue 9): ``edge_energy_ratio`` compares the mean Sobel gradient
magnitude of one set with another's (the shipped 8x8 model's tokenizer keeps ~57 % of the
originals' edge energy, a crisp one >= 85 %; ``squared=True`` compares mean squared gradients
instead, which the finest texture dominates: ~9 % for that tokenizer), and
``token_boundary_ratio`` divides the mean absolute gradient across token borders by the one
inside tokens (real scenes ~1.05; a visible token grid 1.5-2).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run small dense linear algebra on one thread.

    A 100-dim eigendecomposition gains nothing from threads, and on a busy machine a second
    thread that is not scheduled turns milliseconds into seconds of spinning.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _as_features(x: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x.detach())
    x = x.to("cpu", torch.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be an (N, D) feature array, got shape {tuple(x.shape)}")
    if x.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples, got {x.shape[0]}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def feature_stats(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, float64 numpy."""
    x = _as_features(features, "features")
    centred = x - x.mean(dim=0)
    cov = centred.T @ centred / (x.shape[0] - 1)
    return x.mean(dim=0).numpy(), cov.numpy()


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a positive semi-definite matrix (negative eigenvalues -> 0)."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance_from_stats(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) between two Gaussians.

    tr((S1 S2)^(1/2)) is computed as the trace of (S1^(1/2) S2 S1^(1/2))^(1/2), which is
    symmetric PSD, so it needs only eigendecompositions (no scipy) and is stable for the
    rank-deficient covariances of small sample sets.
    """
    mu1, mu2, sigma1, sigma2 = (
        torch.as_tensor(np.asarray(v), dtype=torch.float64) for v in (mu1, mu2, sigma1, sigma2)
    )
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"feature dimensions differ: {tuple(mu1.shape)} vs {tuple(mu2.shape)}")
    with _one_thread():
        root1 = _sqrt_psd(sigma1)
        middle = root1 @ sigma2 @ root1
        eigen = torch.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = float(eigen.clamp_min(0).sqrt().sum())
    diff = mu1 - mu2
    value = float(diff @ diff + sigma1.trace() + sigma2.trace()) - 2 * trace_sqrt
    return max(value, 0.0)  # round-off can leave a tiny negative for identical sets


def frechet_distance(
    features_a: np.ndarray | torch.Tensor, features_b: np.ndarray | torch.Tensor
) -> float:
    """Frechet distance between Gaussians fitted to (N, D) and (M, D) feature sets (FID's form)."""
    a, b = _as_features(features_a, "features_a"), _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    return frechet_distance_from_stats(*feature_stats(a), *feature_stats(b))


def _polynomial_mmd(a: torch.Tensor, b: torch.Tensor) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / D + 1)^3."""
    dim = a.shape[1]
    k_aa = (a @ a.T / dim + 1) ** 3
    k_bb = (b @ b.T / dim + 1) ** 3
    k_ab = (a @ b.T / dim + 1) ** 3
    m, n = len(a), len(b)
    sum_aa = (k_aa.sum() - k_aa.trace()) / (m * (m - 1))
    sum_bb = (k_bb.sum() - k_bb.trace()) / (n * (n - 1))
    return float(sum_aa + sum_bb - 2 * k_ab.mean())


def kernel_inception_distance(
    features_a: np.ndarray | torch.Tensor,
    features_b: np.ndarray | torch.Tensor,
    num_subsets: int = 20,
    subset_size: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """KID: unbiased polynomial-kernel MMD^2 averaged over random subsets (Binkowski et al.).

    Args:
        features_a: (N, D) features.
        features_b: (M, D) features.
        num_subsets: subsets drawn (without replacement inside a subset).
        subset_size: samples per subset, capped at min(N, M).
        seed: subset RNG seed.

    Returns:
        (mean, std) over subsets. Unbiased, so it is ~0 (and may be slightly negative) for two
        samples of one distribution.
    """
    a, b = _as_features(features_a, "features_a"), _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be >= 1, got {num_subsets}")
    size = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    with _one_thread():
        values = [
            _polynomial_mmd(
                a[torch.from_numpy(rng.choice(len(a), size, replace=False))],
                b[torch.from_numpy(rng.choice(len(b), size, replace=False))],
            )
            for _ in range(num_subsets)
        ]
    return float(np.mean(values)), float(np.std(values))


def _check_images(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"image batches differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    if a.ndim != 4:
        raise ValueError(f"expected (B, C, H, W) images, got shape {tuple(a.shape)}")


def psnr(a: torch.Tensor, b: torch.Tensor, max_value: float = 1.0) -> torch.Tensor:
    """Per-image PSNR in dB of (B, C, H, W) images; identical images give +inf.

    Returns:
        (B,) float64 tensor; average it yourself (the evaluator reports the mean over images).
    """
    _check_images(a, b)
    mse = (a.double() - b.double()).pow(2).flatten(1).mean(dim=1)
    return 10 * torch.log10(max_value**2 / mse)


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    max_value: float = 1.0,
    window_size: int = 11,
    sigma: float = 1.5,
    batch_size: int = 32,
) -> torch.Tensor:
    """Per-image SSIM (Wang et al. 2004): Gaussian window 11 / sigma 1.5, K1 0.01, K2 0.03.

    Computed per channel over 'valid' windows (no padding), then averaged over channels and
    positions. Images smaller than the window use a window of the image size. Computed in
    float32, ``batch_size`` images at a time, so memory stays bounded for large sets.

    Args:
        a, b: (B, C, H, W) images in [0, max_value].

    Returns:
        (B,) float64 tensor in [-1, 1]; 1 for identical images.
    """
    _check_images(a, b)
    channels = a.shape[1]
    size = min(window_size, a.shape[2], a.shape[3])
    g = _gaussian_window(size, sigma).float()
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2

    def blur(x: torch.Tensor) -> torch.Tensor:
        # Separable Gaussian: one 1-D pass per axis, every channel of x at once.
        k = g.to(x.device)
        n = x.shape[1]
        x = F.conv2d(x, k.view(1, 1, 1, -1).expand(n, 1, 1, size), groups=n)
        return F.conv2d(x, k.view(1, 1, -1, 1).expand(n, 1, size, 1), groups=n)

    out = []
    for x, y in zip(a.split(batch_size), b.split(batch_size), strict=True):
        x, y = x.float(), y.float()
        # Centre each image channel first: float32 moments then do not cancel catastrophically.
        mean_x, mean_y = x.mean(dim=(2, 3), keepdim=True), y.mean(dim=(2, 3), keepdim=True)
        x, y = x - mean_x, y - mean_y
        # Means, second moments and the cross term in one blur call.
        moments = blur(torch.cat([x, y, x * x, y * y, x * y], dim=1))
        m_x, m_y, xx, yy, xy = moments.split(channels, dim=1)
        var_x, var_y, cov = xx - m_x**2, yy - m_y**2, xy - m_x * m_y
        mu_x, mu_y = m_x + mean_x, m_y + mean_y
        numerator = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
        denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
        out.append((numerator / denominator).flatten(1).double().mean(dim=1).cpu())
    return torch.cat(out)


def codebook_usage(indices: torch.Tensor | np.ndarray, codebook_size: int) -> dict[str, float]:
    """How much of the codebook a set of token grids uses.

    Args:
        indices: int token ids of any shape (e.g. (B, h, w)), values in [0, codebook_size).
        codebook_size: K.

    Returns:
        ``usage``: fraction of the K codes that occur at least once; ``perplexity``: exp of the
        entropy of the code histogram (K when all codes are equally frequent);
        ``used_codes``: count of codes used.
    """
    ids = torch.as_tensor(indices).flatten().long()
    if ids.numel() == 0:
        raise ValueError("no token ids given")
    if int(ids.min()) < 0 or int(ids.max()) >= codebook_size:
        raise ValueError(f"token ids must lie in [0, {codebook_size}), got {int(ids.max())}")
    counts = torch.bincount(ids, minlength=codebook_size).double()
    p = counts / counts.sum()
    nonzero = p[p > 0]
    entropy = float(-(nonzero * nonzero.log()).sum())
    used = int((counts > 0).sum())
    return {
        "usage": used / codebook_size,
        "perplexity": math.exp(entropy),
        "used_codes": float(used),
    }


def _differences(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal (B, C, H, W-1) and vertical (B, C, H-1, W) neighbour differences, float64."""
    if images.ndim != 4 or images.shape[-1] < 2 or images.shape[-2] < 2:
        raise ValueError(f"expected (B, C, H, W) images of at least 2x2, got {tuple(images.shape)}")
    x = images.double()
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def edge_energy(images: torch.Tensor) -> torch.Tensor:
    """Per-image mean Sobel gradient magnitude (per channel, then averaged over channels).

    The Sobel kernels are divided by 8, so a ramp rising by s per pixel has magnitude s.

    Args:
        images: (B, C, H, W) float images, at least 3x3.

    Returns:
        (B,) float64: the mean of sqrt(gx^2 + gy^2) over the valid (H-2) x (W-2) positions.
    """
    if images.ndim != 4 or images.shape[-1] < 3 or images.shape[-2] < 3:
        raise ValueError(f"expected (B, C, H, W) images of at least 3x3, got {tuple(images.shape)}")
    b, c, h, w = images.shape
    x = images.double().reshape(b * c, 1, h, w)
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=x.dtype) / 8
    g = F.conv2d(x, torch.stack([kx, kx.t()])[:, None])
    return g.pow(2).sum(dim=1).sqrt().reshape(b, -1).mean(dim=1)


def gradient_energy(images: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared finite-difference gradient (averaged over channels).

    Returns:
        (B,) float64: mean of dx^2 over horizontal pairs plus mean of dy^2 over vertical pairs.
    """
    dx, dy = _differences(images)
    return dx.pow(2).flatten(1).mean(dim=1) + dy.pow(2).flatten(1).mean(dim=1)


def edge_energy_ratio(
    images: torch.Tensor, reference: torch.Tensor, squared: bool = False, batch_size: int = 64
) -> float:
    """Mean edge energy of ``images`` over that of ``reference`` (sharpness; 1 = as sharp).

    The two sets need not be paired or of equal size: reconstructions against their
    originals, or generated samples against real images. Returns nan for a flat reference.

    Args:
        squared: compare mean squared finite-difference gradients (``gradient_energy``)
            instead of mean Sobel magnitudes (``edge_energy``).
        batch_size: images per step (memory stays bounded for large sets).
    """
    measure = gradient_energy if squared else edge_energy

    def mean(x: torch.Tensor) -> float:
        return float(torch.cat([measure(chunk) for chunk in x.split(batch_size)]).mean())

    ref = mean(reference)
    return mean(images) / ref if ref > 0 else math.nan


def token_boundary_ratio(images: torch.Tensor, factor: int) -> float:
    """Blockiness: mean |gradient| across token borders over the mean inside tokens.

    A pixel pair straddles a border when it lies on both sides of a multiple of ``factor``
    (the tokenizer's downsampling factor); every other neighbour pair is inside a token. The
    absolute differences are averaged over channels and pooled over the whole set.

    Args:
        images: (B, C, H, W) float images, H and W multiples of ``factor``.
        factor: token size in pixels (>= 2).

    Returns:
        The ratio (about 1 for natural images, well above 1 when a token grid shows); nan when
        the images have no gradient inside tokens.
    """
    if factor < 2:
        raise ValueError(f"factor must be >= 2, got {factor}")
    if images.ndim != 4 or images.shape[-1] % factor or images.shape[-2] % factor:
        raise ValueError(f"image sides must be multiples of {factor}, got {tuple(images.shape)}")
    dx, dy = _differences(images)
    gx, gy = dx.abs().mean(dim=1), dy.abs().mean(dim=1)  # (B, H, W-1), (B, H-1, W)
    border_x = (torch.arange(1, gx.shape[-1] + 1) % factor) == 0  # pair (j, j+1), j+1 = k*f
    border_y = (torch.arange(1, gy.shape[-2] + 1) % factor) == 0
    across = torch.cat([gx[..., border_x].flatten(), gy[..., border_y, :].flatten()])
    inside = torch.cat([gx[..., ~border_x].flatten(), gy[..., ~border_y, :].flatten()])
    inside_mean = float(inside.mean())
    return float(across.mean()) / inside_mean if inside_mean > 0 else math.nan


def periodic_energy_ratio(images: torch.Tensor, reference: torch.Tensor, factor: int) -> float:
    """Grid artifacts: spectral power at the periods of a decoder's up-sampling over the same in
    ``reference`` (about 1 = none added; a pixel-shuffle decoder trained adversarially can
    paint a faint dot grid that gradients across token borders do not show).

    The power of the grey-level detail (minus a 5x5 mean) is summed over the frequencies
    (u, v) that are multiples of ``size / p`` for each period p in 2, 4, ... ``factor`` (the
    pure horizontal, vertical and diagonal grids), and divided by the total power of the detail.

    Args:
        images, reference: (B, C, H, W) float images of one size (unpaired is fine).
        factor: the tokenizer's down-sampling factor (a power of two).
    """

    def share(x: torch.Tensor) -> float:
        y = x.double().mean(1, keepdim=True)
        y = (y - F.avg_pool2d(y, 5, 1, 2, count_include_pad=False))[:, 0]
        power = torch.fft.fft2(y).abs().pow(2).mean(0)  # (H, W)
        h, w = power.shape
        grid = torch.zeros_like(power, dtype=torch.bool)
        p = 2
        while p <= factor:
            if h % p == 0 and w % p == 0:
                grid[:: h // p, :: w // p] = True
            p *= 2
        grid[0, 0] = False  # the mean is not a grid
        total = float(power.sum())
        return float(power[grid].sum()) / total if total > 0 else math.nan

    ref = share(reference)
    return share(images) / ref if ref > 0 else math.nan


__all__ = [
    "codebook_usage",
    "edge_energy",
    "edge_energy_ratio",
    "feature_stats",
    "frechet_distance",
    "frechet_distance_from_stats",
    "gradient_energy",
    "kernel_inception_distance",
    "periodic_energy_ratio",
    "psnr",
    "ssim",
    "token_boundary_ratio",
]
