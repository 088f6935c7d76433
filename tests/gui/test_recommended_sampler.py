"""The parameters panel starts from the loaded model's recommended sampling settings."""

from __future__ import annotations

from maskgit_studio.engine.checkpoint import save_bundle
from maskgit_studio.engine.session import EngineSession
from tests.conftest import TINY_CLASSES, make_tiny_models

from .conftest import make_window


def test_panel_shows_the_models_recommended_settings(qtbot, settings, tmp_path):
    tok, tr = make_tiny_models()
    sampler = {"steps": 7, "schedule": "cubic", "choice_temperature": 3.0, "guidance_scale": 2.5}
    path = save_bundle(tmp_path / "rec.safetensors", tok, tr, TINY_CLASSES, {"sampler": sampler})
    session = EngineSession(path, device="cpu")
    window = make_window(qtbot, session, settings, tmp_path / "autosave")
    window.start(None)
    qtbot.waitUntil(lambda: window.info is not None and not window.controller.busy, timeout=20_000)
    used = window.params.sampler()
    assert (used.steps, used.schedule, used.choice_temperature, used.guidance_scale) == (
        7,
        "cubic",
        3.0,
        2.5,
    )
    window.close()
    session.close()
