"""The project file: a zip of PNG images and JSON, written atomically.

Members:
    project.json  format, version, size, grid (factor, scale), mask, boxes, growth, origin
    image.png     the document image (H, W, 3)
    original.png  the image as first opened (absent when it is the document image)
    runs.json     the run log: token logs + requests (seed, parameters), enough to replay
Candidates waiting to be accepted and the undo history are not stored.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .atomic import atomic_write
from .cells import grid_shape
from .document import Document
from .runs import RunRecord
from .shapes import Box, Growth
from .snapshot import Snapshot

log = logging.getLogger(__name__)

PROJECT_SUFFIX = ".mgstudio"
FORMAT = "maskgit-studio-project"
FORMAT_VERSION = 1


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


def _decode_png(data: bytes, name: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise ProjectError(f"the project's {name} is damaged ({exc})") from exc


def _mask_rows(mask: np.ndarray) -> list[str]:
    return ["".join("#" if v else "." for v in row) for row in mask]


def _mask_from_rows(rows: list[str], shape: tuple[int, int]) -> np.ndarray:
    mask = np.array([[c == "#" for c in row] for row in rows], dtype=bool).reshape(-1, shape[1])
    if mask.shape != shape:
        raise ProjectError(f"the project's mask has {mask.shape} cells, expected {shape}")
    return mask


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


def snapshot(doc: Document) -> ProjectSnapshot:
    """Take a ProjectSnapshot of ``doc`` (fast: no encoding)."""
    original = None if doc.original is doc.image else doc.original
    return ProjectSnapshot(
        project_json(doc), doc.image, original, doc.runs, doc.version, doc.path, doc.source
    )


def write_snapshot(
    snap: ProjectSnapshot,
    path: str | os.PathLike,
    *,
    compress_level: int = 6,
    cache: PngCache | None = None,
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

    def write(handle: Any) -> None:
        with zipfile.ZipFile(handle, "w") as archive:
            for name, data in members.items():
                kind = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
                archive.writestr(name, data, compress_type=kind)

    atomic_write(path, write)
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
        ProjectError: the file is missing, not a project, from a newer version, or damaged.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
    except FileNotFoundError as exc:
        raise ProjectError(f"{path} does not exist") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProjectError(f"{path.name} is not a maskgit-studio project ({exc})") from exc
    for required in ("project.json", "image.png"):
        if required not in members:
            raise ProjectError(f"{path.name} is not a maskgit-studio project ({required} missing)")
    try:
        meta = json.loads(members["project.json"])
        runs = json.loads(members.get("runs.json", b"[]"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path.name} is damaged ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise ProjectError(f"{path.name} is not a maskgit-studio project")
    if int(meta.get("version", 0)) > FORMAT_VERSION:
        raise ProjectError(
            f"{path.name} was written by a newer maskgit-studio (format {meta['version']}); "
            "please update the app"
        )
    try:
        return _build(path, meta, members, runs)
    except ProjectError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ProjectError(f"{path.name} is damaged ({exc})") from exc


def _build(path: Path, meta: dict, members: dict[str, bytes], runs: list) -> Document:
    image = _decode_png(members["image.png"], "image")
    if list(image.shape[:2]) != list(meta["size"]):
        raise ProjectError(f"the project's image is {image.shape[:2]}, expected {meta['size']}")
    factor, scale = int(meta["factor"]), int(meta["scale"])
    grid = grid_shape(image.shape[0], image.shape[1], factor * scale)
    original = members.get("original.png")
    parts = Snapshot(
        mask=_mask_from_rows(meta["mask"], grid),
        boxes=tuple(Box.from_json(b) for b in meta["boxes"]),
        growth=Growth.from_json(meta["growth"]),
        factor=factor,
        scale=scale,
        original=_decode_png(original, "original") if original is not None else image,
        origin=(int(meta["origin"][0]), int(meta["origin"][1])),
        blank=bool(meta["blank"]),
    )
    doc = Document.from_parts(image, parts, [RunRecord.from_json(r) for r in runs])
    doc.path = path
    doc.source = Path(meta["source"]) if meta.get("source") else None
    return doc
