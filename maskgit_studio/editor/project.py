"""The project file: a zip of PNG images and JSON, written atomically.

Members:
    project.json  format, version, size, grid (factor, scale), mask, boxes, growth, origin
    image.png     the document image (H, W, 3)
    original.png  the image as first opened (absent when it is the document image)
    selection.png pixels painted with the round brush, white = selected (absent when none)
    runs.json     the run log: token logs + requests (seed, parameters), enough to replay
Candidates waiting to be accepted and the undo history are not stored.

Reading treats the file as hostile: it must be a regular file (no FIFO, no /dev/zero) of at
most ``MAX_PROJECT_BYTES`` with at most ``MAX_ENTRIES`` entries; only the members above are
read, each up to its own cap (``MEMBER_LIMITS``, so a zip bomb inflates no further); images go
through the one safe image opener (PNG only, the pixel limit); every JSON field is checked for
type and range (``project_check``) before anything is built. Every failure is a ProjectError.
"""

from __future__ import annotations

import io
import json
import logging
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..image_io import load_image
from ..safe_io import UnreadableFile, open_regular
from .atomic import atomic_write
from .document import Document
from .project_check import Meta, check_meta, check_runs
from .runs import RunRecord
from .shapes import Box, Growth
from .snapshot import Snapshot

log = logging.getLogger(__name__)

PROJECT_SUFFIX = ".mgstudio"
FORMAT = "maskgit-studio-project"
FORMAT_VERSION = 1

MAX_PROJECT_BYTES = 2 * 2**30
MAX_ENTRIES = 0xFFFF  # members in the zip's directory (the studio writes four)
MEMBER_LIMITS = {
    "project.json": 16 * 2**20,
    "runs.json": 256 * 2**20,
    "image.png": 512 * 2**20,
    "original.png": 512 * 2**20,
    "selection.png": 512 * 2**20,
}


class ProjectError(ValueError):
    """A project file that cannot be read, with a message for the user."""


class PngCache:
    """Remembers the PNG bytes of the last few images, so autosave re-encodes only changes.

    Document images are immutable arrays, so identity is a safe key (the cache holds a
    reference, so an id is never reused while cached).
    """

    def __init__(self, size: int = 4) -> None:
        self._entries: list[tuple[np.ndarray, int, bytes]] = []
        self._size = size

    def encode(self, image: np.ndarray, level: int) -> bytes:
        for array, lvl, data in self._entries:
            if array is image and lvl == level:
                return data
        data = encode_png(image, level)
        self._entries = [*self._entries[-(self._size - 1) :], (image, level, data)]
        return data


def encode_png(image: np.ndarray, level: int = 6) -> bytes:
    """PNG bytes of an (H, W, 3) or (H, W) uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def _decode_png(data: bytes, path: Path, member: str) -> np.ndarray:
    try:
        return load_image(data, name=member, formats=("PNG",))
    except ValueError as exc:
        raise ProjectError(f"{path.name} is damaged: {exc}") from None


def _mask_rows(mask: np.ndarray) -> list[str]:
    return ["".join("#" if v else "." for v in row) for row in mask]


def _mask_from_rows(rows: tuple[str, ...], shape: tuple[int, int]) -> np.ndarray:
    mask = np.frombuffer("".join(rows).encode("ascii"), dtype=np.uint8) == ord("#")
    return mask.reshape(shape)


def project_json(doc: Document) -> dict[str, Any]:
    """The JSON description of everything but the images and the run log."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "size": list(doc.shape),
        "factor": doc.factor,
        "scale": doc.scale,
        "origin": list(doc.origin),
        "blank": doc.is_blank,
        "growth": doc.growth.to_json(),
        "boxes": [b.to_json() for b in doc.boxes],
        "mask": _mask_rows(doc.mask),
        "source": str(doc.source) if doc.source else None,
    }


@dataclass(frozen=True)
class ProjectSnapshot:
    """Everything a project file holds, taken from a document in an instant.

    Cheap to take (images and run records are immutable and shared, not copied), so the GUI
    thread takes it and a background thread encodes and writes it.
    """

    meta: dict[str, Any]
    image: np.ndarray
    original: np.ndarray | None  # None when it is the image itself
    runs: tuple[RunRecord, ...]
    version: int
    project: Path | None
    source: Path | None
    pixels: np.ndarray | None = None  # (H, W) bool painted pixels


def snapshot(doc: Document) -> ProjectSnapshot:
    """Take a ProjectSnapshot of ``doc`` (fast: no encoding)."""
    original = None if doc.original is doc.image else doc.original
    return ProjectSnapshot(
        project_json(doc), doc.image, original, doc.runs, doc.version, doc.path, doc.source,
        doc.pixels,
    )  # fmt: skip


def write_snapshot(
    snap: ProjectSnapshot,
    path: str | os.PathLike,
    *,
    compress_level: int = 6,
    cache: PngCache | None = None,
    mode: int | None = None,
) -> None:
    """Encode ``snap`` and write it to ``path`` atomically (safe in any thread).

    Raises:
        OSError: the write failed (errno ENOSPC: disk full); nothing was changed on disk.
    """
    encode = cache.encode if cache is not None else encode_png
    members = {
        "project.json": json.dumps(snap.meta, indent=1).encode(),
        "image.png": encode(snap.image, compress_level),
        "runs.json": json.dumps([r.to_json() for r in snap.runs]).encode(),
    }
    if snap.original is not None:
        members["original.png"] = encode(snap.original, compress_level)
    if snap.pixels is not None:
        members["selection.png"] = encode_png(snap.pixels.astype(np.uint8) * 255, compress_level)

    def write(handle: Any) -> None:
        with zipfile.ZipFile(handle, "w") as archive:
            for name, data in members.items():
                kind = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
                archive.writestr(name, data, compress_type=kind)

    atomic_write(path, write, mode=mode)
    log.info("wrote project %s (%d bytes of members)", path, sum(map(len, members.values())))


def save_project(doc: Document, path: str | os.PathLike, *, compress_level: int = 6) -> None:
    """Save ``doc`` to ``path`` atomically and make it the document's project file.

    Raises:
        OSError: the write failed (errno ENOSPC: disk full); the old file and the document's
            modified flag are unchanged.
    """
    snap = snapshot(doc)
    write_snapshot(snap, path, compress_level=compress_level)
    doc.path, doc.saved_version = Path(path), snap.version


def load_project(path: str | os.PathLike) -> Document:
    """Read a project file into a new Document (history empty, run log restored).

    Raises:
        ProjectError: the file is missing, not a regular file, too large, not a project, from a
            newer version, or damaged in any way (one message naming the file).
    """
    path = Path(path)
    members = _read_members(path)
    for required in ("project.json", "image.png"):
        if required not in members:
            raise ProjectError(f"{path.name} is not a maskgit-studio project ({required} missing)")
    meta = _json(members["project.json"], path, "project.json")
    if type(meta) is not dict or meta.get("format") != FORMAT:
        raise ProjectError(f"{path.name} is not a maskgit-studio project")
    version = meta.get("version")
    if type(version) is not int or version < 1:
        raise ProjectError(f"{path.name} is damaged: version {version!r} is not a format version")
    if version > FORMAT_VERSION:
        raise ProjectError(
            f"{path.name} was written by a newer maskgit-studio (format {version}); "
            "please update the app"
        )
    try:
        checked = check_meta(meta)
        runs = check_runs(_json(members.get("runs.json", b"[]"), path, "runs.json"))
        return _build(path, checked, members, runs)
    except ProjectError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError, IndexError, MemoryError) as exc:
        raise ProjectError(f"{path.name} is damaged: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())[:300]


def _read_members(path: Path) -> dict[str, bytes]:
    """The known members, each read up to its cap; nothing else is read."""
    try:
        handle = open_regular(path, "project file", MAX_PROJECT_BYTES)
    except UnreadableFile as exc:
        raise ProjectError(str(exc)) from None
    members: dict[str, bytes] = {}
    with handle:
        try:
            _check_entry_count(handle, path)
            with zipfile.ZipFile(handle) as archive:
                for name, limit in MEMBER_LIMITS.items():
                    try:
                        info = archive.getinfo(name)
                    except KeyError:
                        continue
                    if info.file_size > limit:
                        raise ProjectError(_too_large(path, name, limit))
                    with archive.open(info) as member:
                        data = member.read(limit + 1)
                    if len(data) > limit:  # the directory lied about the size
                        raise ProjectError(_too_large(path, name, limit))
                    members[name] = data
        except ProjectError:
            raise
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            zlib.error,
            struct.error,
            OSError,
            EOFError,
            ValueError,
            RuntimeError,  # encrypted members
            NotImplementedError,  # unknown compression methods
        ) as exc:
            raise ProjectError(
                f"{path.name} is not a maskgit-studio project or is damaged ({_one_line(exc)})"
            ) from None
    return members


def _too_large(path: Path, name: str, limit: int) -> str:
    return f"{path.name} is damaged: its {name} is larger than {limit // 2**20} MiB"


def _check_entry_count(handle: Any, path: Path) -> None:
    """Refuse a zip whose directory lists more than MAX_ENTRIES members, before parsing it."""
    size = handle.seek(0, io.SEEK_END)
    tail_len = min(size, 22 + 0xFFFF)
    handle.seek(size - tail_len)
    tail = handle.read(tail_len)
    handle.seek(0)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        raise ProjectError(f"{path.name} is not a maskgit-studio project (not a zip file)")
    (entries,) = struct.unpack("<H", tail[end + 10 : end + 12])
    if entries >= MAX_ENTRIES:
        raise ProjectError(f"{path.name} is not a maskgit-studio project (too many members)")


def _json(data: bytes, path: Path, name: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ProjectError(
            f"{path.name} is damaged: {name} is not valid JSON ({_one_line(exc)})"
        ) from None


def _build(path: Path, meta: Meta, members: dict[str, bytes], runs: list) -> Document:
    image = _decode_png(members["image.png"], path, "image.png")
    if tuple(image.shape[:2]) != meta.size:
        raise ProjectError(
            f"{path.name} is damaged: its image is {image.shape[1]}x{image.shape[0]}, "
            f"project.json says {meta.size[1]}x{meta.size[0]}"
        )
    original = members.get("original.png")
    pixels = None
    if "selection.png" in members:
        selection = _decode_png(members["selection.png"], path, "selection.png")
        if tuple(selection.shape[:2]) != meta.size:
            raise ProjectError(f"{path.name} is damaged: its selection.png has the wrong size")
        pixels = selection[..., 0] > 127
        pixels.flags.writeable = False
    parts = Snapshot(
        mask=_mask_from_rows(meta.mask, meta.grid),
        boxes=tuple(Box.from_json(b) for b in meta.boxes),
        growth=Growth(*meta.growth),
        factor=meta.factor,
        scale=meta.scale,
        original=image if original is None else _decode_png(original, path, "original.png"),
        origin=meta.origin,
        blank=meta.blank,
        pixels=pixels if pixels is not None and pixels.any() else None,
    )
    doc = Document.from_parts(image, parts, [RunRecord.from_json(r) for r in runs])
    doc.path = path
    doc.source = Path(meta.source) if meta.source else None
    return doc
