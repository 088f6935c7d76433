"""Edit geometry and feathered composite (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.engine import editing as ed
from maskgit_studio.engine import editing_composite as ec


def test_cell_grid_shape_counts_partial_cells():
    assert ed.cell_grid_shape((100, 64), 16) == (7, 4)
    assert ed.cell_grid_shape((1, 1), 32) == (1, 1)
    with pytest.raises(ValueError):
        ed.cell_grid_shape((0, 10), 16)


def test_pixel_mask_snaps_any_touched_cell():
    mask = np.zeros((40, 50), dtype=bool)
    mask[15, 16] = True  # cell (0, 1)
    mask[39, 49] = True  # partial last cell (2, 3)
    cells = ed.pixel_mask_to_cells(mask, 16)
    assert cells.shape == (3, 4)
    assert set(zip(*np.nonzero(cells), strict=True)) == {(0, 1), (2, 3)}
    # Every selected pixel lies in a selected cell.
    assert not (mask & ~ed.cells_to_pixels(cells, 16, mask.shape)).any()


def test_box_cells_cover_box_plus_one_ring_clipped():
    cells = ed.box_to_cells((128, 128), (20, 20, 30, 10), 16)  # px 20..50 x 20..30
    # touched cells: cols 1..3, rows 1..1; ring -> cols 0..4, rows 0..2
    expected = np.zeros((8, 8), dtype=bool)
    expected[0:3, 0:5] = True
    np.testing.assert_array_equal(cells, expected)
    no_ring = ed.box_to_cells((128, 128), (20, 20, 30, 10), 16, ring=0)
    assert no_ring.sum() == 3
    with pytest.raises(ValueError, match="outside"):
        ed.box_to_cells((128, 128), (200, 0, 10, 10), 16)
    with pytest.raises(ValueError, match="> 0"):
        ed.box_to_cells((128, 128), (0, 0, 0, 10), 16)


def test_growth_snaps_up_to_whole_cells_and_marks_new_cells():
    growth = ed.snap_growth(left=1, top=0, right=16, bottom=17, cell=16)
    assert growth == ed.Growth(16, 0, 16, 32)
    assert growth.new_shape((32, 32)) == (64, 64)
    cells = ed.outpaint_cells((32, 32), growth, 16)
    assert cells.shape == (4, 4)
    assert not cells[0:2, 1:3].any()  # the input's cells
    assert cells.sum() == 16 - 4
    with pytest.raises(ValueError):
        ed.snap_growth(-1, 0, 0, 0, 16)


def test_default_and_auto_scale():
    assert ed.default_scale((100, 300), 128) == 1
    assert ed.default_scale((1024, 768), 128) == 6
    # A small box on a big document: smallest scale where box + ring take <= half the window.
    scale = ed.auto_scale((1024, 1024), (500, 500, 100, 100), f=16, grid=8, ring=1)
    cells = ed.box_to_cells((1024, 1024), (500, 500, 100, 100), 16 * scale, ring=1)
    r0, c0, r1, c1 = ed.cells_bbox(cells)
    assert max(r1 - r0, c1 - c0) <= 4
    assert scale > 1
    # A mask covering everything: the scale at which the document fits one window.
    assert ed.auto_scale((300, 200), np.ones((300, 200), bool), f=16, grid=8) == 3


def test_single_window_for_small_region_centred_with_context():
    todo = np.zeros((20, 20), dtype=bool)
    todo[9:12, 9:12] = True
    passes = ed.plan_passes(todo, grid=8)
    assert len(passes) == 1
    win = passes[0].window
    assert (win.row, win.col, win.size) == (6, 6, 8)
    assert passes[0].editable.sum() == 9
    assert passes[0].editable[3:6, 3:6].all()


def test_window_clipped_to_document_edge():
    todo = np.zeros((10, 12), dtype=bool)
    todo[0, 11] = True
    (only,) = ed.plan_passes(todo, grid=8)
    assert (only.window.row, only.window.col) == (0, 4)
    assert only.editable[0, 7]


def test_outpaint_large_growth_takes_overlapping_half_window_passes():
    growth = ed.Growth(0, 0, 8 * 16, 0)
    cells = ed.outpaint_cells((128, 128), growth, 16)  # 8 x 16 cells, right half new
    passes = ed.plan_passes(cells, grid=8)
    assert [p.window.col for p in passes] == [4, 8]
    for p in passes:
        np.testing.assert_array_equal(p.editable[:, 4:], True)
        np.testing.assert_array_equal(p.editable[:, :4], False)


def test_outpaint_small_growth_one_pass_and_all_sides_covered():
    growth = ed.Growth(16, 16, 16, 16)
    cells = ed.outpaint_cells((96, 96), growth, 16)  # 8 x 8 canvas, 1-cell ring new
    passes = ed.plan_passes(cells, grid=8)
    assert len(passes) == 1
    np.testing.assert_array_equal(passes[0].editable, cells)


def test_plan_covers_every_todo_cell_exactly_once():
    rng = np.random.default_rng(0)
    todo = rng.random((23, 17)) < 0.3
    covered = np.zeros_like(todo, dtype=int)
    for p in ed.plan_passes(todo, grid=8):
        part = covered[p.window.cell_slices()]
        part += p.editable[: part.shape[0], : part.shape[1]]
    np.testing.assert_array_equal(covered, todo.astype(int))


def test_editing_start_iter_recipe():
    assert ed.editing_start_iter(12, 0) == 2
    assert ed.editing_start_iter(6, 0) == 1
    assert ed.editing_start_iter(1, 0) == 0
    assert ed.editing_start_iter(12, 5) == 5


def test_crop_padded_replicates_edges():
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    out = ec.crop_padded(img, (3, 2, 7, 6))
    assert out.shape == (4, 4, 3)
    np.testing.assert_array_equal(out[0, 0], img[2, 3])
    np.testing.assert_array_equal(out[3, 3], img[3, 4])


def test_downscale_is_exact_cell_mean_and_upscale_restores_size():
    img = np.zeros((8, 8, 3), dtype=np.uint8)
    img[:4, :4] = 200
    small = ec.downscale(img, 4)
    assert small.shape == (2, 2, 3)
    assert small[0, 0, 0] == 200 and small[1, 1, 0] == 0
    assert ec.upscale(small, 4).shape == (8, 8, 3)


@pytest.mark.parametrize("radius", [0, 1, 5, 7, 16])
def test_feather_support_is_exactly_the_dilation(radius):
    region = np.zeros((96, 96), dtype=bool)
    region[20:56, 24:60] = True
    weights, changed = ec.feather_weights(region, radius)
    expected = np.zeros_like(region)
    expected[20 - radius : 56 + radius, 24 - radius : 60 + radius] = True
    np.testing.assert_array_equal(changed, expected)
    np.testing.assert_array_equal(weights > 0, expected)
    assert weights.max() <= 1.0 and weights.min() >= 0.0
    if radius:
        # Deep inside: fully generated; the blend ramps across the region border.
        assert weights[38, 42] == 1.0
        assert 0.3 < weights[20, 42] < 0.7


def test_composite_keeps_outside_pixels_bit_exact():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    new = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    region = np.zeros((48, 48), dtype=bool)
    region[16:32, 16:32] = True
    weights, changed = ec.feather_weights(region, 5)
    out = ec.composite(base, new, weights, changed)
    np.testing.assert_array_equal(out[~changed], base[~changed])
    np.testing.assert_array_equal(out[24, 24], new[24, 24])
    assert (out[changed] != base[changed]).any()


def test_default_feather_is_official_radius_at_scale():
    assert ec.default_feather(256, 1) == 15
    assert ec.default_feather(128, 2) == 14
