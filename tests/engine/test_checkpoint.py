"""The bundle format: round trip, and one clear error for each kind of broken file."""

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from maskgit_studio.engine.checkpoint import METADATA_KEY, CheckpointError, load_bundle, save_bundle
from tests.conftest import TINY_CLASSES, make_tiny_models


def test_round_trip_is_exact(tiny_bundle_path):
    bundle = load_bundle(tiny_bundle_path)
    tok, tr = make_tiny_models(seed=0)
    for a, b in zip(tok.state_dict().values(), bundle.tokenizer.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(tr.state_dict().values(), bundle.transformer.state_dict().values()):
        assert torch.equal(a, b)
    assert bundle.class_names == TINY_CLASSES
    assert bundle.provenance == {"recipe": "tiny-test"}
    assert tiny_bundle_path.stat().st_mode & 0o777 == 0o644
    assert not bundle.transformer.training


def rewrite(src, dst, mutate_tensors=None, mutate_meta=None):
    from safetensors import safe_open

    with safe_open(str(src), framework="pt") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        meta = json.loads(fh.metadata()[METADATA_KEY])
    if mutate_tensors:
        mutate_tensors(tensors)
    if mutate_meta:
        mutate_meta(meta)
    save_file(tensors, str(dst), metadata={METADATA_KEY: json.dumps(meta)})
    return dst


def test_truncated_file(tiny_bundle_path, tmp_path):
    data = tiny_bundle_path.read_bytes()
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.safetensors"):
        load_bundle(bad)


def test_pickle_renamed(tmp_path):
    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="not a valid .safetensors"):
        load_bundle(bad)


def test_empty_and_missing(tmp_path):
    (tmp_path / "empty.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty or truncated"):
        load_bundle(tmp_path / "empty.safetensors")
    with pytest.raises(CheckpointError, match="not found"):
        load_bundle(tmp_path / "nope.safetensors")


def test_wrong_shape(tiny_bundle_path, tmp_path):
    def mutate(t):
        t["transformer.mlm_bias"] = torch.zeros(7)

    bad = rewrite(tiny_bundle_path, tmp_path / "shape.safetensors", mutate)
    with pytest.raises(CheckpointError, match="mlm_bias has shape"):
        load_bundle(bad)


def test_nan_weights(tiny_bundle_path, tmp_path):
    def mutate(t):
        t["tokenizer.quantizer.codebook"][0, 0] = float("nan")

    bad = rewrite(tiny_bundle_path, tmp_path / "nan.safetensors", mutate)
    with pytest.raises(CheckpointError, match="NaN"):
        load_bundle(bad)


def test_missing_tensor_and_bad_dtype(tiny_bundle_path, tmp_path):
    bad = rewrite(
        tiny_bundle_path, tmp_path / "miss.safetensors", lambda t: t.pop("transformer.mlm_bias")
    )
    with pytest.raises(CheckpointError, match="missing"):
        load_bundle(bad)

    def to_int(t):
        t["transformer.mlm_bias"] = t["transformer.mlm_bias"].to(torch.int32)

    bad = rewrite(tiny_bundle_path, tmp_path / "dtype.safetensors", to_int)
    with pytest.raises(CheckpointError, match="dtype"):
        load_bundle(bad)


def test_bad_metadata(tiny_bundle_path, tmp_path):
    bad = rewrite(
        tiny_bundle_path, tmp_path / "ver.safetensors", None, lambda m: m.update(format_version=99)
    )
    with pytest.raises(CheckpointError, match="format version 99"):
        load_bundle(bad)
    bad = rewrite(
        tiny_bundle_path,
        tmp_path / "cfg.safetensors",
        None,
        lambda m: m["transformer"].update(bogus=1),
    )
    with pytest.raises(CheckpointError, match="bogus"):
        load_bundle(bad)
    save_file({"x": torch.zeros(1)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(CheckpointError, match="no maskgit-studio metadata"):
        load_bundle(tmp_path / "plain.safetensors")


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    tok, tr = make_tiny_models()
    target = tmp_path / "m.safetensors"
    target.write_bytes(b"previous")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("maskgit_studio.engine.checkpoint.save_file", boom)
    with pytest.raises(OSError):
        save_bundle(target, tok, tr, TINY_CLASSES)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_float16_storage_halves_the_file_and_loads_close(tmp_path, tiny_bundle_path):
    tok, tr = make_tiny_models(seed=0)
    small = save_bundle(tmp_path / "half.safetensors", tok, tr, TINY_CLASSES, dtype=torch.float16)
    assert small.stat().st_size < 0.6 * tiny_bundle_path.stat().st_size
    loaded = load_bundle(small)
    weight = loaded.transformer.word_embeddings.weight
    assert weight.dtype == torch.float32  # computed in float32 whatever the storage type
    assert torch.allclose(weight, tr.word_embeddings.weight, atol=1e-3)
    with pytest.raises(ValueError, match="storage dtype"):
        save_bundle(tmp_path / "x.safetensors", tok, tr, TINY_CLASSES, dtype=torch.int8)
