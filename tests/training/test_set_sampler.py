"""`maskgit-train set-sampler`: new recommended settings in a model file, weights bit for bit."""

from __future__ import annotations

import os

import torch
from safetensors import safe_open

from maskgit_studio.engine.checkpoint import load_bundle
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.session import EngineSession
from training.cli import main as cli_main


def _tensors(path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}


def test_set_sampler_changes_only_the_recommended_settings(tiny_bundle_path, tmp_path, capsys):
    out = tmp_path / "tuned.safetensors"
    argv = ["set-sampler", "--model", str(tiny_bundle_path), "--out", str(out),
            "--guidance", "4.5", "--choice-temperature", "3", "--note", "sweep of today"]  # fmt: skip
    assert cli_main(argv) == 0
    assert "guidance_scale" in capsys.readouterr().out
    before, after = _tensors(tiny_bundle_path), _tensors(out)
    assert before.keys() == after.keys()
    for key, value in before.items():  # stored dtype and every bit
        assert after[key].dtype == value.dtype and torch.equal(after[key], value), key
    bundle = load_bundle(out)
    assert bundle.provenance["sampler"]["guidance_scale"] == 4.5
    assert bundle.provenance["sampler"]["choice_temperature"] == 3.0
    (change,) = bundle.provenance["sampler_changes"]
    assert change["to"]["guidance_scale"] == 4.5 and change["note"] == "sweep of today"
    recommended = EngineSession(out, device="cpu").recommended_sampler()
    assert (recommended.guidance_scale, recommended.choice_temperature) == (4.5, 3.0)
    assert set(bundle.provenance["sampler"]) <= {f for f in SamplerConfig.__dataclass_fields__}


def test_set_sampler_refuses_bad_settings_and_leaves_the_file(tiny_bundle_path, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    model.write_bytes(tiny_bundle_path.read_bytes())
    stamp = os.stat(model).st_mtime_ns
    for argv in (["--guidance", "-1"], ["--steps", "0"], []):
        try:
            code = cli_main(["set-sampler", "--model", str(model), *argv])
        except SystemExit as exc:  # refused by the parser
            code = exc.code
        assert code == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert os.stat(model).st_mtime_ns == stamp
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 64)
    assert cli_main(["set-sampler", "--model", str(broken), "--guidance", "2"]) == 2
    assert "broken.safetensors is not a" in capsys.readouterr().err
