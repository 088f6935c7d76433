"""Import public weights once into the user's model folder as a studio .safetensors bundle.

``import_official`` reads the two official flax files, ``import_torch_port`` the two PyTorch-port
files; both convert with the one strict converter and write
``model_store.user_models_dir() / f"{name}.safetensors"`` atomically (temp file + rename, inside
``checkpoint.save_bundle``), so the app's model picker and ``--model NAME`` find it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ... import __version__
from .. import model_store
from ..checkpoint import save_bundle
from ..transformer import MaskGitTransformer
from ..vqgan import Tokenizer
from .errors import WeightsImportError
from .flax_msgpack import flatten_tree, read_flax_msgpack
from .official import convert_official, params_of
from .torch_ports import load_state_dict, tokenizer_to_official, transformer_to_official

log = logging.getLogger(__name__)

IMAGENET_CLASSES_FILE = "imagenet_classes.txt"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class ImportResult:
    """What an import produced."""

    path: Path
    name: str
    image_size: int
    parameters: int


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet class names shipped in assets/, in label order."""
    path = model_store.assets_dir() / IMAGENET_CLASSES_FILE
    names = path.read_text(encoding="utf-8").splitlines()
    if len(names) != 1000:
        raise RuntimeError(f"{path} has {len(names)} lines, expected 1000 (damaged install?)")
    return names


def class_names_for(num_classes: int) -> list[str]:
    """ImageNet names for 1000-class models; numbered names for anything else (test configs)."""
    if num_classes == 1000:
        return imagenet_class_names()
    log.warning("%d classes is not ImageNet-1k; using numbered class names", num_classes)
    return [f"class {i}" for i in range(num_classes)]


def validate_name(name: str) -> str:
    """A model name usable as a file name and on the command line."""
    if not _NAME_RE.fullmatch(name) or name == "default":
        raise WeightsImportError(
            f"invalid model name {name!r}: use 1-64 letters, digits, '.', '_' or '-' "
            "(not starting with a symbol, and not 'default')"
        )
    return name


def destination(name: str, dest_dir: str | os.PathLike | None, overwrite: bool) -> Path:
    folder = Path(dest_dir) if dest_dir is not None else model_store.user_models_dir(create=True)
    path = folder / f"{validate_name(name)}{model_store.MODEL_SUFFIX}"
    if path.exists() and not overwrite:
        raise WeightsImportError(
            f"a model named {name!r} already exists ({path}); pick another --name or use --force"
        )
    return path


def file_record(path: Path) -> dict[str, object]:
    """Provenance entry for one input file: its name, size and SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _save(
    tokenizer: Tokenizer,
    transformer: MaskGitTransformer,
    path: Path,
    name: str,
    provenance: dict[str, object],
) -> ImportResult:
    class_names = class_names_for(transformer.config.num_classes)
    provenance = {**provenance, "converted_by": f"maskgit-studio {__version__}"}
    save_bundle(path, tokenizer, transformer, class_names, provenance)
    count = sum(p.numel() for m in (tokenizer, transformer) for p in m.parameters())
    log.info("imported %s -> %s (%.1fM parameters)", name, path, count / 1e6)
    return ImportResult(path, name, tokenizer.config.image_size, count)


def _default_name(tokenizer: Tokenizer) -> str:
    return f"maskgit-imagenet{tokenizer.config.image_size}"


def import_official(
    tokenizer_file: str | os.PathLike,
    transformer_file: str | os.PathLike,
    name: str | None = None,
    *,
    dest_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> ImportResult:
    """Convert the official flax checkpoints into a studio bundle in the user model folder.

    Args:
        tokenizer_file: e.g. ``tokenizer_imagenet256_checkpoint``.
        transformer_file: e.g. ``maskgit_imagenet256_checkpoint``.
        name: model name (default ``maskgit-imagenet{256|512}``).
        dest_dir: folder to write to (default: the user model folder).
        overwrite: replace an existing model of that name.

    Raises:
        WeightsImportError: unreadable files, wrong layout, or the name is taken.
    """
    tokenizer_file, transformer_file = Path(tokenizer_file), Path(transformer_file)
    if name is not None:
        destination(name, dest_dir, overwrite)  # fail on a taken name before the slow part
    # One file at a time; leaves are popped while converting, so memory stays near one copy.
    tok_flat = flatten_tree(params_of(read_flax_msgpack(tokenizer_file), "the tokenizer file"))
    tr_flat = flatten_tree(params_of(read_flax_msgpack(transformer_file), "the transformer file"))
    tokenizer, transformer = convert_official(tok_flat, tr_flat)
    name = name or _default_name(tokenizer)
    path = destination(name, dest_dir, overwrite)
    files = {"tokenizer": file_record(tokenizer_file), "transformer": file_record(transformer_file)}
    provenance = {
        "source": "official maskgit",
        "files": files,
        "origin": "https://github.com/google-research/maskgit (Apache-2.0)",
    }
    return _save(tokenizer, transformer, path, name, provenance)


def import_torch_port(
    tokenizer_file: str | os.PathLike,
    transformer_file: str | os.PathLike,
    name: str | None = None,
    *,
    num_heads: int | None = None,
    dest_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> ImportResult:
    """Convert PyTorch-port files (hmorimitsu/maskgit-torch ``*.ckpt``) into a studio bundle.

    Args:
        tokenizer_file: e.g. ``tokenizer_imagenet256.ckpt``.
        transformer_file: e.g. ``maskgit_imagenet256.ckpt``.
        name: model name (default ``maskgit-imagenet{256|512}``).
        num_heads: attention heads (default: hidden size / 48, the official 16).
        dest_dir: folder to write to (default: the user model folder).
        overwrite: replace an existing model of that name.
    """
    tokenizer_file, transformer_file = Path(tokenizer_file), Path(transformer_file)
    if name is not None:
        destination(name, dest_dir, overwrite)
    tok_flat = tokenizer_to_official(load_state_dict(tokenizer_file, "the tokenizer file"))
    tr_flat, heads = transformer_to_official(
        load_state_dict(transformer_file, "the transformer file"), num_heads
    )
    tokenizer, transformer = convert_official(tok_flat, tr_flat, num_heads=heads)
    name = name or _default_name(tokenizer)
    path = destination(name, dest_dir, overwrite)
    files = {"tokenizer": file_record(tokenizer_file), "transformer": file_record(transformer_file)}
    provenance = {
        "source": "official maskgit via a PyTorch port",
        "files": files,
        "origin": "https://github.com/google-research/maskgit weights, "
        "converted by https://github.com/hmorimitsu/maskgit-torch",
    }
    return _save(tokenizer, transformer, path, name, provenance)


__all__ = [
    "ImportResult",
    "class_names_for",
    "imagenet_class_names",
    "import_official",
    "import_torch_port",
    "validate_name",
]
