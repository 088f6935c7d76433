"""Hostile model files through ``maskgit-studio info --model`` and ``import official|torch``:
exit 2, one line, in bounded time and memory; no module is built from an absurd config, nothing
is written, and the files are left as they were."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from maskgit_studio.engine.checkpoint import CheckpointError, load_bundle
from maskgit_studio.engine.importers.flax_msgpack import write_flax_msgpack
from tests.engine.official_trees import TokShape, TrShape, tokenizer_tree, transformer_tree

from . import corpus
from .harness import bounded, cli, fingerprint

MODEL_CASES = [
    "metadata-list", "metadata-null", "metadata-string", "metadata-nested", "version-string",
    "tokenizer-list", "class-names-dict", "class-names-objects", "provenance-list",
    "num-heads-0", "num-heads-negative", "num-layers-string", "num-layers-million",
    "hidden-size-huge", "layer-norm-eps-negative", "dropout-nan", "grid-size-float",
    "num-classes-zero", "image-size-float", "image-size-huge", "norm-eps-negative",
    "norm-eps-string", "num-res-blocks-100k", "channel-mult-empty", "channel-mult-huge",
    "unshuffle-zero", "codebook-zero", "base-channels-bool", "arch-list", "tensor-shape-wrong",
    "tensor-renamed", "pickle", "header-huge", "header-not-json", "empty", "fifo",
    "dev-zero-link", "directory",
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, tiny_bundle_path):
    return corpus.hostile_models(tmp_path_factory.mktemp("hostile-models"), tiny_bundle_path)


@pytest.mark.parametrize("case", MODEL_CASES)
def test_info_refuses_hostile_model(case, hostile, capsys):
    path = hostile[case]
    before = fingerprint(path)
    line = cli(capsys, ["info", "--model", path], seconds=10)
    assert "error" in line
    assert fingerprint(path) == before


@pytest.mark.parametrize("case", MODEL_CASES)
def test_load_bundle_raises_checkpoint_error(case, hostile):
    with bounded(), pytest.raises(CheckpointError):
        load_bundle(hostile[case])


# -- the official format and the PyTorch ports -----------------------------------------------

TOK = TokShape(filters=32, channel_multipliers=(1, 2), num_res_blocks=1, embedding_dim=8, codebook_size=16)  # fmt: skip
TR = TrShape(vocab_size=1017, hidden_size=48, num_layers=1, num_heads=1, intermediate_size=64, latent_size=4)  # fmt: skip


def _official_cases(folder):
    tok, tr = tokenizer_tree(TOK, seed=1), transformer_tree(TR, seed=2)
    write_flax_msgpack(folder / "tok", tok)
    write_flax_msgpack(folder / "tr", tr)
    layer = tr["params"]["TransformerLayer_0"]
    many = {**tr["params"], **{f"TransformerLayer_{i}": {"x": np.zeros(1, np.float32)} for i in range(1, 60_000)}}  # fmt: skip
    write_flax_msgpack(folder / "tr-60000-layers", {"params": many})
    zero_heads = {**tr["params"]}
    zero_heads["TransformerLayer_0"] = {
        **layer,
        "Attention_0": {
            **layer["Attention_0"],
            "self_attention": {
                **layer["Attention_0"]["self_attention"],
                "query": {
                    "kernel": np.zeros((48, 0, 48), np.float32),
                    "bias": np.zeros((0, 48), np.float32),
                },  # fmt: skip
            },
        },
    }
    write_flax_msgpack(folder / "tr-zero-heads", {"params": zero_heads})
    enc = tok["params"]["encoder"]
    blocks = {**enc, **{f"ResBlock_{i}": {"x": np.zeros(1, np.float32)} for i in range(4, 50_000)}}  # fmt: skip
    write_flax_msgpack(folder / "tok-50000-blocks", {"params": {**tok["params"], "encoder": blocks}})  # fmt: skip
    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    torch.jit.save(scripted, str(folder / "torchscript.pth"))
    return folder


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    return _official_cases(tmp_path_factory.mktemp("official"))


@pytest.mark.parametrize(
    "kind,tokenizer,transformer",
    [
        ("official", "tok", "tr-60000-layers"),
        ("official", "tok", "tr-zero-heads"),
        ("official", "tok-50000-blocks", "tr"),
        ("official", "fifo", "tr"),
        ("torch", "torchscript.pth", "torchscript.pth"),
    ],
)
def test_import_refuses_hostile_official_files(kind, tokenizer, transformer, official, tmp_path, capsys):  # fmt: skip
    if tokenizer == "fifo" and not (official / "fifo").exists():
        import os

        os.mkfifo(official / "fifo")
    dest = tmp_path / "models"
    line = cli(capsys, ["import", kind, "--tokenizer", official / tokenizer, "--transformer",
                        official / transformer, "--dest", dest, "--name", "x"], seconds=20)  # fmt: skip
    assert "error" in line
    assert not dest.exists() or list(dest.iterdir()) == []
