"""ImageDelta round trips and the undo stack's budget."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.editor.history import Command, ImageDelta, UndoStack


def _image(h, w, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_delta_stores_only_the_changed_rectangle():
    before = _image(64, 64, 0)
    after = before.copy()
    after[10:20, 30:35] = 7
    delta = ImageDelta.between(before, after)
    assert delta.rect == (10, 30, 20, 35)
    assert delta.nbytes == 2 * 10 * 5 * 3
    np.testing.assert_array_equal(delta.apply(before), after)
    np.testing.assert_array_equal(delta.revert(after), before)
    assert ImageDelta.between(before, before.copy()) is None


def test_delta_of_a_grown_canvas_round_trips():
    before = _image(32, 32, 1)
    after = np.zeros((48, 64, 3), dtype=np.uint8)  # grown left 16, right 16, bottom 16
    after[:32, 16:48] = before
    after[32:, :] = 0  # new area that happens to be black still counts as new
    after[5, 20] = 1  # and one changed pixel inside the old area
    delta = ImageDelta.between(before, after, offset=(16, 0))
    np.testing.assert_array_equal(delta.apply(before), after)
    np.testing.assert_array_equal(delta.revert(after), before)


def test_delta_of_unrelated_images_keeps_both():
    before, after = _image(32, 32, 2), _image(16, 40, 3)
    delta = ImageDelta.between(before, after)
    assert delta.rect is None
    np.testing.assert_array_equal(delta.apply(before), after)
    np.testing.assert_array_equal(delta.revert(after), before)


def test_stack_undo_redo_and_branching():
    stack = UndoStack()
    for i in range(3):
        stack.push(Command(f"c{i}", i, i + 1))
    assert stack.undo().label == "c2"
    assert stack.undo().label == "c1"
    assert stack.redo().label == "c1"
    stack.push(Command("new", 2, 3))  # drops c2
    assert stack.redo() is None
    assert [stack.undo().label for _ in range(3)] == ["new", "c1", "c0"]
    assert stack.undo() is None and not stack.can_undo


def test_stack_drops_oldest_past_the_budget():
    stack = UndoStack(max_commands=100, max_bytes=1000)
    big = ImageDelta.between(np.zeros((10, 10, 3), np.uint8), np.ones((10, 10, 3), np.uint8))
    for i in range(5):
        stack.push(Command(f"c{i}", None, None, big))  # 600 bytes each
    assert len(stack) == 1 and stack.undo_label == "c4"
    assert stack.nbytes == 600
    with pytest.raises(ValueError):
        UndoStack(max_commands=0)
