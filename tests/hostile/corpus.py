"""The hostile-file corpus: broken, hostile and absurd inputs, generated on the fly (nothing
binary is committed). Each builder writes its files into a folder and returns ``{case: path}``.

Classes: images (wrong formats, bombs, truncation, special files), masks (RGBA variants),
projects (structure, types, ranges, sizes), models (metadata, shapes, sizes; the official
format), training state (checkpoints, status, recipes).
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

# -- building blocks ----------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` RGB pixels, with a tiny payload."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = idat if idat is not None else zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


def bmp_declaring(width: int, height: int) -> bytes:
    """A BMP header claiming ``width`` x ``height`` 24-bit pixels, with almost no data."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    header = b"BM" + struct.pack("<IHHI", 14 + len(info) + 16, 0, 0, 14 + len(info))
    return header + info + b"\0" * 16


def encode(array: np.ndarray, fmt: str = "PNG", mode: str | None = None, **kw) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, fmt, **kw)
    return buffer.getvalue()


EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n%%EndComments\n"
    b"newpath 0 0 moveto 16 16 lineto stroke\nshowpage\n%%EOF\n"
)


def fake_ghostscript(folder: Path) -> tuple[Path, Path]:
    """A ``gs`` on a private PATH that only records that it ran: (bin folder, marker file)."""
    bin_dir = folder / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    marker = folder / "ghostscript-ran"
    script = bin_dir / "gs"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{marker}"\nexit 0\n')
    script.chmod(0o755)
    return bin_dir, marker


def special(folder: Path, name: str) -> dict[str, Path]:
    """A FIFO, a symlink to /dev/zero and a folder, all named ``name`` (plus a prefix)."""
    fifo = folder / f"fifo-{name}"
    os.mkfifo(fifo)
    zero = folder / f"zero-{name}"
    zero.symlink_to("/dev/zero")
    directory = folder / f"dir-{name}"
    directory.mkdir()
    return {"fifo": fifo, "dev-zero-link": zero, "directory": directory}


def _write(folder: Path, files: dict[str, bytes], suffix: str) -> dict[str, Path]:
    out = {}
    for case, data in files.items():
        path = folder / f"{case}{suffix}"
        path.write_bytes(data)
        out[case] = path
    return out


# -- images -------------------------------------------------------------------------------------


def hostile_images(folder: Path) -> dict[str, Path]:
    """Files a user could pick as an image or a mask; none of them may be decoded."""
    folder.mkdir(parents=True, exist_ok=True)
    small = np.zeros((8, 8, 3), np.uint8)
    good_png = encode(small)
    files = {
        "empty": b"",
        "garbage": os.urandom(512),
        "eps-named-png": EPS,
        "ppm-named-png": b"P6\n8 8\n255\n" + bytes(8 * 8 * 3),
        "gif": encode(small, "GIF"),
        "ico": encode(np.zeros((16, 16, 3), np.uint8), "ICO"),
        "truncated-png": good_png[: len(good_png) // 2],
        "bad-crc-png": good_png[:30] + bytes([good_png[30] ^ 0xFF]) + good_png[31:],
        "truncated-jpeg": encode(np.full((64, 64, 3), 99, np.uint8), "JPEG")[:300],
        "png-20000x20000": png_declaring(20000, 20000),
        "png-1x2e9": png_declaring(1, 2_000_000_000),
        "bmp-30000x30000": bmp_declaring(30000, 30000),
        "tiff-bomb": _tiff_declaring(50000, 50000),
        "webp-garbage": b"RIFF\x10\0\0\0WEBPVP8 " + os.urandom(64),
    }
    out = _write(folder, files, ".png")
    out.update({f"{k}": v for k, v in special(folder, "image.png").items()})
    out["missing"] = folder / "does-not-exist.png"
    return out


def _tiff_declaring(width: int, height: int) -> bytes:
    """A little-endian TIFF whose IFD claims ``width`` x ``height`` 8-bit grey pixels."""
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, width * height),
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHII", tag, kind, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 8 + 16) + b"\0" * 16 + ifd


# -- masks --------------------------------------------------------------------------------------


def mask_variants(folder: Path, shape_hw: tuple[int, int]) -> dict[str, tuple[Path, np.ndarray]]:
    """Mask files that mean one thing each: {case: (file, expected (H, W) bool selection)}."""
    folder.mkdir(parents=True, exist_ok=True)
    h, w = shape_hw
    want = np.zeros((h, w), bool)
    want[: h // 2, : w // 3] = True
    grey = want.astype(np.uint8) * 255
    opaque_rgba = np.dstack([grey, grey, grey, np.full((h, w), 255, np.uint8)])
    strokes = np.dstack([grey, grey, grey, grey])  # white strokes on a transparent layer
    alpha_only = np.dstack([np.zeros((h, w, 3), np.uint8), grey])  # black paint, alpha = mask
    framed = opaque_rgba.copy()
    framed[:, 0, 3] = 0  # an opaque black/white mask with a transparent first column
    la = np.dstack([grey, np.full((h, w), 255, np.uint8)])
    variants = {
        "grey": (encode(grey, mode="L"), want),
        "rgb": (encode(np.dstack([grey] * 3)), want),
        "opaque-rgba": (encode(opaque_rgba, mode="RGBA"), want),
        "opaque-la": (encode(la, mode="LA"), want),
        "strokes-on-transparent": (encode(strokes, mode="RGBA"), want),
        "alpha-only": (encode(alpha_only, mode="RGBA"), want),
        "opaque-rgba-transparent-column": (encode(framed, mode="RGBA"), want & (np.arange(w) > 0)),
    }  # fmt: skip
    out = {}
    for case, (data, expected) in variants.items():
        path = folder / f"mask-{case}.png"
        path.write_bytes(data)
        out[case] = (path, expected)
    return out


# -- projects -----------------------------------------------------------------------------------


def _project_meta(h: int = 32, w: int = 48, factor: int = 8) -> dict:
    rows, cols = -(-h // factor), -(-w // factor)
    return {
        "format": "maskgit-studio-project",
        "version": 1,
        "size": [h, w],
        "factor": factor,
        "scale": 1,
        "origin": [0, 0],
        "blank": False,
        "growth": [0, 0, 0, 0],
        "boxes": [],
        "mask": ["." * cols] * rows,
        "source": None,
    }


def _zip(members: dict[str, bytes], compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    kind = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", kind) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _run(shape=(1, 4, 6), **changes) -> dict:
    k, h, w = shape if shape[0] * shape[1] * shape[2] < 10**6 else (1, 4, 6)
    run = {
        "id": 1,
        "operation": "inpaint",
        "request": {"seed": 1},
        "shape": list(shape),
        "tokens": [0] * (k * h * w),
        "commit_order": [-1] * (k * h * w),
        "offset": [0, 0],
        "accepted": None,
        "parent": None,
        "branch_step": None,
        "created": 0.0,
    }
    run.update(changes)
    return run


def _zip_bomb(members: dict[str, bytes], name: str, mib: int, tail: bytes = b"") -> bytes:
    """A zip whose member ``name`` inflates to ``mib`` MiB of spaces (written in chunks)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
        with archive.open(name, "w", force_zip64=True) as handle:
            chunk = b" " * 2**20
            for _ in range(mib):
                handle.write(chunk)
            handle.write(tail)
    return buffer.getvalue()


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _meta_with(**changes) -> bytes:
    meta = _project_meta()
    meta.update(changes)
    return json.dumps(meta).encode()


def hostile_projects(folder: Path) -> dict[str, Path]:
    """Project files that must each be refused with the project's own error."""
    folder.mkdir(parents=True, exist_ok=True)
    image = encode(np.zeros((32, 48, 3), np.uint8))
    meta = _meta_with()

    def project(meta_bytes: bytes = meta, **extra: bytes) -> bytes:
        return _zip({"project.json": meta_bytes, "image.png": image, **extra})

    mutations: dict[str, Callable[[], bytes]] = {
        "meta-list": lambda: project(b"[1, 2, 3]"),
        "meta-null": lambda: project(b"null"),
        "meta-string": lambda: project(b'"project"'),
        "meta-nested-100k": lambda: project(_nested(100_000)),
        "meta-not-utf8": lambda: project(b"\xff\xfe{"),
        "version-null": lambda: project(_meta_with(version=None)),
        "version-list": lambda: project(_meta_with(version=[1])),
        "version-string": lambda: project(_meta_with(version="one")),
        "version-future": lambda: project(_meta_with(version=99)),
        "size-string": lambda: project(_meta_with(size="32x48")),
        "mask-string": lambda: project(_meta_with(mask="......")),
        "mask-rows-of-lists": lambda: project(_meta_with(mask=[[0] * 6] * 4)),
        "mask-ragged": lambda: project(_meta_with(mask=["......", "..."] * 2)),
        "boxes-dict": lambda: project(_meta_with(boxes={"x": 1})),
        "boxes-strings": lambda: project(_meta_with(boxes=["box"])),
        "box-beyond-int32": lambda: project(
            _meta_with(boxes=[{"x": 2**40, "y": 0, "w": 2**40, "h": 8, "class_id": 0}])
        ),
        "box-float": lambda: project(
            _meta_with(boxes=[{"x": 0.5, "y": 0, "w": 8, "h": 8, "class_id": None}])
        ),
        "growth-string": lambda: project(_meta_with(growth="wide")),
        "growth-million-cells": lambda: project(_meta_with(growth=[0, 0, 1_000_000, 1_000_000])),
        "growth-negative": lambda: project(_meta_with(growth=[-1, 0, 0, 0])),
        "factor-zero": lambda: project(_meta_with(factor=0)),
        "factor-beyond-int32": lambda: project(_meta_with(factor=2**40)),
        "factor-string": lambda: project(_meta_with(factor="8")),
        "factor-bool": lambda: project(_meta_with(factor=True)),
        "scale-huge": lambda: project(_meta_with(scale=10**12)),
        "origin-beyond-int64": lambda: project(_meta_with(origin=[2**70, 0])),
        "origin-null": lambda: project(_meta_with(origin=None)),
        "blank-string": lambda: project(_meta_with(blank="no")),
        "source-number": lambda: project(_meta_with(source=12)),
        "format-missing": lambda: project(_meta_with(format=None)),
        "image-20000x20000": lambda: _zip(
            {"project.json": meta, "image.png": png_declaring(20000, 20000)}
        ),
        "image-eps": lambda: _zip({"project.json": meta, "image.png": EPS}),
        "image-garbage": lambda: _zip({"project.json": meta, "image.png": os.urandom(300)}),
        "original-eps": lambda: project(**{"original.png": EPS}),
        "runs-dict": lambda: project(**{"runs.json": b'{"a": 1}'}),
        "runs-strings": lambda: project(**{"runs.json": b'["run"]'}),
        "run-shape-billion": lambda: project(
            **{"runs.json": json.dumps([_run(shape=(1000, 1000, 1000))]).encode()}
        ),
        "run-shape-mismatch": lambda: project(
            **{"runs.json": json.dumps([_run(tokens=[1, 2, 3])]).encode()}
        ),
        "run-order-overflow": lambda: project(
            **{"runs.json": json.dumps([_run(commit_order=[70000] * 24)]).encode()}
        ),
        "run-token-beyond-int64": lambda: project(
            **{"runs.json": json.dumps([_run(tokens=[2**70] * 24)]).encode()}
        ),
        "run-request-list": lambda: project(**{"runs.json": json.dumps([_run(request=[1])]).encode()}),
        "run-nested-100k": lambda: project(**{"runs.json": _nested(100_000)}),
        "member-zip-bomb": lambda: _zip_bomb(
            {"project.json": meta, "image.png": image}, "runs.json", 300, b"[]"
        ),
        "meta-zip-bomb": lambda: _zip_bomb({"image.png": image}, "project.json", 100, b"{}"),
        "many-members": lambda: _zip(
            {"project.json": meta, "image.png": image, **{f"x/{i}": b"" for i in range(20_000)}}
        ),
        "not-a-zip": lambda: os.urandom(2000),
        "empty": lambda: b"",
        "truncated-zip": lambda: project()[:-40],
        "no-image": lambda: _zip({"project.json": meta}),
    }  # fmt: skip
    out = _write(folder, {case: build() for case, build in mutations.items()}, ".mgstudio")
    out.update(special(folder, "project.mgstudio"))
    return out


# -- models -------------------------------------------------------------------------------------


def _header(path: Path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size]), data[8 + size :]


def _pack(header: dict, payload: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + payload


def hostile_models(folder: Path, good: Path) -> dict[str, Path]:
    """Model files derived from a good bundle (``good``): metadata and header lies."""
    folder.mkdir(parents=True, exist_ok=True)
    header, payload = _header(good)
    meta = json.loads(header["__metadata__"]["maskgit_studio"])

    def with_meta(value) -> bytes:
        h = json.loads(json.dumps(header))
        h["__metadata__"]["maskgit_studio"] = value if isinstance(value, str) else json.dumps(value)
        return _pack(h, payload)

    def changed(section: str, **fields) -> bytes:
        m = json.loads(json.dumps(meta))
        m[section].update(fields)
        return with_meta(m)

    def top(**fields) -> bytes:
        m = json.loads(json.dumps(meta))
        m.update(fields)
        return with_meta(m)

    def tensor_shape(name: str, shape: list[int]) -> bytes:
        h = json.loads(json.dumps(header))
        h[name]["shape"] = shape
        return _pack(h, payload)

    first_tr = next(k for k in header if k.startswith("transformer.") and "weight" in k)
    cases: dict[str, Callable[[], bytes]] = {
        "metadata-list": lambda: with_meta([1, 2]),
        "metadata-null": lambda: with_meta("null"),
        "metadata-string": lambda: with_meta('"model"'),
        "metadata-nested": lambda: with_meta("[" * 50_000 + "]" * 50_000),
        "version-string": lambda: top(format_version="1"),
        "tokenizer-list": lambda: top(tokenizer=[1]),
        "class-names-dict": lambda: top(class_names={"a": 1}),
        "class-names-objects": lambda: top(class_names=[{"x": 1}, [2], None]),
        "provenance-list": lambda: top(provenance=[1, 2]),
        "num-heads-0": lambda: changed("transformer", num_heads=0),
        "num-heads-negative": lambda: changed("transformer", num_heads=-2),
        "num-layers-string": lambda: changed("transformer", num_layers="2"),
        "num-layers-million": lambda: changed("transformer", num_layers=1_000_000),
        "hidden-size-huge": lambda: changed("transformer", hidden_size=2**20, num_heads=2),
        "layer-norm-eps-negative": lambda: changed("transformer", layer_norm_eps=-1.0),
        "dropout-nan": lambda: changed("transformer", dropout=float("nan")),
        "grid-size-float": lambda: changed("transformer", grid_size=8.0),
        "num-classes-zero": lambda: changed("transformer", num_classes=0),
        "image-size-float": lambda: changed("tokenizer", image_size=64.0),
        "image-size-huge": lambda: changed("tokenizer", image_size=2**20),
        "norm-eps-negative": lambda: changed("tokenizer", norm_eps=-1e-6),
        "norm-eps-string": lambda: changed("tokenizer", norm_eps="small"),
        "num-res-blocks-100k": lambda: changed("tokenizer", num_res_blocks=100_000),
        "channel-mult-empty": lambda: changed(
            "tokenizer", channel_mult=[], unshuffle_factors=[]
        ),
        "channel-mult-huge": lambda: changed("tokenizer", channel_mult=[1, 100_000]),
        "unshuffle-zero": lambda: changed("tokenizer", unshuffle_factors=[0, 2]),
        "codebook-zero": lambda: changed("tokenizer", codebook_size=0),
        "base-channels-bool": lambda: changed("tokenizer", base_channels=True),
        "arch-list": lambda: changed("tokenizer", arch=["fast"]),
        "tensor-shape-wrong": lambda: tensor_shape(first_tr, [1, 1]),
        "tensor-renamed": lambda: _pack(
            {("transformer.x" if k == first_tr else k): v for k, v in header.items()}, payload
        ),
        "pickle": lambda: b"\x80\x04\x95" + os.urandom(64),
        "header-huge": lambda: (2**40).to_bytes(8, "little") + b"{}",
        "header-not-json": lambda: (16).to_bytes(8, "little") + b"not json at all!",
        "empty": lambda: b"",
    }  # fmt: skip
    out = _write(folder, {case: build() for case, build in cases.items()}, ".safetensors")
    out.update(special(folder, "model.safetensors"))
    return out


def with_recommended_steps(folder: Path, good: Path, steps: int) -> Path:
    """A good bundle whose provenance recommends ``steps`` decoding steps."""
    header, payload = _header(good)
    meta = json.loads(header["__metadata__"]["maskgit_studio"])
    meta["provenance"] = {**meta.get("provenance", {}), "sampler": {"steps": steps}}
    header["__metadata__"]["maskgit_studio"] = json.dumps(meta)
    path = folder / f"recommends-{steps}-steps.safetensors"
    path.write_bytes(_pack(header, payload))
    return path


__all__ = [
    "EPS",
    "encode",
    "fake_ghostscript",
    "hostile_images",
    "hostile_models",
    "hostile_projects",
    "mask_variants",
    "png_declaring",
    "special",
    "with_recommended_steps",
]
