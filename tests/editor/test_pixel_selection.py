"""Pixel-precise selections: the round brush, cells turning into pixels, undo, results landing
on a grown canvas, and the project file."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from maskgit_studio.editor import Candidates, Document, RunRecord, project
from maskgit_studio.editor import pixels as pixelmath


def _doc() -> Document:
    return Document(np.full((40, 48, 3), 90, dtype=np.uint8), factor=8)


def test_stamp_disc_selects_pixel_centres_within_the_radius():
    mask = np.zeros((20, 20), dtype=bool)
    assert pixelmath.stamp_disc(mask, 10.0, 10.0, 3.0, True)
    yy, xx = np.mgrid[0:20, 0:20]
    np.testing.assert_array_equal(mask, (xx + 0.5 - 10) ** 2 + (yy + 0.5 - 10) ** 2 <= 9)
    assert not pixelmath.stamp_disc(mask, 10.0, 10.0, 3.0, True)  # nothing new
    tiny = np.zeros((5, 5), dtype=bool)
    pixelmath.stamp_disc(tiny, 2.5, 2.5, 0.1, True)
    assert tiny.sum() == 1 and tiny[2, 2]  # the smallest brush paints one pixel
    points = pixelmath.stroke_points((0, 0), (10, 0), 2.0)
    assert points[-1] == (10, 0) and all(b[0] - a[0] <= 1.0 for a, b in zip(points, points[1:]))


def test_round_brush_selects_pixels_and_touches_cells():
    doc = _doc()
    assert doc.paint_pixels([(24.0, 24.0)], 4.0)
    assert doc.pixels is not None and doc.pixels.sum() == doc.pixel_mask().sum()
    assert not doc.mask.any()  # no whole cells
    touched = doc.selection_cells()
    assert touched.sum() == 4  # the disc straddles the corner of four 8 px cells
    assert doc.pixel_mask().sum() < 4 * 64
    shown, unit = doc.mask_display()
    assert unit == 1 and shown.shape == doc.shape


def test_pixel_stroke_turns_cells_into_pixels_and_erasing_cells_erases_pixels():
    doc = _doc()
    doc.paint([(0, 0)], 1, True)  # one whole cell: pixels 0..7
    doc.paint_pixels([(30.0, 30.0)], 2.0, True)
    assert not doc.mask.any()
    assert doc.pixel_mask()[:8, :8].all() and doc.pixel_mask()[29, 29]
    doc.paint([(3, 3)], 1, False)  # erase the cell under the disc: its pixels go
    assert not doc.pixel_mask()[24:32, 24:32].any()
    assert doc.pixel_mask()[:8, :8].all()
    doc.paint_pixels([(4.0, 4.0)], 1.5, False)  # the eraser in pixel mode
    assert not doc.pixel_mask()[4, 4] and doc.pixel_mask()[0, 0]


def test_pixel_strokes_undo_and_redo():
    doc = _doc()
    with doc.gesture("Brush stroke"):
        doc.paint_pixels([(10.0, 10.0)], 3.0)
        doc.paint_pixels(pixelmath.stroke_points((10.0, 10.0), (30.0, 10.0), 3.0), 3.0)
    after = doc.pixel_mask().copy()
    assert after[10, 10:30].all()
    assert doc.undo()
    assert not doc.pixel_mask().any() and doc.pixels is None
    assert doc.redo()
    np.testing.assert_array_equal(doc.pixel_mask(), after)


def test_clear_invert_grow_and_set_mask():
    doc = _doc()
    doc.paint_pixels([(20.0, 20.0)], 3.0)
    painted = doc.pixel_mask().copy()
    doc.invert_mask()
    np.testing.assert_array_equal(doc.pixel_mask(), ~painted)
    doc.invert_mask()
    doc.grow_mask(1)
    grown = doc.pixel_mask()
    assert grown.sum() > painted.sum() and not (painted & ~grown).any()
    doc.set_mask(np.ones(doc.grid_shape, dtype=bool))
    assert doc.pixels is None
    doc.clear_mask()
    assert not doc.pixel_mask().any()
    with pytest.raises(ValueError):
        doc.set_pixels(np.ones((3, 3), dtype=bool))


def test_painted_pixels_follow_a_grown_canvas():
    doc = _doc()
    doc.paint_pixels([(5.0, 5.0)], 2.0)
    before = doc.pixel_mask().copy()
    grown = np.full((40, 48 + 16, 3), 50, dtype=np.uint8)
    changed = np.ones((40, 64), bool)
    result = SimpleNamespace(
        images=[grown],
        changed=changed,
        offset=(16, 0),
        tokens=np.zeros((1, 2, 2), np.int32),
        commit_order=np.full((1, 2, 2), -1, np.int16),
        confidence=np.ones((1, 2, 2), np.float32),
        request={"operation": "outpaint", "seed": 1, "class_id": 0, "sampler": {"steps": 4}},
    )
    record = RunRecord.from_result(doc.next_run_id(), result, None, input_shape=doc.shape)
    doc.add_run(record)
    doc.set_pending(Candidates([grown], (16, 0), changed, record.id, "outpaint"))
    assert doc.accept_pending()
    assert doc.pixels is not None and doc.pixels.shape == (40, 64)
    np.testing.assert_array_equal(doc.pixels[:, 16:], before)


def test_project_keeps_the_painted_pixels(tmp_path):
    doc = _doc()
    doc.paint_pixels([(12.0, 17.0)], 3.5)
    path = tmp_path / "p.mgstudio"
    project.save_project(doc, path)
    loaded = project.load_project(path)
    np.testing.assert_array_equal(loaded.pixel_mask(), doc.pixel_mask())
    assert loaded.pixels is not None
    plain = _doc()
    project.save_project(plain, tmp_path / "q.mgstudio")
    assert project.load_project(tmp_path / "q.mgstudio").pixels is None
