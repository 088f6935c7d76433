"""Training losses: reconstruction, a weight-free perceptual-style term, GAN and masked tokens.

Perceptual-style term (no downloaded weights): image-gradient L1 (edges and texture
contrast) plus 1 - SSIM at two scales (local structure at full and half resolution). Both are
cheap on a CPU and push the decoder toward sharp, structurally faithful reconstructions that
plain L1/L2 would blur.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gradient_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 between horizontal and vertical finite differences of (B, C, H, W) images."""
    dx = (pred[..., :, 1:] - pred[..., :, :-1]) - (target[..., :, 1:] - target[..., :, :-1])
    dy = (pred[..., 1:, :] - pred[..., :-1, :]) - (target[..., 1:, :] - target[..., :-1, :])
    return 0.5 * (dx.abs().mean() + dy.abs().mean())


def _ssim_map(a: torch.Tensor, b: torch.Tensor, window: int = 7) -> torch.Tensor:
    """SSIM over uniform ``window`` x ``window`` patches (valid positions only), float32."""
    c1, c2 = 0.01**2, 0.03**2
    pool = lambda x: F.avg_pool2d(x, window, stride=1)  # noqa: E731
    mu_a, mu_b = pool(a), pool(b)
    var_a = pool(a * a) - mu_a**2
    var_b = pool(b * b) - mu_b**2
    cov = pool(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return num / den


def ssim_loss(pred: torch.Tensor, target: torch.Tensor, scales: int = 2) -> torch.Tensor:
    """Mean of 1 - SSIM over ``scales`` resolutions (full, half, ...) of (B, C, H, W) images."""
    total = pred.new_zeros(())
    for s in range(scales):
        if s:
            pred, target = F.avg_pool2d(pred, 2), F.avg_pool2d(target, 2)
        window = min(7, pred.shape[-1], pred.shape[-2])
        total = total + (1 - _ssim_map(pred.float(), target.float(), window)).mean()
    return total / scales


def reconstruction_terms(
    pred: torch.Tensor, target: torch.Tensor, weights: dict[str, float]
) -> dict[str, torch.Tensor]:
    """Weighted-loss ingredients for (B, 3, H, W) images: l1, l2, gradient, ssim (unweighted).

    Terms whose weight is 0 are skipped (not computed).
    """
    terms: dict[str, torch.Tensor] = {}
    if weights.get("l1", 0):
        terms["l1"] = (pred - target).abs().mean()
    if weights.get("l2", 0):
        terms["l2"] = F.mse_loss(pred, target)
    if weights.get("gradient", 0):
        terms["gradient"] = gradient_l1(pred, target)
    if weights.get("ssim", 0):
        terms["ssim"] = ssim_loss(pred, target)
    return terms


def hinge_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """PatchGAN hinge loss for the discriminator (logits of any shape)."""
    return 0.5 * (F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean())


def generator_adversarial_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Hinge generator loss: raise the discriminator's score of reconstructions."""
    return -fake_logits.mean()


def masked_token_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    masked: torch.Tensor,
    label_smoothing: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy on masked positions only.

    Args:
        logits: (B, N, C) image-position logits over the C image codes.
        targets: (B, N) int64 true codes.
        masked: (B, N) bool, True where the input was masked.
        label_smoothing: epsilon of the smoothed targets.

    Returns:
        (loss, accuracy) scalars over masked positions (accuracy without gradient).
    """
    sel_logits = logits[masked]  # (M, C)
    sel_targets = targets[masked]  # (M,)
    loss = F.cross_entropy(sel_logits.float(), sel_targets, label_smoothing=label_smoothing)
    with torch.no_grad():
        accuracy = (sel_logits.argmax(-1) == sel_targets).float().mean()
    return loss, accuracy
