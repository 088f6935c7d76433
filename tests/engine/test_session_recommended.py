"""A model's recommended sampling settings reach the session and the CLI's defaults."""

import numpy as np
from PIL import Image

from maskgit_studio.cli import main
from maskgit_studio.engine.checkpoint import save_bundle
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.session import EngineSession
from tests.conftest import TINY_CLASSES, make_tiny_models

RECOMMENDED = {"steps": 5, "schedule": "square", "choice_temperature": 2.0, "guidance_scale": 1.5}


def bundle_with(tmp_path, sampler, null_class=True):
    tok, tr = make_tiny_models(null_class=null_class)
    return save_bundle(tmp_path / "rec.safetensors", tok, tr, TINY_CLASSES, {"sampler": sampler})


def test_session_reads_recommended_sampler(tmp_path, tiny_bundle_path):
    session = EngineSession(bundle_with(tmp_path, RECOMMENDED), device="cpu")
    assert session.recommended_sampler() == SamplerConfig(**RECOMMENDED)
    assert EngineSession(tiny_bundle_path, device="cpu").recommended_sampler() == SamplerConfig()


def test_invalid_or_impossible_settings_fall_back(tmp_path):
    session = EngineSession(bundle_with(tmp_path, {"steps": -3}), device="cpu")
    assert session.recommended_sampler() == SamplerConfig()
    no_null = EngineSession(bundle_with(tmp_path, RECOMMENDED, null_class=False), device="cpu")
    assert no_null.recommended_sampler().guidance_scale == 0.0


def test_cli_uses_recommended_steps_unless_given(tmp_path):
    model = bundle_with(tmp_path, RECOMMENDED)
    out, strip = tmp_path / "g.png", tmp_path / "strip.png"
    assert (
        main(
            [
                "generate",
                "--model",
                str(model),
                "--class",
                "1",
                "--out",
                str(out),
                "--strip",
                str(strip),
            ]
        )
        == 0
    )
    width_recommended = Image.open(strip).width
    assert main(["generate", "--model", str(model), "--class", "1", "--out", str(out),
                 "--strip", str(strip), "--steps", "10"]) == 0  # fmt: skip
    width_ten = Image.open(strip).width
    # One strip column per iteration: 5 recommended steps vs 10 given.
    assert np.isclose(width_ten / width_recommended, 2.0, atol=0.1)
