"""The one model file format: a .safetensors bundle with JSON metadata, validated on load.

Tensors are named ``tokenizer.*`` and ``transformer.*``; the metadata key ``maskgit_studio``
holds JSON with format_version, both configs, class names, image size and provenance. Nothing is
ever unpickled.

Loading treats the file as hostile: it must be a regular file with a bounded header; the
metadata is checked for types (an object of the expected fields, a list of class-name strings)
and the configs for types, ranges and caps (``config.py``) before anything is built. Then the
header's tensor names, shapes and dtypes are compared with a shape-only plan (the networks built
on the meta device: no memory, no initialisation) before a single weight is read. Every failure
is one CheckpointError.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch.overrides import TorchFunctionMode

from ..safe_io import UnreadableFile, atomic_output, open_regular
from .config import TokenizerConfig, TransformerConfig, config_from_dict, config_to_dict
from .transformer import MaskGitTransformer
from .vqgan import Tokenizer

log = logging.getLogger(__name__)

try:  # safetensors >= 0.4.2 exports its error type; older ones raise plain exceptions
    from safetensors import SafetensorError as SafetensorsError
except ImportError:  # pragma: no cover
    SafetensorsError = RuntimeError  # type: ignore[misc,assignment]

FORMAT_VERSION = 1
METADATA_KEY = "maskgit_studio"
ALLOWED_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_CLASSES = 1 << 20
MAX_CLASS_NAME = 1000  # characters
# safetensors dtype names of the header -> the torch dtypes a bundle may store
HEADER_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


class CheckpointError(ValueError):
    """A model file that cannot be used; the message is meant for the user."""


@dataclass
class ModelBundle:
    """A loaded model: both networks (eval mode, on ``device``) and what describes them."""

    tokenizer: Tokenizer
    transformer: MaskGitTransformer
    class_names: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def tokenizer_config(self) -> TokenizerConfig:
        return self.tokenizer.config

    @property
    def transformer_config(self) -> TransformerConfig:
        return self.transformer.config

    @property
    def image_size(self) -> int:
        return self.tokenizer.config.image_size

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.tokenizer.parameters()) + sum(
            p.numel() for p in self.transformer.parameters()
        )


def check_compatible(tok: TokenizerConfig, tr: TransformerConfig, class_names: list[str]) -> None:
    if tok.codebook_size != tr.codebook_size:
        raise CheckpointError(
            f"tokenizer codebook ({tok.codebook_size}) and transformer codebook "
            f"({tr.codebook_size}) differ"
        )
    if tok.grid_size != tr.grid_size:
        raise CheckpointError(
            f"tokenizer grid ({tok.grid_size}) and transformer grid ({tr.grid_size}) differ"
        )
    if len(class_names) != tr.num_classes:
        raise CheckpointError(f"{len(class_names)} class names for {tr.num_classes} classes")


def save_bundle(
    path: str | os.PathLike,
    tokenizer: Tokenizer,
    transformer: MaskGitTransformer,
    class_names: list[str],
    provenance: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Path:
    """Write a bundle atomically (temp file in the same folder, fsync, rename).

    ``dtype`` is the storage type of floating-point tensors (float16 halves the file; the
    loader always computes in float32).
    """
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"unsupported storage dtype {dtype}")
    path = Path(path)
    check_compatible(tokenizer.config, transformer.config, list(class_names))
    tensors = {f"tokenizer.{k}": v for k, v in tokenizer.state_dict().items()}
    tensors |= {f"transformer.{k}": v for k, v in transformer.state_dict().items()}
    tensors = {
        k: v.detach().to("cpu", dtype=dtype if v.is_floating_point() else v.dtype).contiguous()
        for k, v in tensors.items()
    }
    meta = {
        "format_version": FORMAT_VERSION,
        "tokenizer": config_to_dict(tokenizer.config),
        "transformer": config_to_dict(transformer.config),
        "class_names": list(class_names),
        "image_size": tokenizer.config.image_size,
        "provenance": provenance or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keeps a replaced file's mode; a new one gets 0666 & ~umask (no unconditional 0644).
    with atomic_output(path) as tmp:
        try:
            save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(meta)})
        except SafetensorsError as exc:  # a full disk arrives as the library's own error
            raise _as_os_error(exc, path) from None
    return path


def copy_with_provenance(
    src: str | os.PathLike, dst: str | os.PathLike, provenance: dict[str, Any]
) -> Path:
    """Write ``src``'s bundle to ``dst`` (atomically; ``dst`` may be ``src``) with another
    provenance record. The tensors are copied as stored, bit for bit: only the metadata changes
    (e.g. the recommended sampler settings of a model whose run folder is gone).

    Raises:
        CheckpointError: ``src`` is not a valid bundle (checked as ``load_bundle`` does).
    """
    src, dst = Path(src), Path(dst)
    load_bundle(src)  # every check the studio makes, before anything is written
    meta = read_metadata(src)
    meta["provenance"] = provenance
    try:
        with safe_open(str(src), framework="pt") as fh:
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}
    except (SafetensorsError, OSError) as exc:
        raise CheckpointError(f"{src.name} is damaged: {exc}") from None
    with atomic_output(dst) as tmp:
        try:
            save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(meta)})
        except SafetensorsError as exc:
            raise _as_os_error(exc, dst) from None
    return dst


def _as_os_error(exc: BaseException, path: Path) -> OSError:
    """safetensors reports I/O errors as text ("... (os error 28)"): make it an OSError."""
    found = re.search(r"os error (\d+)", str(exc))
    code = int(found[1]) if found else 5  # EIO
    return OSError(code, os.strerror(code), str(path))


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The bundle's metadata dict, after checking the file is a safetensors file at all and the
    metadata has the expected shape (an object; configs objects; class names strings)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"model file not found: {path}")
    try:
        with open_regular(path, "model file") as fh:
            head = fh.read(8)
            size = os.fstat(fh.fileno()).st_size
    except UnreadableFile as exc:
        raise CheckpointError(str(exc)) from None
    if len(head) < 8:
        raise CheckpointError(f"{path.name} is not a model file (it is empty or truncated)")
    header_len = int.from_bytes(head, "little")
    if header_len > MAX_HEADER_BYTES or header_len + 8 > size:
        raise CheckpointError(
            f"{path.name} is not a valid .safetensors model file (bad header; a pickle or a "
            "truncated download?)"
        )
    try:
        with safe_open(str(path), framework="pt") as fh:
            raw = (fh.metadata() or {}).get(METADATA_KEY)
    except (SafetensorsError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name} is not a readable .safetensors file: {exc}") from None
    if raw is None:
        raise CheckpointError(f"{path.name} has no maskgit-studio metadata (not a studio model)")
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):
        raise CheckpointError(f"{path.name} has corrupt metadata") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path.name} has corrupt metadata (not an object)")
    version = meta.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path.name} has format version {version!r}; this studio reads version {FORMAT_VERSION}"
        )
    _check_metadata(path, meta)
    return meta


def _check_metadata(path: Path, meta: dict[str, Any]) -> None:
    for key in ("tokenizer", "transformer"):
        if not isinstance(meta.get(key), dict):
            raise CheckpointError(f"{path.name} has invalid metadata: {key} is not an object")
    names = meta.get("class_names")
    if (
        not isinstance(names, list)
        or len(names) > MAX_CLASSES
        or not all(isinstance(n, str) and len(n) <= MAX_CLASS_NAME for n in names)
    ):
        raise CheckpointError(
            f"{path.name} has invalid metadata: class_names must be a list of names"
        )
    if not isinstance(meta.get("provenance", {}), dict):
        raise CheckpointError(f"{path.name} has invalid metadata: provenance is not an object")


def _check_plan(path: Path, prefix: str, module: torch.nn.Module, fh: Any) -> None:
    """Compare the header's tensor names, shapes and dtypes with the module's (a meta-device
    module: its state dict is a shape-only plan) before any tensor data is read."""
    expected = {name: tuple(t.shape) for name, t in module.state_dict().items()}
    present = {k[len(prefix) :] for k in fh.keys() if k.startswith(prefix)}
    missing = sorted(set(expected) - present)
    unexpected = sorted(present - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{path.name}: {prefix.rstrip('.')} tensors do not match its config "
            f"(missing: {missing[:3]}{'...' if len(missing) > 3 else ''}, "
            f"unexpected: {unexpected[:3]}{'...' if len(unexpected) > 3 else ''})"
        )
    for name, shape in expected.items():
        info = fh.get_slice(prefix + name)
        found = tuple(info.get_shape())
        if found != shape:
            raise CheckpointError(
                f"{path.name}: {prefix}{name} has shape {found}, expected {shape}"
            )
        if info.get_dtype() not in HEADER_DTYPES:
            raise CheckpointError(
                f"{path.name}: {prefix}{name} has unsupported dtype {info.get_dtype()}"
            )


def _load_state(path: Path, prefix: str, module: torch.nn.Module, fh: Any) -> None:
    expected = module.state_dict()
    state = {}
    for name, ref in expected.items():
        tensor = fh.get_tensor(prefix + name)
        if tensor.shape != ref.shape:
            raise CheckpointError(
                f"{path.name}: {prefix}{name} has shape {tuple(tensor.shape)}, "
                f"expected {tuple(ref.shape)}"
            )
        if tensor.dtype not in ALLOWED_DTYPES:
            raise CheckpointError(
                f"{path.name}: {prefix}{name} has unsupported dtype {tensor.dtype}"
            )
        tensor = _as_float32(tensor)
        if not np.isfinite(tensor.numpy()).all():  # numpy: ~20x faster than torch here
            raise CheckpointError(f"{path.name}: {prefix}{name} contains NaN or infinite values")
        state[name] = tensor
    # The module was built on the meta device: assign the loaded tensors instead of copying
    # them over a random initialisation (that init alone costs seconds for large models).
    module.load_state_dict(state, assign=True)


def _as_float32(tensor: torch.Tensor) -> torch.Tensor:
    """float16 goes through numpy: one thread, ~10x faster than torch's threaded ``.to`` on a
    busy machine (2.2 s vs 0.2 s for the default model's 10.6 M weights); same values."""
    if tensor.dtype == torch.float16:
        return torch.from_numpy(tensor.numpy().astype(np.float32))
    return tensor.to(torch.float32)


class _SkipMetaInit(TorchFunctionMode):
    """While a model is built on the meta device for loading, skip its random initialisation:
    in-place initialisers (``normal_``, ``uniform_``, ``kaiming_uniform_``, ...) of meta tensors
    do nothing and ``randn`` / ``rand`` give empty tensors. Every weight is assigned afterwards.

    Why: on the meta device these ops run torch's Python reference kernels, whose first calls
    import ``torch._dynamo`` and sympy's shape machinery (over a second: more than half of the
    start-up of ``maskgit-studio info``). Use it inside ``with torch.device("meta")`` only.
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.randn, torch.rand):
            return torch.empty(*args, **{k: v for k, v in kwargs.items() if k != "generator"})
        name = getattr(func, "__name__", "")
        in_place = name.endswith("_") and not name.endswith("__")
        target = args[0] if args else kwargs.get("tensor")  # torch.nn.init passes tensor=...
        if in_place and isinstance(target, torch.Tensor) and target.is_meta:
            return target
        return func(*args, **kwargs)


def load_bundle(path: str | os.PathLike, device: str | torch.device = "cpu") -> ModelBundle:
    """Load and validate a bundle; any problem raises one CheckpointError with a clear message."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        tok_cfg = config_from_dict(TokenizerConfig, meta["tokenizer"])
        tr_cfg = config_from_dict(TransformerConfig, meta["transformer"])
        class_names = list(meta["class_names"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path.name} has invalid model configuration: {exc}") from None
    check_compatible(tok_cfg, tr_cfg, class_names)
    try:  # the configs are capped, so building on the meta device takes milliseconds
        with torch.device("meta"), _SkipMetaInit():
            tokenizer, transformer = Tokenizer(tok_cfg), MaskGitTransformer(tr_cfg)
    except (ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path.name} has an unusable model configuration: {exc}") from None
    try:
        with safe_open(str(path), framework="pt") as fh:
            _check_plan(path, "tokenizer.", tokenizer, fh)
            _check_plan(path, "transformer.", transformer, fh)
            _load_state(path, "tokenizer.", tokenizer, fh)
            _load_state(path, "transformer.", transformer, fh)
    except (SafetensorsError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"{path.name} is damaged: {exc}") from None
    tokenizer.to(device).eval()
    transformer.to(device).eval()
    log.info("loaded %s (%s classes)", path.name, len(class_names))
    return ModelBundle(tokenizer, transformer, class_names, meta.get("provenance", {}), path)
