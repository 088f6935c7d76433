"""The run log keeps what the history shows and restores: previews, confidence, the changed
pixels; results land keeping the selection; a logged run comes back as one undoable step."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from maskgit_studio.editor import Box, Candidates, Document, Growth, RunRecord
from maskgit_studio.editor.run_output import RunOutput


def _result(images, changed, offset=(0, 0), operation="inpaint", k=None):
    k = len(images) if k is None else k
    order = np.full((k, 2, 2), -1, np.int16)
    order[:, 0] = [0, 1]
    return SimpleNamespace(
        images=images,
        changed=changed,
        offset=offset,
        tokens=np.arange(k * 4, dtype=np.int32).reshape(k, 2, 2),
        commit_order=order,
        confidence=np.full((k, 2, 2), 0.5, np.float32),
        request={"operation": operation, "seed": 9, "class_id": 2, "sampler": {"steps": 12}},
    )


def _doc(h=32, w=48):
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return Document(image, 8)


def _inpaint(doc, value=200, rows=slice(8, 16), cols=slice(8, 24)):
    changed = np.zeros(doc.shape, bool)
    changed[rows, cols] = True
    image = doc.image.copy()
    image[changed] = value
    previews = np.full((1, 128, 128, 3), value, np.uint8)
    record = RunRecord.from_result(
        doc.next_run_id(), _result([image], changed), None, previews=previews, input_shape=doc.shape
    )
    doc.add_run(record)
    doc.set_pending(Candidates([image], (0, 0), changed, record.id, "inpaint"))
    return record, image


def test_a_record_keeps_previews_confidence_and_the_changed_pixels():
    doc = _doc()
    record, image = _inpaint(doc)
    assert record.previews.shape == (1, 64, 64, 3) and record.confidence.max() == 128
    assert record.kind == "inpaint" and record.seed == 9 and record.class_id == 2
    assert record.iterations == 12
    out = record.output
    assert out.rect == (8, 8, 16, 24) and out.patches.shape == (1, 8, 16, 3)
    back = RunRecord.from_json(record.to_json())
    np.testing.assert_array_equal(back.previews, record.previews)
    np.testing.assert_array_equal(back.confidence, record.confidence)
    np.testing.assert_array_equal(back.output.patches, out.patches)
    np.testing.assert_array_equal(back.output.changed, out.changed)
    assert back.output.rect == out.rect and back.output.shape == out.shape
    old = record.to_json()
    for key in ("previews", "confidence", "output"):
        del old[key]
    assert RunRecord.from_json(old).output is None  # projects from before still open


def test_an_accepted_result_keeps_the_mask_and_boxes():
    doc = _doc()
    doc.paint([(1, 1), (1, 2)])
    doc.add_box(Box(0, 0, 8, 8, 1))
    _inpaint(doc)
    doc.accept_pending()
    assert doc.mask.sum() == 2 and doc.boxes == (Box(0, 0, 8, 8, 1),)


def test_an_accepted_outpaint_selects_the_new_cells():
    doc = _doc()
    doc.paint([(0, 0)])
    doc.set_growth(Growth(right=1))
    grown = np.zeros((32, 56, 3), np.uint8)
    grown[:, :48] = doc.image
    changed = np.zeros((32, 56), bool)
    changed[:, 40:] = True
    record = RunRecord.from_result(
        doc.next_run_id(), _result([grown], changed), "outpaint", input_shape=doc.shape
    )
    doc.add_run(record)
    doc.set_pending(Candidates([grown], (0, 0), changed, record.id, "outpaint"))
    doc.accept_pending()
    assert doc.grid_shape == (4, 7)
    assert doc.mask[:, 6].all() and doc.mask[0, 0] and doc.mask.sum() == 5


def test_restore_brings_a_run_back_as_one_undoable_step():
    doc = _doc()
    first, image = _inpaint(doc, value=200)
    doc.accept_pending()
    _, second = _inpaint(doc, value=50)
    doc.accept_pending()
    np.testing.assert_array_equal(doc.image, second)
    assert doc.restore_run(first.id, 0)
    np.testing.assert_array_equal(doc.image, image)
    assert doc.history.undo_label == f"Restore run {first.id}"
    doc.undo()
    np.testing.assert_array_equal(doc.image, second)


def test_restore_onto_another_canvas_size_is_refused_or_grows():
    doc = _doc()
    grown = np.full((32, 56, 3), 9, np.uint8)
    grown[:, :48] = doc.image
    changed = np.zeros((32, 56), bool)
    changed[:, 44:] = True
    out = RunOutput.from_images([grown], changed, (0, 0), (32, 48))
    placed, offset = out.over(doc.image, 0)  # onto the canvas it started from: it grows
    np.testing.assert_array_equal(placed, grown)
    assert offset == (0, 0)
    assert out.over(np.zeros((10, 10, 3), np.uint8), 0) is None  # another canvas: refused
    whole = RunOutput.from_images([grown], np.ones((32, 56), bool), (0, 0), (10, 10))
    assert whole.whole and whole.over(np.zeros((10, 10, 3), np.uint8), 0)[0].shape == (32, 56, 3)
