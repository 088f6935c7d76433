"""`maskgit-train all` on the tiny recipe -> a bundle the engine loads and generates with."""

from __future__ import annotations

import torch

from maskgit_studio.engine.checkpoint import load_bundle
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.sampler import class_conditional_logits, decode_steps
from training.cli import main


def test_all_then_export_loads_in_the_engine_and_generates(tmp_path, caplog):
    out = tmp_path / "run"
    assert main(["all", "--recipe", "tiny", "--out", str(out)]) == 0
    bundle_path = out / "model.safetensors"
    assert not (out / "decoder").exists()  # the decoder stage is off unless decoder.steps > 0
    bundle = load_bundle(bundle_path)
    assert bundle.image_size == 32 and len(bundle.class_names) == 12
    prov = bundle.provenance
    assert prov["recipe_name"] == "tiny" and prov["recipe"]["transformer"]["steps"] == 12
    assert prov["data"]["source"] == "procedural" and prov["data"]["tokenized_images"] == 48
    assert prov["metrics"]["tokenizer"]["psnr"] > 0
    assert "masked_ce" in prov["metrics"]["transformer"]
    assert prov["training"]["transformer_weights"] == "EMA"
    assert prov["sampler"] == {
        "steps": 12,
        "schedule": "cosine",
        "choice_temperature": 4.5,
        "guidance_scale": 2.0,
    }

    # A guided class-conditional generation runs end to end.
    tr = bundle.transformer
    cfg = tr.config
    n = cfg.num_image_tokens
    ids = torch.full((2, n), cfg.mask_id)
    classes = torch.tensor([cfg.class_token_id(0), cfg.class_token_id(5)])
    logits_fn = class_conditional_logits(tr, classes, 2.0, cfg.null_class_id)
    sampler = SamplerConfig(steps=4)
    with torch.no_grad():
        steps = list(decode_steps(logits_fn, ids, cfg.mask_id, sampler, torch.Generator()))
        final = steps[-1].ids
        images = bundle.tokenizer.decode_indices(final.view(2, cfg.grid_size, cfg.grid_size))
    assert len(steps) == 4 and (final < cfg.codebook_size).all()
    assert images.shape == (2, 3, 32, 32) and 0 <= float(images.min()) <= float(images.max()) <= 1

    # Running `all` again skips every finished stage and leaves the bundle alone.
    mtime = bundle_path.stat().st_mtime_ns
    caplog.set_level("INFO")
    assert main(["all", "--recipe", "tiny", "--out", str(out)]) == 0
    assert bundle_path.stat().st_mtime_ns == mtime
    text = caplog.text
    assert "tokenizer stage already complete" in text
    assert "pretokenize already complete" in text
    assert "transformer stage already complete" in text

    # An explicit export can go anywhere.
    other = tmp_path / "copy.safetensors"
    assert main(["export", "--recipe", "tiny", "--out", str(out), "--output", str(other)]) == 0
    assert load_bundle(other).class_names == bundle.class_names


def test_cli_reports_bad_overrides_and_missing_stages(tmp_path, capsys):
    assert main(["tokenizer", "--recipe", "tiny", "--set", "tokenizer.nope=1"]) == 2
    assert "unknown recipe key 'tokenizer.nope'" in capsys.readouterr().err
    assert main(["export", "--recipe", "tiny", "--out", str(tmp_path)]) == 2
    assert "run the tokenizer stage" in capsys.readouterr().err


def test_all_trains_on_an_image_folder(tmp_path):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        folder = tmp_path / "images" / name
        folder.mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    out = tmp_path / "run"
    source = f'data.source="{tmp_path / "images"}"'
    assert main(["all", "--recipe", "tiny", "--out", str(out), "--set", source]) == 0
    bundle = load_bundle(out / "model.safetensors")
    assert bundle.class_names == ["cats", "dogs"]
    assert bundle.provenance["data"]["tokenized_images"] == 12
