"""``EngineSession.feather_px``: the radius the studio draws is the one an edit blends over."""

from __future__ import annotations

import numpy as np

from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.edit_options import EditOptions
from maskgit_studio.engine.session import EngineSession


def test_the_drawn_feather_is_the_one_an_edit_uses(tiny_bundle_path):
    session = EngineSession(tiny_bundle_path, device="cpu")
    image = np.full((64, 96, 3), 120, np.uint8)
    mask = np.zeros((64, 96), bool)
    mask[16:32, 16:40] = True
    for options in (EditOptions(), EditOptions.legacy()):
        for scale in (1, 2):
            run = session.inpaint(
                image, mask, None, SamplerConfig(steps=4, seed=1), scale=scale, options=options
            )
            assert run.run_to_end().request["feather"] == session.feather_px(scale, options)
    assert session.feather_px(2, EditOptions.legacy()) > session.feather_px(2)
    session.close()
