"""The flax msgpack reader: round trips, chunked arrays, and clear errors on broken files."""

from __future__ import annotations

import random

import msgpack
import numpy as np
import pytest

from maskgit_studio.engine.importers.errors import WeightsImportError
from maskgit_studio.engine.importers.flax_msgpack import (
    CHUNKED_KEY,
    dumps_flax_msgpack,
    flatten_tree,
    loads_flax_msgpack,
    read_flax_msgpack,
    write_flax_msgpack,
)


def _tree() -> dict:
    rng = np.random.default_rng(0)
    return {
        "params": {
            "encoder": {"Conv_0": {"kernel": rng.standard_normal((3, 3, 3, 8)).astype(np.float32)}},
            "quantizer": {"codebook": rng.standard_normal((16, 4)).astype(np.float32)},
            "ids": np.arange(10, dtype=np.int64),
            "half": np.linspace(-1, 1, 6, dtype=np.float16).reshape(2, 3),
        },
        "step": np.int32(7),
    }


def _array_record(shape, dtype, data: bytes, code: int = 1) -> msgpack.ExtType:
    return msgpack.ExtType(code, msgpack.packb((list(shape), dtype, data), use_bin_type=True))


def test_round_trip_file(tmp_path):
    tree = _tree()
    path = tmp_path / "ckpt"
    write_flax_msgpack(path, tree)
    back = read_flax_msgpack(path)
    flat, want = flatten_tree(back), flatten_tree(tree)
    assert list(flat) == list(want)
    for key, value in want.items():
        assert flat[key].dtype == np.asarray(value).dtype, key
        np.testing.assert_array_equal(flat[key], value)
    assert flat["step"].shape == ()


def test_chunked_arrays_are_joined():
    tree = _tree()
    data = dumps_flax_msgpack(tree, chunk_bytes=40)  # kernel (216 floats) -> 22 chunks
    raw = msgpack.unpackb(data, ext_hook=lambda c, d: None)
    kernel_node = raw["params"]["encoder"]["Conv_0"]["kernel"]
    assert kernel_node[CHUNKED_KEY] is True and len(kernel_node["chunks"]) == 22
    back = loads_flax_msgpack(data)
    np.testing.assert_array_equal(
        back["params"]["encoder"]["Conv_0"]["kernel"], tree["params"]["encoder"]["Conv_0"]["kernel"]
    )


def test_bfloat16_is_widened_to_float32():
    values = np.array([1.0, -2.5, 3.140625], np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    data = msgpack.packb({"w": _array_record((3,), "bfloat16", bf16)})
    back = loads_flax_msgpack(data)["w"]
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, values)


def test_flatten_tree_joins_paths():
    flat = flatten_tree({"a": {"b": {"c": 1}, "d": 2}, "e": 3})
    assert flat == {"a/b/c": 1, "a/d": 2, "e": 3}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (msgpack.packb([1, 2]), "top level is a list"),
        (msgpack.packb({"a": msgpack.ExtType(9, b"")}), "extension type 9"),
        (msgpack.packb({"a": _array_record((2, 2), "float32", b"\0" * 15)}), "needs 16 bytes"),
        (msgpack.packb({"a": _array_record((2, 2), "object", b"\0" * 16)}), "dtype 'object'"),
        (msgpack.packb({"a": _array_record((-1, 2), "float32", b"")}), "bad array shape"),
        (msgpack.packb({"a": msgpack.ExtType(1, b"\xc1")}), "corrupt array record"),
        (msgpack.packb({"a": msgpack.ExtType(1, msgpack.packb([1, 2]))}), r"is not \(shape, dtype"),
        (b"\x82\xa1a\x01\xa1a\x02", "duplicate key 'a'"),
        (b"\x81\xa1a" * 100 + b"\xc0", "nested"),
        (b"\xdf\xff\xff\xff\xff", "max_map_len"),
        (msgpack.packb({"a": {CHUNKED_KEY: True, "shape": {"0": 4}}}), "exactly the keys"),
        (
            msgpack.packb(
                {
                    "a": {
                        CHUNKED_KEY: True,
                        "shape": {"0": 5},
                        "chunks": {"0": _array_record((4,), "float32", b"\0" * 16)},
                    }
                }
            ),
            "chunks hold 4 values",
        ),
    ],
)
def test_broken_data_gets_a_clear_error(data, message):
    with pytest.raises(WeightsImportError, match=message):
        loads_flax_msgpack(data, source="bad-file")


def test_errors_name_the_file_and_the_key(tmp_path):
    path = tmp_path / "tokenizer_imagenet256_checkpoint"
    path.write_bytes(msgpack.packb({"params": {"x": _array_record((3,), "float32", b"\0" * 4)}}))
    with pytest.raises(WeightsImportError) as info:
        read_flax_msgpack(path)
    assert str(path) in str(info.value) and "params/x" in str(info.value)


def test_truncated_and_padded_files(tmp_path):
    data = dumps_flax_msgpack(_tree())
    path = tmp_path / "ckpt"
    for cut in (1, len(data) // 3, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(WeightsImportError, match="truncated"):
            read_flax_msgpack(path)
    path.write_bytes(data + b"\0\0")
    with pytest.raises(WeightsImportError, match="2 unexpected bytes"):
        read_flax_msgpack(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsImportError, match="cannot read"):
        read_flax_msgpack(tmp_path / "nope")


def test_random_corruption_never_crashes():
    data = dumps_flax_msgpack(_tree(), chunk_bytes=64)
    rng = random.Random(1)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(3000):
        corrupt = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
        if rng.random() < 0.3:
            corrupt = corrupt[: rng.randrange(len(corrupt))]
        try:
            loads_flax_msgpack(bytes(corrupt))
            outcomes["ok"] += 1
        except WeightsImportError:
            outcomes["error"] += 1
    assert outcomes["error"] > 1000  # any other exception type fails the test
