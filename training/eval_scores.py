"""Judge-space scores of a batch of images: accuracy, the 'no object' share, FD and KID."""

from __future__ import annotations

import torch

from training import metrics
from training.judge import Judge


def feature_scores(
    judge: Judge, images: torch.Tensor, labels: torch.Tensor, ref_feats: torch.Tensor
) -> dict:
    """Judge accuracy, FD and KID of images (B, 3, S, S) against reference features (R, D).

    Args:
        judge: the trained judge.
        images: (B, 3, S, S) float images in [0, 1].
        labels: (B,) the class each image should show, in the judge's classes.
        ref_feats: (R, D) judge features of real held-out images.

    Also the share of images the judge calls NO_OBJECT (when it has that class): a sample
    without a recognisable object counts as wrong, whatever its background. Keys starting with
    "_" hold tensors for the caller (per-image correctness and predictions), not for the report.
    """
    logits, feats = judge.logits_and_features(images)
    predicted = logits.argmax(dim=1)
    correct = predicted == labels
    kid, kid_std = metrics.kernel_inception_distance(
        feats, ref_feats, subset_size=min(100, len(feats), len(ref_feats))
    )
    empty = judge.no_object_index
    return {
        "samples": len(images),
        "judge_accuracy": float(correct.double().mean()),
        "no_object_share": None if empty is None else float((predicted == empty).double().mean()),
        "fd": metrics.frechet_distance(feats, ref_feats),
        "kid": kid,
        "kid_std": kid_std,
        "_correct": correct,
        "_predicted": predicted,
    }


def public(part: dict) -> dict:
    """The part without its private ("_") tensors: what goes into the JSON report."""
    return {k: v for k, v in part.items() if not k.startswith("_")}
