"""Read (and, for tests, write) flax.serialization msgpack checkpoints with msgpack + numpy.

The format (flax/serialization.py, which the official MaskGIT checkpoints use):
- one msgpack map of maps with string keys (the state dict, e.g. ``{"params": {...}}``);
- an array leaf is ``ExtType(1, packb((shape, dtype_name, C-order bytes)))``; a numpy scalar is
  the same record under ``ExtType(3, ...)``;
- arrays above 1 GiB are stored as ``{"__msgpack_chunked_array__": True, "shape": {"0": d0, ...},
  "chunks": {"0": flat_array, ...}}``.

Files may come from anywhere, so everything is validated: extension codes, a dtype whitelist,
byte counts, shapes, key types, duplicate keys, container sizes, nesting depth, truncation and
trailing bytes. Every problem raises :class:`WeightsImportError` naming the file and key path.
"""

from __future__ import annotations

import io
import logging
import math
import os
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from ...safe_io import UnreadableFile, open_regular
from .errors import WeightsImportError

log = logging.getLogger(__name__)

EXT_NDARRAY = 1
EXT_NPSCALAR = 3
CHUNKED_KEY = "__msgpack_chunked_array__"
# flax splits arrays larger than this many bytes into chunks of at most this size.
FLAX_MAX_CHUNK_BYTES = 2**30

MAX_DEPTH = 64
MAX_NDIM = 32
# A state dict holds a few hundred keys per map; the caps keep a hostile header from making the
# parser pre-allocate huge containers before any of their items exist.
_MAX_MAP_LEN = 1 << 16
_MAX_ARRAY_LEN = 1 << 12
_MAX_BUFFER = 2**31 - 1

DTYPES = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "bfloat16",
    }
)


class _RawArray:
    """An undecoded array record; decoded later, where its key path is known for messages."""

    __slots__ = ("code", "data")

    def __init__(self, code: int, data: bytes) -> None:
        self.code = code
        self.data = data


def _ext_hook(code: int, data: bytes) -> _RawArray:
    if code not in (EXT_NDARRAY, EXT_NPSCALAR):
        raise WeightsImportError(
            f"unsupported msgpack extension type {code} (flax arrays use type {EXT_NDARRAY})"
        )
    return _RawArray(code, data)


def _pairs_to_dict(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if not isinstance(key, str):
            raise WeightsImportError(f"map key {key!r} is not a string")
        if key in out:
            raise WeightsImportError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _where(path: tuple[str, ...]) -> str:
    return "/".join(path) if path else "<root>"


def _check_shape(shape: Any, path: tuple[str, ...]) -> tuple[int, ...]:
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_NDIM:
        raise WeightsImportError(f"{_where(path)}: bad array shape {shape!r}")
    if not all(type(d) is int and d >= 0 for d in shape):
        raise WeightsImportError(f"{_where(path)}: bad array shape {shape!r}")
    return tuple(shape)


def decode_array_record(data: bytes, path: tuple[str, ...] = ()) -> np.ndarray:
    """Decode one flax array payload ``packb((shape, dtype_name, bytes))`` into a numpy array.

    bfloat16 (which numpy lacks) is widened to float32; other dtypes keep their type. The result
    may be a read-only view of ``data``.
    """
    try:
        record = msgpack.unpackb(data, raw=True, use_list=True, max_array_len=MAX_NDIM)
    except (ValueError, msgpack.UnpackException) as exc:
        detail = str(exc) or type(exc).__name__
        raise WeightsImportError(f"{_where(path)}: corrupt array record ({detail})") from None
    if not isinstance(record, list) or len(record) != 3:
        raise WeightsImportError(f"{_where(path)}: array record is not (shape, dtype, bytes)")
    shape, dtype_name, buffer = record
    shape = _check_shape(shape, path)
    if isinstance(dtype_name, bytes):
        dtype_name = dtype_name.decode("ascii", errors="replace")
    if not isinstance(dtype_name, str) or dtype_name not in DTYPES:
        raise WeightsImportError(f"{_where(path)}: unsupported array dtype {dtype_name!r}")
    if not isinstance(buffer, bytes):
        raise WeightsImportError(f"{_where(path)}: array data is not a byte string")
    is_bf16 = dtype_name == "bfloat16"
    storage = np.dtype("<u2") if is_bf16 else np.dtype(dtype_name).newbyteorder("<")
    expected = math.prod(shape) * storage.itemsize
    if len(buffer) != expected:
        raise WeightsImportError(
            f"{_where(path)}: array of shape {shape} {dtype_name} needs {expected} bytes, "
            f"the record holds {len(buffer)}"
        )
    array = np.frombuffer(buffer, dtype=storage).reshape(shape)
    if is_bf16:
        return (array.astype(np.uint32) << 16).view(np.float32)  # bf16 is the top half of f32
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _dict_to_list(node: Any, what: str, path: tuple[str, ...]) -> list[Any]:
    """flax stores tuples inside chunk records as {"0": x0, "1": x1, ...}."""
    if not isinstance(node, dict) or set(node) != {str(i) for i in range(len(node))}:
        raise WeightsImportError(f"{_where(path)}: chunked array has a malformed {what!r} entry")
    return [node[str(i)] for i in range(len(node))]


def _unchunk(node: dict[str, Any], path: tuple[str, ...]) -> np.ndarray:
    if set(node) != {CHUNKED_KEY, "shape", "chunks"}:
        raise WeightsImportError(
            f"{_where(path)}: chunked array needs exactly the keys {CHUNKED_KEY!r}, 'shape' and "
            f"'chunks', found {sorted(node)}"
        )
    shape = _check_shape(_dict_to_list(node["shape"], "shape", path), path)
    chunks = []
    for i, chunk in enumerate(_dict_to_list(node["chunks"], "chunks", path)):
        if not isinstance(chunk, _RawArray) or chunk.code != EXT_NDARRAY:
            raise WeightsImportError(f"{_where(path)}: chunk {i} is not an array")
        array = decode_array_record(chunk.data, (*path, f"chunk {i}"))
        if array.ndim != 1 or (chunks and array.dtype != chunks[0].dtype):
            raise WeightsImportError(f"{_where(path)}: chunk {i} is not a flat array of one dtype")
        chunks.append(array)
    total = math.prod(shape)
    if sum(c.size for c in chunks) != total or (not chunks and total):
        raise WeightsImportError(
            f"{_where(path)}: chunks hold {sum(c.size for c in chunks)} values, shape {shape} "
            f"needs {total}"
        )
    out = np.empty(total, dtype=chunks[0].dtype if chunks else np.float32)
    offset = 0
    for chunk in chunks:
        out[offset : offset + chunk.size] = chunk
        offset += chunk.size
    return out.reshape(shape)


def _restore(node: Any, path: tuple[str, ...]) -> Any:
    """Decode array records and re-join chunked arrays, in place, checking the depth."""
    if len(path) > MAX_DEPTH:
        raise WeightsImportError(f"{_where(path[:8])}/...: nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, _RawArray):
        array = decode_array_record(node.data, path)
        if node.code == EXT_NPSCALAR and array.ndim != 0:
            raise WeightsImportError(f"{_where(path)}: numpy scalar record has shape {array.shape}")
        return array
    if isinstance(node, dict):
        if CHUNKED_KEY in node:
            return _unchunk(node, path)
        for key in list(node):
            node[key] = _restore(node[key], (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            node[i] = _restore(item, (*path, str(i)))
    return node


def _load(stream: io.BufferedIOBase, size: int, source: str) -> dict[str, Any]:
    if size == 0:
        raise WeightsImportError(f"{source}: the file is empty")
    unpacker = msgpack.Unpacker(
        stream,
        raw=False,
        ext_hook=_ext_hook,
        object_pairs_hook=_pairs_to_dict,
        max_buffer_size=min(max(size, 1024), _MAX_BUFFER),
        max_array_len=_MAX_ARRAY_LEN,
        max_map_len=_MAX_MAP_LEN,
    )
    try:
        tree = unpacker.unpack()
    except msgpack.OutOfData:
        raise WeightsImportError(
            f"{source}: the file is truncated (it ends in the middle of the data); "
            "download it again"
        ) from None
    except msgpack.StackError:
        raise WeightsImportError(f"{source}: the data is nested too deeply") from None
    except WeightsImportError as exc:
        raise WeightsImportError(f"{source}: {exc}") from None
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        detail = str(exc) or type(exc).__name__
        raise WeightsImportError(f"{source}: not a flax msgpack checkpoint ({detail})") from None
    except MemoryError:
        raise WeightsImportError(f"{source}: not enough memory to read this file") from None
    if unpacker.tell() != size:
        raise WeightsImportError(
            f"{source}: {size - unpacker.tell()} unexpected bytes after the checkpoint data "
            "(not a single flax msgpack checkpoint)"
        )
    if not isinstance(tree, dict):
        raise WeightsImportError(
            f"{source}: the top level is a {type(tree).__name__}, not a map of parameters"
        )
    try:
        return _restore(tree, ())
    except WeightsImportError as exc:
        raise WeightsImportError(f"{source}: {exc}") from None


def read_flax_msgpack(path: str | os.PathLike) -> dict[str, Any]:
    """Read a flax msgpack checkpoint file into nested dicts with numpy array leaves.

    Args:
        path: the checkpoint file (official files have no extension).

    Returns:
        The state dict, e.g. ``{"params": {"encoder": {"Conv_0": {"kernel": (3,3,3,128)}}}}``.

    Raises:
        WeightsImportError: the file is missing, truncated, malformed or hostile.
    """
    path = Path(path)
    try:  # a regular file only: a FIFO or /dev/zero would block or read forever
        stream = open_regular(path, "checkpoint file")
        size = os.fstat(stream.fileno()).st_size
    except UnreadableFile as exc:
        raise WeightsImportError(f"cannot read the file: {exc}") from None
    with stream:
        log.info("reading flax msgpack checkpoint %s (%.1f MB)", path, size / 1e6)
        return _load(stream, size, str(path))


def loads_flax_msgpack(data: bytes, source: str = "<bytes>") -> dict[str, Any]:
    """Like :func:`read_flax_msgpack`, from bytes in memory."""
    return _load(io.BytesIO(data), len(data), source)


def flatten_tree(tree: dict[str, Any], sep: str = "/") -> dict[str, Any]:
    """Nested dicts -> one flat dict keyed by joined paths ("encoder/Conv_0/kernel")."""
    flat: dict[str, Any] = {}
    stack: list[tuple[str, Any]] = [(key, tree[key]) for key in reversed(list(tree))]
    while stack:
        prefix, node = stack.pop()
        if isinstance(node, dict) and node:
            for key in reversed(list(node)):
                stack.append((f"{prefix}{sep}{key}" if prefix else key, node[key]))
        else:
            flat[prefix] = node
    return flat


# ----------------------------------------------------------------------------------------------
# Writer (tests and tooling): the same bytes flax.serialization.msgpack_serialize produces.


def _pack_ext(obj: Any) -> msgpack.ExtType:
    if isinstance(obj, (np.ndarray, np.generic)):
        array = np.asarray(obj)
        if array.dtype.name not in DTYPES:
            raise ValueError(f"cannot serialize dtype {array.dtype}")
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        record = msgpack.packb(
            (list(array.shape), array.dtype.name, array.tobytes("C")), use_bin_type=True
        )
        code = EXT_NPSCALAR if isinstance(obj, np.generic) else EXT_NDARRAY
        return msgpack.ExtType(code, record)
    raise TypeError(f"cannot serialize {type(obj).__name__}")


def _chunk_large(node: Any, chunk_bytes: int) -> Any:
    if isinstance(node, dict):
        return {k: _chunk_large(v, chunk_bytes) for k, v in node.items()}
    if isinstance(node, np.ndarray) and node.nbytes > chunk_bytes:
        per_chunk = max(1, chunk_bytes // node.dtype.itemsize)
        flat = node.reshape(-1)
        chunks = [flat[i : i + per_chunk] for i in range(0, flat.size, per_chunk)]
        return {
            CHUNKED_KEY: True,
            "shape": {str(i): d for i, d in enumerate(node.shape)},
            "chunks": {str(i): c for i, c in enumerate(chunks)},
        }
    return node


def dumps_flax_msgpack(tree: dict[str, Any], chunk_bytes: int = FLAX_MAX_CHUNK_BYTES) -> bytes:
    """Serialize nested dicts of numpy arrays in the flax msgpack format.

    Args:
        tree: nested dicts with string keys and numpy array / python scalar leaves.
        chunk_bytes: arrays larger than this are written in chunks (flax: 1 GiB).
    """
    prepared = _chunk_large(tree, chunk_bytes)
    return msgpack.packb(prepared, default=_pack_ext, strict_types=True, use_bin_type=True)


def write_flax_msgpack(
    path: str | os.PathLike, tree: dict[str, Any], chunk_bytes: int = FLAX_MAX_CHUNK_BYTES
) -> None:
    """Write ``tree`` to ``path`` in the flax msgpack format (see :func:`dumps_flax_msgpack`)."""
    Path(path).write_bytes(dumps_flax_msgpack(tree, chunk_bytes))


__all__ = [
    "CHUNKED_KEY",
    "DTYPES",
    "WeightsImportError",
    "decode_array_record",
    "dumps_flax_msgpack",
    "flatten_tree",
    "loads_flax_msgpack",
    "read_flax_msgpack",
    "write_flax_msgpack",
]
