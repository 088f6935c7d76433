"""Edit-shaped MVTM masks: shapes, counts, containment, determinism, and use in mask_batch."""

import torch

from maskgit_studio.engine.config import TransformerConfig
from training.edit_masks import edit_masks, edit_region
from training.train_transformer import mask_batch


def _bbox(region: torch.Tensor) -> tuple[int, int, int, int]:
    ys, xs = region.nonzero(as_tuple=True)
    return int(ys.min()), int(xs.min()), int(ys.max()), int(xs.max())


def test_boxes_are_filled_rectangles_and_ring_grows_them():
    for seed in range(20):
        box = edit_region("box", 16, torch.Generator().manual_seed(seed))
        top, left, bottom, right = _bbox(box)
        assert box.sum() == (bottom - top + 1) * (right - left + 1)  # solid rectangle
        ring = edit_region("box_ring", 16, torch.Generator().manual_seed(seed))
        assert (ring | box).equal(ring)  # the ring contains the box it grows
        assert ring.sum() > box.sum()


def test_strips_touch_the_border_and_blobs_stay_inside():
    for seed in range(20):
        strip = edit_region("strip", 16, torch.Generator().manual_seed(seed))
        border = strip[0].any() or strip[-1].any() or strip[:, 0].any() or strip[:, -1].any()
        assert border and strip.sum() < 16 * 16
        blob = edit_region("blob", 16, torch.Generator().manual_seed(seed))
        assert blob.shape == (16, 16) and blob.any()


def test_edit_masks_mask_a_schedule_share_of_each_region():
    masks = edit_masks(64, 8, "cosine", torch.Generator().manual_seed(0))
    assert masks.shape == (64, 64)
    counts = masks.sum(1)
    assert bool((counts >= 1).all())
    assert counts.float().std() > 0  # the schedule draws different fractions
    again = edit_masks(64, 8, "cosine", torch.Generator().manual_seed(0))
    assert masks.equal(again)


def test_edit_masks_are_spatially_coherent_unlike_random_masks():
    """Edit masks sit in one region: their bounding boxes are far smaller than random masks'."""
    gen = torch.Generator().manual_seed(1)
    masks = edit_masks(200, 16, "linear", gen).view(200, 16, 16)
    region_share = []
    for m in masks:
        top, left, bottom, right = _bbox(m)
        region_share.append(float(m.sum()) / ((bottom - top + 1) * (right - left + 1)))
    # masked cells fill a good part of their bounding box (random masks of equal size do not)
    assert sum(region_share) / len(region_share) > 0.3


def test_mask_batch_uses_edit_shapes_for_the_requested_share():
    config = TransformerConfig(
        codebook_size=32,
        num_classes=3,
        grid_size=8,
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        mlp_size=32,
    )
    tokens = torch.randint(0, 32, (256, 64))
    labels = torch.randint(0, 3, (256,))
    gen = torch.Generator().manual_seed(3)
    ids, masked = mask_batch(tokens, labels, config, "cosine", 0.0, gen, edit_fraction=1.0)
    assert ids.shape == (256, 65)
    assert bool((ids[:, 1:][masked] == config.mask_id).all())
    assert bool((ids[:, 1:][~masked] == tokens[~masked]).all())
    # every row is edit-shaped: strips/boxes leave whole rows or columns of the grid untouched
    grid = masked.view(256, 8, 8)
    untouched_lines = (~grid.any(2)).sum(1) + (~grid.any(1)).sum(1)
    assert float((untouched_lines > 0).float().mean()) > 0.8
    _, plain = mask_batch(tokens, labels, config, "cosine", 0.0, gen, edit_fraction=0.0)
    plain_lines = (~plain.view(256, 8, 8).any(2)).sum(1) + (~plain.view(256, 8, 8).any(1)).sum(1)
    assert float((untouched_lines > 0).float().mean()) > float((plain_lines > 0).float().mean())
