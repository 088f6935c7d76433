"""``maskgit-studio import official|torch``: convert once into the user model folder, where the
model list and ``--model NAME`` find it."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from maskgit_studio.cli import import_cmd
from maskgit_studio.engine import model_store
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.importers.flax_msgpack import write_flax_msgpack
from maskgit_studio.engine.session import EngineSession

from .official_trees import (
    TokShape,
    TrShape,
    port_tokenizer_state,
    port_transformer_state,
    tokenizer_tree,
    transformer_tree,
)

TOK = TokShape(filters=32, channel_multipliers=(1, 2), num_res_blocks=1, embedding_dim=8, codebook_size=16)  # fmt: skip
TR = TrShape(vocab_size=1017, hidden_size=48, num_layers=1, num_heads=1, intermediate_size=64, latent_size=4)  # fmt: skip


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="maskgit-studio")
    import_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.fixture()
def user_models(tmp_path, monkeypatch):
    folder = tmp_path / "user-models"
    monkeypatch.setenv("MASKGIT_STUDIO_MODELS", str(folder))
    return folder


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    tok_tree, tr_tree = tokenizer_tree(TOK, seed=11), transformer_tree(TR, seed=12)
    write_flax_msgpack(folder / "tokenizer_imagenet8_checkpoint", tok_tree)
    write_flax_msgpack(folder / "maskgit_imagenet8_checkpoint", tr_tree)
    torch.save({"state_dict": port_tokenizer_state(tok_tree, TOK)}, folder / "tokenizer.ckpt")
    torch.save({"state_dict": port_transformer_state(tr_tree)}, folder / "maskgit.ckpt")
    return folder


def test_import_official_then_use_by_name(files, user_models, capsys):
    rc = run_cli(
        "import", "official",
        "--tokenizer", str(files / "tokenizer_imagenet8_checkpoint"),
        "--transformer", str(files / "maskgit_imagenet8_checkpoint"),
    )  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert "imported 'maskgit-imagenet8'" in out and "--model maskgit-imagenet8" in out
    entries = {e.name: e for e in model_store.list_models()}
    assert entries["maskgit-imagenet8"].source == "user"
    assert entries["maskgit-imagenet8"].path == user_models / "maskgit-imagenet8.safetensors"
    assert not [p for p in user_models.iterdir() if p.suffix != ".safetensors"]  # no temp files

    session = EngineSession("maskgit-imagenet8", device="cpu")
    assert session.info.class_names[207] == "golden retriever"
    run = session.generate(207, SamplerConfig(steps=4, seed=3), variations=2, previews=False)
    result = run.run_to_end()
    assert run.total_steps == 4 and len(result.images) == 2
    assert result.images[0].shape == (8, 8, 3) and result.images[0].dtype == np.uint8
    assert result.tokens.shape == (2, 4, 4) and result.tokens.max() < 16  # image codes only


def test_import_torch_with_name(files, user_models, capsys):
    rc = run_cli(
        "import", "torch",
        "--tokenizer", str(files / "tokenizer.ckpt"),
        "--transformer", str(files / "maskgit.ckpt"),
        "--name", "port-8",
    )  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    assert model_store.resolve_model("port-8") == user_models / "port-8.safetensors"


def test_errors_are_one_line_and_exit_2(files, user_models, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.write_bytes((files / "maskgit_imagenet8_checkpoint").read_bytes()[:-100])
    rc = run_cli(
        "import", "official",
        "--tokenizer", str(files / "tokenizer_imagenet8_checkpoint"),
        "--transformer", str(broken),
    )  # fmt: skip
    assert rc == 2
    err = capsys.readouterr().err
    assert "error:" in err and "truncated" in err and "Traceback" not in err
    assert not user_models.exists() or not list(user_models.iterdir())


def test_existing_name_needs_force(files, user_models, capsys):
    argv = [
        "import", "official",
        "--tokenizer", str(files / "tokenizer_imagenet8_checkpoint"),
        "--transformer", str(files / "maskgit_imagenet8_checkpoint"),
        "--name", "twice",
    ]  # fmt: skip
    assert run_cli(*argv) == 0
    assert run_cli(*argv) == 2
    assert "already exists" in capsys.readouterr().err
    assert run_cli(*argv, "--force") == 0


def test_sub_command_is_required():
    with pytest.raises(SystemExit):
        run_cli("import")
