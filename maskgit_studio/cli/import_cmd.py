"""``maskgit-studio import official|torch``: convert public MaskGIT weights once into a model.

The model lands in the user model folder (platformdirs; ``MASKGIT_STUDIO_MODELS`` overrides it),
where the app's model picker and ``--model NAME`` find it. The importers (and torch) are
imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..engine import model_store
from ..safe_io import describe_write_error

if TYPE_CHECKING:
    from ..engine.importers import ImportResult

_EPILOG = (
    "The official files are tokenizer_imagenet{256,512}_checkpoint and "
    "maskgit_imagenet{256,512}_checkpoint from google-research/maskgit; the PyTorch port's are "
    "tokenizer_imagenet{256,512}.ckpt and maskgit_imagenet{256,512}.ckpt from "
    "hmorimitsu/maskgit-torch. The weights keep their own licence terms."
)


def _common(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--tokenizer", required=True, metavar="FILE", help=f"the {what} tokenizer file"
    )
    parser.add_argument(
        "--transformer", required=True, metavar="FILE", help=f"the {what} transformer file"
    )
    parser.add_argument(
        "--name", metavar="NAME", help="model name (default: maskgit-imagenet256 or ...512)"
    )
    parser.add_argument("--force", action="store_true", help="replace a model of the same name")
    parser.add_argument(
        "--dest", metavar="DIR", help="folder to write to (default: the user model folder)"
    )


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``import`` with the ``official`` and ``torch`` sub-commands to a CLI."""
    parser = subparsers.add_parser(
        "import",
        help="convert the official MaskGIT ImageNet weights into a studio model",
        description="Convert public MaskGIT weights once into a studio model (.safetensors).",
        epilog=_EPILOG,
    )
    kinds = parser.add_subparsers(dest="import_kind", metavar="{official,torch}", required=True)
    official = kinds.add_parser(
        "official",
        help="the official flax msgpack checkpoints (google-research/maskgit)",
        description="Import the official flax msgpack checkpoints (read with msgpack + numpy).",
        epilog=_EPILOG,
    )
    _common(official, "official")
    official.set_defaults(func=cmd_import_official)
    port = kinds.add_parser(
        "torch",
        help="PyTorch ports of the same weights (.ckpt/.pth, e.g. hmorimitsu/maskgit-torch)",
        description="Import a PyTorch port's state dicts (loaded with weights_only=True).",
        epilog=_EPILOG,
    )
    _common(port, "PyTorch-port")
    port.add_argument(
        "--heads", type=int, metavar="N", help="attention heads (default: hidden size / 48 = 16)"
    )
    port.set_defaults(func=cmd_import_torch)
    return parser


def _report(result: ImportResult, seconds: float) -> None:
    print(
        f"imported {result.name!r}: {result.image_size} px, "
        f"{result.parameters / 1e6:.1f}M parameters, in {seconds:.1f} s\n"
        f"  file: {result.path}\n"
        f"  use it: maskgit-studio generate --model {result.name} --class 'golden retriever' "
        "--out out.png  (or pick it in the app's model list)"
    )


def _run(args: argparse.Namespace, convert: Callable[[], ImportResult]) -> int:
    from ..engine.checkpoint import CheckpointError
    from ..engine.importers import WeightsImportError

    dest = args.dest or model_store.user_models_dir()
    print(f"converting (writing to {dest}); large files take a minute...", file=sys.stderr)
    start = time.perf_counter()
    try:
        result = convert()
    except (WeightsImportError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only folder: nothing was written
        print(f"error: {describe_write_error(exc, dest)}", file=sys.stderr)
        return 2
    _report(result, time.perf_counter() - start)
    return 0


def cmd_import_official(args: argparse.Namespace) -> int:
    from ..engine.importers import import_official

    return _run(
        args,
        lambda: import_official(
            args.tokenizer, args.transformer, args.name, dest_dir=args.dest, overwrite=args.force
        ),
    )


def cmd_import_torch(args: argparse.Namespace) -> int:
    if args.heads is not None and args.heads < 1:
        print("error: --heads must be >= 1", file=sys.stderr)
        return 2
    from ..engine.importers import import_torch_port

    return _run(
        args,
        lambda: import_torch_port(
            args.tokenizer,
            args.transformer,
            args.name,
            num_heads=args.heads,
            dest_dir=args.dest,
            overwrite=args.force,
        ),
    )


__all__ = ["cmd_import_official", "cmd_import_torch", "register"]
