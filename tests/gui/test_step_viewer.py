"""The step viewer: a column per step, scrubbing, play, maps, export pictures."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.gui import step_render
from maskgit_studio.gui.qimage import to_array
from maskgit_studio.gui.step_viewer import StepViewer


@pytest.fixture
def steps(session):
    run = session.generate(1, SamplerConfig(steps=5, seed=2), variations=2)
    out = list(run)
    return out, run.result


def _viewer(qtbot, steps) -> StepViewer:
    """A viewer fed with every step of a run, as the window does."""
    viewer = StepViewer()
    qtbot.addWidget(viewer)
    viewer.start_run("Generate", total=len(steps))
    for s in steps:
        viewer.add_step(s)
    return viewer


def test_scrubbing_shows_each_step(qtbot, steps):
    steps, _ = steps
    viewer = _viewer(qtbot, steps)
    viewer.end_run(finished=True)
    assert len(viewer.strip.columns) == 5 and viewer.position == 4
    assert viewer.branch_button.isEnabled()
    viewer.slider.setValue(1)
    assert viewer.strip.selected == 1 and viewer.step_label.text() == "Iteration 2 of 5"
    image = to_array(viewer.detail["image"].pixmap().toImage())
    np.testing.assert_array_equal(image, step_render.fit(steps[1].preview[0], 128))
    viewer.variation.setValue(2)
    image = to_array(viewer.detail["image"].pixmap().toImage())
    np.testing.assert_array_equal(image, step_render.fit(steps[1].preview[1], 128))


def test_play_runs_to_the_end(qtbot, steps):
    steps, _ = steps
    viewer = _viewer(qtbot, steps)
    viewer.timer.setInterval(10)
    viewer.play_button.setChecked(True)  # from the last step it restarts at the first
    assert viewer.position == 0
    qtbot.waitUntil(lambda: not viewer.play_button.isChecked(), timeout=5000)
    assert viewer.position == 4


def test_commit_order_and_token_masks_follow_the_steps(steps):
    steps, result = steps
    last = len(steps) - 1
    order = step_render.commit_order(steps, last, 0)
    # a generation commits every token; the order agrees with the engine's record
    np.testing.assert_array_equal(order, result.commit_order[0])
    mask = step_render.token_mask_image(steps[0].masked[0], steps[0].revealed[0])
    revealed = steps[0].revealed[0]
    assert (mask[revealed] == step_render.REVEALED).all()
    assert (mask[steps[0].masked[0]] == step_render.MASKED).all()


def test_strip_and_gif_frames(qtbot, steps):
    steps, _ = steps
    viewer = _viewer(qtbot, steps)
    strip = viewer.strip_image()
    assert strip.shape == (2 * 132 + 4, 5 * 132 + 4, 3)
    np.testing.assert_array_equal(
        strip[4 + 132 : 4 + 132 + 128, 4 : 4 + 128], step_render.fit(steps[0].preview[0], 128)
    )
    frames = viewer.gif_frames(size=64)
    assert len(frames) == 5 and frames[0].shape == (64 + 8, 2 * 68 + 4, 3)
