"""``maskgit-studio``: headless commands, or the desktop app when no sub-command is given.

    maskgit-studio generate --class NAME_OR_ID --out OUT.png [options]
    maskgit-studio inpaint IMAGE --mask MASK.png --out OUT.png [--class ...] [options]
    maskgit-studio outpaint IMAGE [--left PX] [--right PX] [--top PX] [--bottom PX] --out OUT.png
    maskgit-studio edit IMAGE --box X,Y,W,H --class NAME_OR_ID --out OUT.png
    maskgit-studio info [--model PATH]
    maskgit-studio import ...            (when maskgit_studio.cli_import is available)
    maskgit-studio [IMAGE]               the app

Exit codes: 0 success; 2 bad input (one line on stderr, no traceback, no output written);
1 an unexpected failure; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import cli_commands
from .engine.config import REVEAL_POLICIES, SCHEDULES

log = logging.getLogger(__name__)

PROG = "maskgit-studio"
COMMANDS = ("generate", "inpaint", "outpaint", "edit", "info", "import")


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input on one line (no usage dump) and exits with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=None,
        help="model file or name of an imported model (default: the bundled model)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")


def _add_sampling_options(p: argparse.ArgumentParser, class_required: bool) -> None:
    _add_model_options(p)
    p.add_argument(
        "--class",
        dest="class_",
        required=class_required,
        metavar="NAME_OR_ID",
        help="class name or id"
        + ("" if class_required else " (default: unconditional, if the model has a null class)"),
    )
    # Sampling options default to None: the model's recommended settings fill them in.
    p.add_argument(
        "--steps", type=int, default=None, help="decoding iterations T (default: the model's)"
    )
    p.add_argument("--schedule", choices=SCHEDULES, default=None)
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="choice temperature: randomness of which tokens are kept each step (annealed to 0)",
    )
    p.add_argument(
        "--sample-temperature",
        type=float,
        default=None,
        help="softmax temperature of the token samples",
    )
    p.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="classifier-free guidance scale (default: the model's)",
    )
    p.add_argument("--policy", choices=REVEAL_POLICIES, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--variations", type=int, default=1, help="K results; OUT gets -1, -2, ... suffixes"
    )
    p.add_argument("--out", required=True, help="output image (.png, .jpg, .webp, ...)")
    p.add_argument("--strip", help="PNG strip of every iteration (token mask above image)")
    p.add_argument("--gif", help="animated GIF of every iteration")


def _add_edit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", type=int, default=None, help="working scale (cell = f * scale px)")
    p.add_argument("--feather", type=int, default=None, help="feather radius in px")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="MaskGIT studio: generate, inpaint, outpaint and edit images. Without a "
        "sub-command it opens the app (optionally with IMAGE).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("generate", help="generate images of a class")
    _add_sampling_options(p, class_required=True)
    p.set_defaults(func=cli_commands.cmd_generate)

    p = sub.add_parser("inpaint", help="regenerate the masked part of an image")
    p.add_argument("image")
    p.add_argument("--mask", required=True, help="mask image, same size, white = regenerate")
    _add_sampling_options(p, class_required=False)
    _add_edit_options(p)
    p.set_defaults(func=cli_commands.cmd_inpaint)

    p = sub.add_parser("outpaint", help="grow the canvas and fill the new area")
    p.add_argument("image")
    for side in ("left", "right", "top", "bottom"):
        p.add_argument(f"--{side}", type=int, default=0, metavar="PX", help=f"grow {side} (px)")
    _add_sampling_options(p, class_required=False)
    _add_edit_options(p)
    p.set_defaults(func=cli_commands.cmd_outpaint)

    p = sub.add_parser("edit", help="box + class edit (official MaskGIT recipe)")
    p.add_argument("image")
    p.add_argument("--box", required=True, metavar="X,Y,W,H", help="box in pixels")
    _add_sampling_options(p, class_required=True)
    _add_edit_options(p)
    p.set_defaults(func=cli_commands.cmd_edit)

    p = sub.add_parser("info", help="model, configs, classes and devices")
    _add_model_options(p)
    p.add_argument("--classes", action="store_true", help="list every class with its id")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cli_commands.cmd_info)

    _register_import(sub)
    return parser


def _register_import(sub: argparse._SubParsersAction) -> None:
    try:
        from . import cli_import
    except ImportError as exc:
        log.debug("no import command: %s", exc)
        return
    cli_import.register(sub)


def launch_app(argv: list[str]) -> int:
    """Open the desktop app (imported lazily: the CLI works without Qt)."""
    try:
        from .gui import app
    except ImportError as exc:
        print(
            f"{PROG}: the app cannot start ({exc}); use a sub-command (see {PROG} --help)",
            file=sys.stderr,
        )
        return 1
    return int(app.main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (never raises for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "-v", "--verbose")):
        return launch_app(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already reported)
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        # CliError and CheckpointError are ValueErrors: all bad input
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an environment failure: one line, details in the log
        log.debug("unexpected failure", exc_info=True)
        print(
            f"{PROG} {args.command}: failed: {_one_line(exc)} (run with -v for details)",
            file=sys.stderr,
        )
        if args.verbose:
            raise
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or exc.__class__.__name__).split())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
