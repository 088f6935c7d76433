"""Token-cell geometry: grid shape, conversions, brush, lines, snapping."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.editor import cells


def test_grid_shape_counts_partial_cells():
    assert cells.grid_shape(128, 128, 16) == (8, 8)
    assert cells.grid_shape(130, 100, 16) == (9, 7)
    with pytest.raises(ValueError, match="cell size"):
        cells.grid_shape(10, 10, 0)


def test_cells_to_pixels_and_back_is_exact():
    mask = np.zeros((3, 4), dtype=bool)
    mask[1, 2] = mask[2, 3] = True
    pixels = cells.cells_to_pixels(mask, (40, 50), 16)  # last row/col partial
    assert pixels.shape == (40, 50)
    assert pixels[16:32, 32:48].all() and pixels[32:40, 48:50].all()
    assert pixels.sum() == 16 * 16 + 8 * 2
    np.testing.assert_array_equal(cells.pixels_to_cells(pixels, 16), mask)


def test_pixels_to_cells_selects_cells_touched_by_any_pixel():
    pixels = np.zeros((32, 32), dtype=bool)
    pixels[17, 3] = True
    out = cells.pixels_to_cells(pixels, 16)
    assert out.tolist() == [[False, False], [True, False]]


def test_cell_at_floors_negative_coordinates():
    assert cells.cell_at(15.9, 16.0, 16) == (1, 0)
    assert cells.cell_at(-0.5, 3, 16) == (0, -1)


def test_line_cells_has_no_gaps():
    line = cells.line_cells((0, 0), (3, 7))
    assert line[0] == (0, 0) and line[-1] == (3, 7)
    for (r0, c0), (r1, c1) in zip(line, line[1:], strict=False):
        assert max(abs(r1 - r0), abs(c1 - c0)) == 1


def test_stamp_clips_and_reports_change():
    mask = np.zeros((4, 4), dtype=bool)
    assert cells.stamp(mask, 0, 0, 3, True)
    assert mask.sum() == 4  # a 3x3 brush centred on the corner keeps 2x2 cells
    assert not cells.stamp(mask, 0, 0, 1, True)
    assert cells.stamp(mask, 3, 3, 2, True)  # even size reaches up/left
    assert mask[2:4, 2:4].all()
    assert not cells.stamp(mask, 10, 10, 1, True)


def test_grow_dilates_in_eight_directions():
    mask = np.zeros((5, 5), dtype=bool)
    mask[2, 2] = True
    assert cells.grow(mask).sum() == 9
    assert cells.grow(mask, 2).all()


def test_regrid_keeps_every_selected_pixel_covered():
    mask = np.zeros((4, 4), dtype=bool)
    mask[1, 1] = True  # pixels 16..31 at cell 16
    out = cells.regrid(mask, (64, 64), 16, 32)
    assert out.tolist() == [[True, False], [False, False]]


@pytest.mark.parametrize(
    ("drag", "expected"),
    [
        ((5, 5, 40, 20), (0, 0, 48, 32)),
        ((40, 20, 5, 5), (0, 0, 48, 32)),  # dragged up-left
        ((20, 20, 20, 20), (16, 16, 16, 16)),  # a click makes one cell
        ((-30, -30, 300, 300), (0, 0, 100, 80)),  # clipped to a 100x80 image (partial cells)
        ((100, 80, 100, 80), (96, 80 - 16, 4, 16)),  # a click on the far corner: last cell
    ],
)
def test_snap_rect(drag, expected):
    assert cells.snap_rect(*drag, 16, (80, 100)) == expected


def test_rect_cells_with_ring_is_clipped():
    out = cells.rect_cells((16, 16, 16, 32), (64, 64), 16, ring=1)
    assert out.astype(int).tolist() == [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0]]
