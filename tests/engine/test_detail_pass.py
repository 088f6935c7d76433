"""The detail pass: a finer-scale random refine of an edit's region (tiny model: f 8, 8x8)."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.engine import editing
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.session import EngineSession

FAST = SamplerConfig(steps=6, seed=3)


@pytest.fixture(scope="module")
def session(tiny_bundle_path):
    return EngineSession(tiny_bundle_path, device="cpu")


def test_detail_scale_is_the_finest_that_fits_the_pass_budget():
    mask = np.zeros((2000, 2000), dtype=bool)
    mask[900:1000, 900:1000] = True  # 13x13 cells of 8 px: one 16x16 window at scale 1
    assert editing.detail_scale(mask.shape, mask, 8, 16, 4) == 1
    assert editing.detail_scale(mask.shape, mask, 8, 16, 1) is None  # nothing finer than 1
    whole = np.ones((2000, 2000), dtype=bool)
    s = editing.detail_scale(whole.shape, whole, 8, 16, 16)
    assert s is not None
    count = len(editing.plan_passes(editing.pixel_mask_to_cells(whole, 8 * s), 16))
    finer = len(editing.plan_passes(editing.pixel_mask_to_cells(whole, 8 * (s - 1)), 16))
    assert count <= editing.DETAIL_MAX_PASSES < finer
    assert editing.detail_scale(whole.shape, whole, 8, 16, 16, max_passes=0) is None


def test_add_detail_refines_the_region_at_a_finer_scale(session):
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    mask = np.zeros((256, 256), dtype=bool)
    mask[96:136, 88:152] = True  # exactly 5x8 cells of 8 px
    run = session.add_detail(image, mask, 4, class_id=1, sampler=FAST, previews=False)
    steps = list(run)
    result = run.result
    assert result.request["scale"] == 1 and result.request["operation"] == "add_detail"
    assert result.request["refine"] == {"strength": 0.5, "order": "random"}
    first = steps[0]
    editable = first.editable
    assert editable.sum() == 5 * 8
    for step in steps:  # tokens outside the region are never resampled
        np.testing.assert_array_equal(step.ids[:, ~editable], first.ids[:, ~editable])
    changed = result.changed
    assert changed[mask].all() and changed.sum() < 2 * mask.sum()
    np.testing.assert_array_equal(result.images[0][~changed], image[~changed])
    assert (result.images[0][mask] != image[mask]).any()


def test_add_detail_says_why_there_is_no_finer_scale(session):
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    mask = np.ones((64, 64), dtype=bool)
    with pytest.raises(ValueError, match="scale 1"):
        session.add_detail(image, mask, 1)
    with pytest.raises(ValueError, match="selects nothing"):
        session.add_detail(image, np.zeros((64, 64), dtype=bool), 2)
