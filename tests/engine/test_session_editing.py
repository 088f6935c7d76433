"""Edit invariants through EngineSession on the tiny bundle (64 px model, f = 8, 8x8 window):
outside-region pixels bit-identical, unselected tokens never resampled, same seed same output."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.engine import editing
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.edit_options import EditOptions
from maskgit_studio.engine.session import EngineSession

FAST = SamplerConfig(steps=6, seed=11)


@pytest.fixture(scope="module")
def session(tiny_bundle_path):
    return EngineSession(tiny_bundle_path, device="cpu")


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:90, 0:100]
    base = np.stack([xx * 2, yy * 2, (xx + yy)], axis=-1) % 256
    return (base + rng.integers(0, 20, (90, 100, 3))).clip(0, 255).astype(np.uint8)


def _allowed_region(cells: np.ndarray, cell: int, shape, feather: int) -> np.ndarray:
    """Pixels within ``feather`` px (square) of the selected cells: where changes may happen."""
    px = editing.cells_to_pixels(cells, cell, shape)
    out = np.zeros(shape, dtype=bool)
    for y, x in zip(*np.nonzero(px), strict=True):
        out[max(y - feather, 0) : y + feather + 1, max(x - feather, 0) : x + feather + 1] = True
    return out


def _check_tokens_kept(steps):
    """Within each pass, tokens outside the editable cells never change and are never sampled."""
    by_pass = {}
    for s in steps:
        by_pass.setdefault(s.pass_index, []).append(s)
    for group in by_pass.values():
        fixed = ~group[0].editable
        ref = group[0].ids[:, fixed]
        for s in group:
            np.testing.assert_array_equal(s.ids[:, fixed], ref)
            np.testing.assert_array_equal(s.sampled[:, fixed], ref)
            assert not s.revealed[:, fixed].any()
            assert not s.masked[:, fixed].any()


def test_inpaint_invariants(session, image):
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[30:45, 40:52] = True
    run = session.inpaint(
        image, mask, class_id=1, sampler=FAST, scale=1, options=EditOptions.legacy()
    )
    assert run.total_steps == 5  # start_iter round(2 * 6 / 12) = 1
    steps = list(run)
    assert len(steps) == run.total_steps
    result = run.result
    out = result.images[0]
    assert out.shape == image.shape and result.offset == (0, 0)
    np.testing.assert_array_equal(out[~result.changed], image[~result.changed])
    cells = session.inpaint_cells(image.shape[:2], mask, 1)
    feather = result.request["feather"]
    assert feather == 3
    assert not (result.changed & ~_allowed_region(cells, 8, image.shape[:2], feather)).any()
    assert result.changed[mask].all()
    assert (out[mask] != image[mask]).any()
    _check_tokens_kept(steps)
    assert steps[0].editable.sum() == cells.sum()
    # Window pixel rectangle is cell-aligned and holds the region.
    x0, y0, x1, y1 = steps[0].window
    assert x0 % 8 == 0 and y0 % 8 == 0 and x1 - x0 == 64 and x0 <= 40 and x1 >= 52


def test_inpaint_same_seed_same_output(session, image):
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[5:20, 70:95] = True
    a = session.inpaint(image, mask, 0, FAST, variations=2, previews=False).run_to_end()
    b = session.inpaint(image, mask, 0, FAST, variations=2, previews=False).run_to_end()
    for x, y in zip(a.images, b.images, strict=True):
        np.testing.assert_array_equal(x, y)
    assert (a.images[0] != a.images[1]).any()


def test_inpaint_large_region_multi_pass(session, image):
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[2:88, 5:95] = True  # 11 x 12 cells at scale 1: more than one 8x8 window
    legacy = EditOptions.legacy()
    run = session.inpaint(image, mask, None, FAST, 1, False, 1, 0, legacy)
    steps = list(run)
    passes = {s.pass_index for s in steps}
    assert len(passes) > 1 and steps[0].pass_count == len(passes)
    assert run.total_steps == len(steps) == 5 * len(passes)
    result = run.result
    np.testing.assert_array_equal(result.images[0][~result.changed], image[~result.changed])
    cells = editing.pixel_mask_to_cells(mask, 8)
    np.testing.assert_array_equal(
        result.changed, editing.cells_to_pixels(cells, 8, image.shape[:2])
    )
    _check_tokens_kept(steps)


def test_inpaint_auto_scale_and_errors(session, image):
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[40:44, 40:44] = True
    result = session.inpaint(image, mask, 2, FAST, previews=False).run_to_end()
    assert result.request["scale"] == 1
    np.testing.assert_array_equal(result.images[0][~result.changed], image[~result.changed])
    with pytest.raises(ValueError, match="nothing"):
        session.inpaint(image, np.zeros(image.shape[:2], bool), 0, FAST)
    with pytest.raises(ValueError, match="shape"):
        session.inpaint(image, np.ones((3, 3), bool), 0, FAST)
    with pytest.raises(ValueError, match="uint8"):
        session.inpaint(image.astype(np.float32), mask, 0, FAST)


def test_outpaint_grows_canvas_and_keeps_input(session, image):
    run = session.outpaint(image, right=40, top=3, class_id=0, sampler=FAST, scale=1)
    steps = list(run)
    result = run.result
    assert result.offset == (0, 8)  # top 3 px -> one 8 px cell
    out = result.images[0]
    assert out.shape == (90 + 8, 100 + 40, 3)
    inner = np.zeros(out.shape[:2], dtype=bool)
    inner[8:98, 0:100] = True
    assert result.changed[~inner].all()  # every new pixel is generated
    keep = inner & ~result.changed
    np.testing.assert_array_equal(out[keep], image[keep[8:98, 0:100]])
    assert keep.sum() > 0.5 * inner.sum()
    _check_tokens_kept(steps)
    assert len({s.pass_index for s in steps}) == steps[0].pass_count
    assert run.total_steps == len(steps)
    with pytest.raises(ValueError, match="growth"):
        session.outpaint(image, class_id=0)


def test_outpaint_beyond_half_window_uses_overlapping_passes(session):
    image = np.full((64, 64, 3), 120, dtype=np.uint8)
    run = session.outpaint(image, right=64, class_id=1, sampler=FAST, scale=1, previews=False)
    steps = list(run)
    windows = sorted({s.window for s in steps})
    assert windows == [(32, 0, 96, 64), (64, 0, 128, 64)]
    np.testing.assert_array_equal(run.result.images[0][:, :29], image[:, :29])


def test_edit_box_recipe(session, image, tiny_bundle_no_null_path):
    run = session.edit_box(image, (40, 30, 16, 16), class_id=2, sampler=SamplerConfig(seed=1))
    assert run.total_steps == 10  # official start_iter 2 of 12
    steps = list(run)
    result = run.result
    assert steps[0].index == 2
    cells = session.box_cells(image.shape[:2], (40, 30, 16, 16), 1)
    assert cells.sum() == 5 * 4  # box touches rows 3..5, cols 5..6; + one-cell ring
    np.testing.assert_array_equal(result.images[0][~result.changed], image[~result.changed])
    assert result.changed[30:46, 40:56].all()
    _check_tokens_kept(steps)
    no_null = EngineSession(tiny_bundle_no_null_path, "cpu")
    with pytest.raises(ValueError, match="class"):
        no_null.edit_box(image, (0, 0, 8, 8), None)
    with pytest.raises(ValueError, match="outside"):
        session.edit_box(image, (500, 500, 8, 8), 0)


def test_branch_from_edit_pass(session, image):
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[2:88, 5:95] = True
    run = session.inpaint(image, mask, 1, FAST, scale=1, previews=False)
    steps = list(run)
    second_pass = [s for s in steps if s.pass_index == 1]
    step = second_pass[1]
    branch = session.branch(run.result, step, 0, None, FAST.replace(seed=99), previews=False)
    tail = list(branch)
    assert len(tail) == branch.total_steps
    assert tail[0].pass_index == 1 and tail[0].index == step.index + 1
    result = branch.result
    np.testing.assert_array_equal(result.images[0][~result.changed], image[~result.changed])
    assert (result.images[0] != run.result.images[0]).any()
