"""Document edits, gestures, undo/redo, candidates and accepted results."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.editor import Box, Candidates, Document, Growth, RunRecord


def _doc(h=64, w=80, factor=8, scale=2):
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return Document(image, factor, scale)


def _run(doc, k=2, operation="inpaint"):
    tokens = np.arange(k * 4 * 5, dtype=np.int32).reshape(k, 4, 5)
    order = np.full((k, 4, 5), -1, dtype=np.int16)
    order[:, 1, 1:3] = [0, 1]
    record = RunRecord(doc.next_run_id(), operation, {"seed": 3}, tokens, order)
    return doc.add_run(record)


def test_image_is_read_only_and_validated():
    doc = _doc()
    assert doc.shape == (64, 80) and doc.cell_size == 16 and doc.grid_shape == (4, 5)
    with pytest.raises(ValueError):
        doc.image[0, 0, 0] = 1
    with pytest.raises(ValueError, match="uint8"):
        Document(np.zeros((8, 8, 3), np.float32), 8)
    with pytest.raises(ValueError, match=">= 1"):
        Document(np.zeros((8, 8, 3), np.uint8), 8, 0)


def test_a_stroke_is_one_undo_step():
    doc = _doc()
    seen = []
    doc.subscribe(seen.append)
    with doc.gesture("Brush stroke"):
        doc.paint([(0, 0)])
        doc.paint([(1, 1), (2, 2)])
    assert doc.mask.sum() == 3
    assert {"mask"} in seen and {"mask", "history"} in seen
    assert len(doc.history) == 1 and doc.history.undo_label == "Brush stroke"
    assert doc.undo() and doc.mask.sum() == 0
    assert doc.redo() and doc.mask.sum() == 3
    assert not doc.redo()


def test_no_op_edits_leave_no_history():
    doc = _doc()
    doc.paint([(0, 0)], value=False)
    doc.clear_mask()
    assert len(doc.history) == 0 and doc.version == 0


def test_mask_operations():
    doc = _doc()
    doc.paint([(1, 1)])
    doc.grow_mask()
    assert doc.mask.sum() == 9
    doc.invert_mask()
    assert doc.mask.sum() == 20 - 9
    doc.clear_mask()
    assert doc.mask.sum() == 0
    assert [doc.undo() for _ in range(3)] == [True] * 3
    assert doc.mask.sum() == 1
    assert doc.undo() and doc.mask.sum() == 0 and not doc.undo()
    with pytest.raises(ValueError, match="cells"):
        doc.set_mask(np.zeros((2, 2), bool))


def test_pixel_mask_matches_cells():
    doc = _doc()
    doc.paint([(3, 4)])  # the partial-free corner cell
    px = doc.pixel_mask()
    assert px.shape == (64, 80) and px[48:64, 64:80].all() and px.sum() == 256


def test_boxes_add_change_delete_undo():
    doc = _doc()
    i = doc.add_box(Box(16, 16, 32, 16, class_id=3))
    doc.set_box(i, Box(0, 0, 16, 16, 3), "Move box")
    assert doc.boxes == (Box(0, 0, 16, 16, 3),)
    doc.remove_box(0)
    assert doc.boxes == ()
    doc.undo()
    doc.undo()
    assert doc.boxes == (Box(16, 16, 32, 16, 3),)
    with pytest.raises(ValueError, match="outside"):
        doc.add_box(Box(70, 0, 16, 16))
    with pytest.raises(ValueError, match="positive"):
        Box(0, 0, 0, 4)


def test_growth_and_regrid():
    doc = _doc()
    doc.set_growth(Growth(right=2, top=1))
    assert doc.growth.grown_shape(doc.shape, doc.cell_size) == (80, 112)
    doc.paint([(1, 1)])
    doc.set_grid(scale=1)  # cell 16 -> 8: the selected cell becomes 2x2 cells
    assert doc.grid_shape == (8, 10) and doc.mask.sum() == 4 and doc.mask[2:4, 2:4].all()
    doc.undo()
    assert doc.cell_size == 16 and doc.mask.sum() == 1
    with pytest.raises(ValueError):
        Growth(left=-1)


def test_growth_is_whole_cells_and_new_cells_include_partial_ones():
    # 70 px wide at 16 px cells: 5 columns, the last one partial (6 px)
    growth = Growth(left=1, right=1)
    assert growth.pixels(16) == (16, 0, 16, 0)
    assert growth.grown_shape((40, 70), 16) == (40, 102)
    new = growth.new_cells((40, 70), 16)
    assert new.shape == (3, 7)
    # column 0 is new; the old partial column 5 (px 86..101 holds new px 86..101) and column 6
    assert new.all(axis=0).tolist() == [True, False, False, False, False, True, True]
    assert Growth(bottom=2).grown_shape((40, 70), 16) == (72, 70)


def test_candidates_browse_accept_is_one_undoable_step():
    doc = _doc()
    doc.paint([(1, 1)])
    i = doc.add_box(Box(0, 0, 16, 16, 1))
    run = _run(doc)
    images = [np.full((64, 80, 3), v, np.uint8) for v in (10, 20)]
    with pytest.raises(ValueError, match="run log"):
        doc.set_pending(Candidates(images, (0, 0), np.ones((64, 80), bool), 99, "inpaint"))
    doc.set_pending(Candidates(images, (0, 0), np.ones((64, 80), bool), run.id, "edit_box", i))
    doc.browse_pending(1)
    assert doc.pending.index == 1
    doc.browse_pending(1)
    assert doc.pending.index == 0
    doc.browse_pending(-1)
    before = doc.image.copy()
    assert doc.accept_pending()
    assert doc.pending is None and (doc.image == 20).all()
    assert doc.mask.sum() == 1 and len(doc.boxes) == 1  # they stay: the next run tries again
    assert doc.runs[-1].accepted == 1
    assert doc.history.undo_label == "Accept edit box"
    doc.undo()
    np.testing.assert_array_equal(doc.image, before)
    assert doc.mask.sum() == 1 and len(doc.boxes) == 1
    doc.redo()
    assert (doc.image == 20).all()
    assert not doc.accept_pending()


def test_accepting_an_outpaint_shifts_origin_and_boxes():
    doc = _doc()
    doc.add_box(Box(16, 16, 16, 16))
    doc.set_growth(Growth(left=1, top=1))
    run = _run(doc, k=1, operation="outpaint")
    grown = np.zeros((80, 96, 3), np.uint8)
    grown[16:, 16:] = doc.image
    doc.set_pending(Candidates([grown], (16, 16), np.ones((80, 96), bool), run.id, "outpaint"))
    doc.accept_pending()
    assert doc.shape == (80, 96) and doc.origin == (16, 16) and not doc.growth.any
    assert doc.boxes == (Box(32, 32, 16, 16),) and doc.grid_shape == (5, 6)
    np.testing.assert_array_equal(doc.image[16:, 16:], doc.original)
    doc.undo()
    assert doc.shape == (64, 80) and doc.origin == (0, 0) and doc.growth == Growth(1, 1)


def test_edits_and_undo_discard_pending_candidates():
    doc = _doc()
    run = _run(doc)
    cand = Candidates([doc.image.copy()], (0, 0), np.ones((64, 80), bool), run.id, "inpaint")
    doc.set_pending(cand)
    doc.paint([(0, 0)])
    assert doc.pending is None
    doc.set_pending(cand)
    doc.undo()
    assert doc.pending is None


def test_generate_on_blank_replaces_the_original():
    doc = Document.blank(32, 8)
    assert doc.is_blank and (doc.image == 48).all()
    run = _run(doc, k=1, operation="generate")
    new = np.full((32, 32, 3), 200, np.uint8)
    doc.set_pending(Candidates([new], (0, 0), np.ones((32, 32), bool), run.id, "generate"))
    doc.accept_pending()
    assert not doc.is_blank and doc.original is doc.image
    doc.undo()
    assert doc.is_blank and (doc.original == 48).all()


def test_run_record_token_log():
    doc = _doc()
    run = _run(doc)
    assert run.steps == 2 and run.variations == 2
    ids = run.ids_at(0, 1, mask_id=999)
    assert (
        ids[1, 1] == run.tokens[1, 1, 1] and ids[1, 2] == 999 and ids[0, 0] == run.tokens[1, 0, 0]
    )
    assert run.ids_at(1, 1, 999)[1, 2] == run.tokens[1, 1, 2]
    with pytest.raises(ValueError, match="K, h, w"):
        RunRecord(1, "x", {}, np.zeros((2, 2)), np.zeros((2, 2)))


def test_many_edits_keep_memory_bounded():
    doc = _doc(256, 256, 8, 1)
    for i in range(200):
        doc.paint([(i % 32, (i * 7) % 32)])
    # 200 strokes on a 32x32 grid: snapshots only, about 2 x 1 KiB each
    assert doc.history.nbytes < 200 * 2 * 1024 + 1
