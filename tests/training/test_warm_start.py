"""Warm starts: a run continues from an exported bundle's weights (tokenizer and transformer)."""

from __future__ import annotations

import pytest
import torch

from maskgit_studio.engine.checkpoint import load_bundle
from training.cli import main


@pytest.fixture(scope="module")
def first_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("first")
    assert main(["all", "--recipe", "tiny", "--out", str(out)]) == 0
    return out / "model.safetensors"


def test_a_second_run_starts_from_the_bundle_and_records_it(first_bundle, tmp_path):
    first = load_bundle(first_bundle)
    out = tmp_path / "second"
    # zero further tokenizer steps: the tokenizer is taken as it is, codebook and all
    args = ["all", "--recipe", "tiny", "--out", str(out)]
    args += ["--set", f'tokenizer.init_from="{first_bundle}"', "--set", "tokenizer.steps=0"]
    args += ["--set", f'transformer.init_from="{first_bundle}"', "--set", "transformer.steps=2"]
    assert main(args) == 0
    second = load_bundle(out / "model.safetensors")
    for name, tensor in first.tokenizer.state_dict().items():
        assert torch.equal(tensor, second.tokenizer.state_dict()[name]), name
    # two more steps moved the transformer, but only a little from where the bundle left it
    a = torch.cat([p.detach().flatten() for p in first.transformer.parameters()])
    b = torch.cat([p.detach().flatten() for p in second.transformer.parameters()])
    fresh = load_bundle(first_bundle)
    torch.manual_seed(0)
    fresh.transformer.apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else 0)
    c = torch.cat([p.detach().flatten() for p in fresh.transformer.parameters()])
    assert 0 < float((a - b).norm()) < 0.5 * float((a - c).norm())
    warm = second.provenance["warm_start"]
    assert warm["tokenizer"]["bundle"] == first_bundle.name
    assert warm["transformer"]["training"]["transformer_steps"] == 12


def test_a_bundle_of_another_shape_is_refused_by_field(first_bundle, tmp_path, capsys):
    out = tmp_path / "other"
    args = ["transformer", "--recipe", "tiny", "--out", str(out)]
    args += ["--set", f'transformer.init_from="{first_bundle}"']
    args += ["--set", "transformer.model.hidden_size=48"]
    assert main(["tokenizer", "--recipe", "tiny", "--out", str(out)]) == 0
    assert main(["pretokenize", "--recipe", "tiny", "--out", str(out)]) == 0
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "init_from does not match" in err and "hidden_size" in err
