"""PyTorch-port files (hmorimitsu/maskgit-torch layout) import to the same bundle as the official
files, and are only ever read with torch.load(weights_only=True)."""

from __future__ import annotations

import builtins

import pytest
import torch
from safetensors.torch import load_file

from maskgit_studio.engine.importers import WeightsImportError, import_official, import_torch_port
from maskgit_studio.engine.importers.flax_msgpack import write_flax_msgpack

from .official_trees import (  # fmt: skip
    TokShape,
    TrShape,
    port_tokenizer_state,
    port_transformer_state,
    tokenizer_tree,
    transformer_tree,
)

TOK = TokShape(filters=32, channel_multipliers=(1, 2), num_res_blocks=2, embedding_dim=8, codebook_size=16)  # fmt: skip
TR = TrShape(vocab_size=20, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64, latent_size=4)  # fmt: skip


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ports")
    tok_tree, tr_tree = tokenizer_tree(TOK, seed=7), transformer_tree(TR, seed=8)
    write_flax_msgpack(folder / "tok", tok_tree)
    write_flax_msgpack(folder / "tr", tr_tree)
    torch.save({"state_dict": port_tokenizer_state(tok_tree, TOK)}, folder / "tokenizer.ckpt")
    torch.save({"state_dict": port_transformer_state(tr_tree)}, folder / "maskgit.ckpt")
    return folder


def test_port_and_official_give_identical_bundles(sources, tmp_path):
    official = import_official(sources / "tok", sources / "tr", name="a", dest_dir=tmp_path)
    port = import_torch_port(
        sources / "tokenizer.ckpt",
        sources / "maskgit.ckpt",
        name="b",
        num_heads=4,
        dest_dir=tmp_path,
    )
    a, b = load_file(official.path), load_file(port.path)
    assert a.keys() == b.keys() and len(a) > 100
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_port_heads_must_be_given_for_unofficial_widths(sources, tmp_path):
    with pytest.raises(WeightsImportError, match="--heads"):
        import_torch_port(sources / "tokenizer.ckpt", sources / "maskgit.ckpt", dest_dir=tmp_path)


class Payload:
    """Unpickling this runs code; weights_only=True must refuse it before that happens."""

    def __reduce__(self):
        return (exec, ("import builtins; builtins._maskgit_pwned = True",))


def test_pickled_code_is_refused(sources, tmp_path):
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": Payload()}}, evil)
    with pytest.raises(WeightsImportError, match="refuses to unpickle.*exec"):
        import_torch_port(evil, sources / "maskgit.ckpt", num_heads=4, dest_dir=tmp_path)
    assert not hasattr(builtins, "_maskgit_pwned")
    assert not list(tmp_path.glob("*.safetensors"))


def test_non_tensor_entries_are_refused(sources, tmp_path):
    odd = tmp_path / "odd.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2), "note": "hello"}}, odd)
    with pytest.raises(WeightsImportError, match="'note' is not a named tensor"):
        import_torch_port(odd, sources / "maskgit.ckpt", num_heads=4, dest_dir=tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip, not a pickle", "not a readable PyTorch checkpoint"),
        (b"", "not a readable PyTorch checkpoint"),
    ],
)
def test_broken_port_files(sources, tmp_path, content, message):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(content)
    with pytest.raises(WeightsImportError, match=message):
        import_torch_port(bad, sources / "maskgit.ckpt", num_heads=4, dest_dir=tmp_path)


def test_port_layout_errors_are_strict(sources, tmp_path):
    state = torch.load(sources / "maskgit.ckpt", weights_only=True)["state_dict"]
    state["blocks.1.MLP.0.weight"] = state["blocks.1.MLP.0.weight"][:, :30]
    state["extra.weight"] = torch.zeros(3)
    del state["blocks.0.MlpLN.bias"]
    torch.save(state, tmp_path / "tr.pth")  # a bare state dict is accepted too
    with pytest.raises(WeightsImportError) as info:
        import_torch_port(
            sources / "tokenizer.ckpt", tmp_path / "tr.pth", num_heads=4, dest_dir=tmp_path
        )
    text = str(info.value)
    assert "missing (1): TransformerLayer_0/Mlp_0/layer_output_ln/bias" in text
    assert "unexpected (1): extra.weight" in text
    assert "intermediate_output/kernel has shape (30, 64), expected (32, 64)" in text  # fmt: skip


def test_integer_tensors_are_refused(sources, tmp_path):
    state = torch.load(sources / "maskgit.ckpt", weights_only=True)["state_dict"]
    state["bias"] = torch.zeros(20, dtype=torch.int64)
    torch.save({"state_dict": state}, tmp_path / "tr.ckpt")
    with pytest.raises(WeightsImportError, match="bias has dtype torch.int64"):
        import_torch_port(sources / "tokenizer.ckpt", tmp_path / "tr.ckpt", num_heads=4, dest_dir=tmp_path)  # fmt: skip


def test_bfloat16_port_files_are_widened(sources, tmp_path):
    state = torch.load(sources / "maskgit.ckpt", weights_only=True)["state_dict"]
    half = {k: v.bfloat16() for k, v in state.items()}
    torch.save({"state_dict": half}, tmp_path / "tr-bf16.ckpt")
    result = import_torch_port(
        sources / "tokenizer.ckpt", tmp_path / "tr-bf16.ckpt", num_heads=4, dest_dir=tmp_path
    )
    tensors = load_file(result.path)
    assert tensors["transformer.mlm_bias"].dtype == torch.float32
    assert torch.equal(tensors["transformer.mlm_bias"], half["bias"].float())
    assert torch.equal(
        tensors["transformer.layers.1.intermediate.weight"], half["blocks.1.MLP.0.weight"].float()
    )
