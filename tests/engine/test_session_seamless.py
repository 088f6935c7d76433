"""Seamless edits through EngineSession on the tiny bundle (64 px model, f = 8, 8x8 window):
pixel masks, region-sized windows, refine and remove object."""

from __future__ import annotations

import math

import numpy as np
import pytest

from maskgit_studio.engine import editing
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.edit_options import EditOptions
from maskgit_studio.engine.editing_composite import feather_changed
from maskgit_studio.engine.session import EngineSession

FAST = SamplerConfig(steps=6, seed=5)


@pytest.fixture(scope="module")
def session(tiny_bundle_path):
    return EngineSession(tiny_bundle_path, device="cpu")


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:120, 0:140]
    base = np.stack([xx, yy * 2, (xx + yy) // 2], axis=-1) % 256
    return (base + rng.integers(0, 30, (120, 140, 3))).clip(0, 255).astype(np.uint8)


def _disc(shape, cy, cx, r):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_pixel_mask_keeps_original_pixels_inside_touched_cells(session, image):
    mask = _disc(image.shape[:2], 60, 70, 9)
    result = session.inpaint(image, mask, 1, FAST, scale=1, previews=False).run_to_end()
    out = result.images[0]
    feather = result.request["feather"]
    assert result.request["options"]["pixel_mask"] is True
    np.testing.assert_array_equal(result.changed, feather_changed(mask, feather))
    np.testing.assert_array_equal(out[~result.changed], image[~result.changed])
    touched = editing.cells_to_pixels(
        editing.pixel_mask_to_cells(mask, 8), 8, image.shape[:2]
    )  # whole cells the mask touches: they were regenerated
    kept_inside = touched & ~result.changed
    assert kept_inside.sum() > 0.25 * touched.sum()  # the cells' corners stay original
    np.testing.assert_array_equal(out[kept_inside], image[kept_inside])
    assert (out[mask] != image[mask]).any(axis=-1).mean() > 0.5


def test_cell_mode_composites_whole_cells(session, image):
    mask = _disc(image.shape[:2], 60, 70, 9)
    options = EditOptions(pixel_mask=False)
    result = session.inpaint(image, mask, 1, FAST, 1, False, 1, 2, options).run_to_end()
    cells = editing.pixel_mask_to_cells(mask, 8)
    np.testing.assert_array_equal(
        result.changed, feather_changed(editing.cells_to_pixels(cells, 8, image.shape[:2]), 2)
    )


def test_seamless_same_seed_same_output(session, image):
    mask = _disc(image.shape[:2], 40, 50, 12)
    a = session.inpaint(image, mask, 0, FAST, variations=2, previews=False).run_to_end()
    b = session.inpaint(image, mask, 0, FAST, variations=2, previews=False).run_to_end()
    for x, y in zip(a.images, b.images, strict=True):
        np.testing.assert_array_equal(x, y)
    assert (a.images[0] != a.images[1]).any()


def test_region_window_follows_the_edit_on_a_large_document(session):
    """A 200x160 px inpaint on a 4000x3000 photo: the window is sized by the edit (the tiny
    model's 64 px window at scale 8; the bundled model's geometries give <= 4, see below)."""
    rng = np.random.default_rng(2)
    photo = rng.integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    mask = np.zeros(photo.shape[:2], dtype=bool)
    mask[1400:1560, 1900:2100] = True
    run = session.inpaint(photo, mask, 2, FAST, previews=False)
    steps = list(run)
    scale = run.result.request["scale"]
    assert scale == editing.auto_scale(photo.shape[:2], mask, 8, 8) == 8
    assert editing.default_scale(photo.shape[:2], 64) == 46  # the document's own scale
    x0, y0, x1, y1 = steps[0].window
    assert x1 - x0 == 64 * scale and x0 <= 1900 and x1 >= 2100 and y0 <= 1400 and y1 >= 1560
    changed = run.result.changed
    assert changed.sum() < 2 * mask.sum()
    np.testing.assert_array_equal(run.result.images[0][~changed], photo[~changed])


def test_auto_scale_keeps_context_cells_around_the_region():
    # The bundled model's geometries (8x8 tokens of 16 px; 16x16 of 8 px) on a 4000x3000 photo.
    for f, grid in ((16, 8), (8, 16)):
        box = (1900, 1400, 200, 160)
        scale = editing.auto_scale((3000, 4000), box, f, grid)
        assert scale <= 4
        context = editing.default_context(grid)
        cells = editing.box_to_cells((3000, 4000), box, f * scale, ring=0)
        r0, c0, r1, c1 = editing.cells_bbox(cells)
        assert max(r1 - r0, c1 - c0) + 2 * context <= grid
        if scale > 1:  # and one scale smaller would not hold the context
            cells = editing.box_to_cells((3000, 4000), box, f * (scale - 1), ring=0)
            r0, c0, r1, c1 = editing.cells_bbox(cells)
            assert max(r1 - r0, c1 - c0) + 2 * context > grid
    # At the document's edge there is no context to hold on that side.
    assert editing.auto_scale((64, 640), (0, 0, 40, 40), 8, 8, context=2) == 1


def test_outpaint_scale_is_the_documents_or_larger_for_deep_growth():
    assert editing.outpaint_scale((3000, 4000), (0, 0, 256, 0), 16, 8) == 23  # document's
    assert editing.outpaint_scale((480, 640), (0, 0, 64, 0), 16, 8) == 3
    assert editing.outpaint_scale((100, 100), (0, 0, 96, 0), 16, 8) == 1  # 6 cells + 2
    assert editing.outpaint_scale((100, 100), (0, 0, 200, 0), 16, 8) == 3  # 5 cells + 2
    # growth too deep for any scale: the grown canvas in one window
    assert editing.outpaint_scale((100, 100), (0, 0, 4000, 0), 16, 8) == 33


def test_outpaint_passes_overlap_and_cross_fade(session):
    image = np.full((64, 64, 3), 120, dtype=np.uint8)
    image[:, :, 0] = np.arange(64, dtype=np.uint8)[None, :] * 2
    run = session.outpaint(image, right=64, class_id=1, sampler=FAST, scale=1, previews=False)
    steps = list(run)
    by_pass = {s.pass_index: s for s in steps}
    assert sorted({s.window for s in steps}) == [(32, 0, 96, 64), (64, 0, 128, 64)]
    second = by_pass[1]
    # The second pass (canvas cells 8..15) regenerates its own cells 12..15 and the column of
    # cells the first pass generated next to them (11): window columns 3..7.
    assert second.editable[:, 3:].all() and not second.editable[:, :3].any()
    fixed = ~second.editable
    first_ids = [s for s in steps if s.pass_index == 1][0].ids
    for s in (s for s in steps if s.pass_index == 1):
        np.testing.assert_array_equal(s.ids[:, fixed], first_ids[:, fixed])
    out, changed = run.result.images[0], run.result.changed
    np.testing.assert_array_equal(out[:, :64][~changed[:, :64]], image[~changed[:, :64]])
    assert changed[:, 64:].all()


def test_refine_remasks_a_strength_fraction_of_the_selected_tokens(session, image):
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[40:72, 48:88] = True  # 4 x 5 cells at scale 1
    for order in ("confidence", "random"):
        run = session.refine(image, mask, 0.4, order, 1, FAST, scale=1, previews=False)
        steps = list(run)
        first = steps[0]
        editable = first.editable
        assert editable.sum() == 20
        masked_at_start = first.masked[0] | first.revealed[0]
        assert masked_at_start.sum() == math.ceil(0.4 * 20)
        assert not (masked_at_start & ~editable).any()
        fixed = ~editable
        for s in steps:  # tokens outside the selection are never resampled
            np.testing.assert_array_equal(s.ids[:, fixed], first.ids[:, fixed])
        assert run.result.request["refine"] == {"strength": 0.4, "order": order}
        np.testing.assert_array_equal(
            run.result.images[0][~run.result.changed], image[~run.result.changed]
        )
    with pytest.raises(ValueError, match="strength"):
        session.refine(image, mask, 0.0)
    with pytest.raises(ValueError, match="order"):
        session.refine(image, mask, 0.5, "sideways")


def test_refine_confidence_order_picks_the_least_likely_tokens(session, image):
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[40:72, 48:88] = True
    a = session.refine(image, mask, 0.25, "confidence", 1, FAST, scale=1, previews=False)
    b = session.refine(image, mask, 0.25, "confidence", 1, FAST.replace(seed=9), scale=1)
    first_a, first_b = next(iter(a)), next(iter(b))
    # The same tokens are the least likely whatever the seed's halves were (mostly).
    sel_a = first_a.masked[0] | first_a.revealed[0]
    sel_b = first_b.masked[0] | first_b.revealed[0]
    assert (sel_a & sel_b).sum() >= 0.5 * sel_a.sum()


def test_remove_object_fills_from_the_null_class(session, image, tiny_bundle_no_null_path):
    mask = _disc(image.shape[:2], 60, 70, 10)
    result = session.remove_object(image, mask, FAST, scale=1, previews=False).run_to_end()
    assert result.request["operation"] == "remove_object"
    assert result.request["class_id"] is None
    assert result.request["sampler"]["guidance_scale"] == 0.0
    assert result.request["masked_pixels"] > mask.sum()  # grown around the object
    np.testing.assert_array_equal(result.images[0][~result.changed], image[~result.changed])
    with pytest.raises(ValueError, match="null"):
        EngineSession(tiny_bundle_no_null_path, "cpu").remove_object(image, mask)


def test_edit_options_validate():
    with pytest.raises(ValueError, match="context"):
        EditOptions(context=-1)
    legacy = EditOptions.legacy()
    assert legacy.blend.mode == "alpha" and not legacy.pixel_mask
    assert EditOptions().to_dict()["blend"] == "poisson"
