"""``maskgit-studio``: headless commands, or the desktop app when no sub-command is given.

    maskgit-studio generate --class NAME_OR_ID --out OUT.png [options]
    maskgit-studio inpaint IMAGE --mask MASK.png --out OUT.png [--class ...] [options]
    maskgit-studio outpaint IMAGE [--left PX] [--right PX] [--top PX] [--bottom PX] --out OUT.png
    maskgit-studio edit IMAGE --box X,Y,W,H --class NAME_OR_ID --out OUT.png
    maskgit-studio info [--model PATH] [--classes] [--json]
    maskgit-studio import official|torch --tokenizer FILE --transformer FILE [--name NAME]
    maskgit-studio download imagenet256|imagenet512 [--base-url URL] [--keep] [--force]
    maskgit-studio [IMAGE]               the app

Exit codes: 0 success; 2 bad input (one line on stderr, no traceback, no output written);
1 an unexpected failure; 130 interrupted.

Start-up: this module and ``parser`` import neither torch nor Qt. Each command's module (and
with it torch) is imported only when that command runs; Qt only when the app opens. So
``--help`` is instant and the headless commands never load Qt (tests/cli/test_startup.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from .. import quiet_start_up_interrupts, raise_interrupts, stop_if_interrupted
from ..safe_io import describe_write_error, is_write_error
from .parser import COMMANDS, PROG, build_parser

log = logging.getLogger(__name__)


def launch_app(argv: list[str]) -> int:
    """Open the desktop app (imported lazily: the CLI works without Qt)."""
    quiet_start_up_interrupts(program=True)  # until the app installs its own Ctrl-C handler
    try:
        try:
            from ..gui import app
        except ImportError as exc:
            print(
                f"{PROG}: the app cannot start ({exc}); use a sub-command (see {PROG} --help)",
                file=sys.stderr,
            )
            return 1
        return int(app.main(argv) or 0)
    finally:
        raise_interrupts()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (never raises for bad input, nor for Ctrl-C)."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # Ctrl-C at any moment, start-up (imports, model) included
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    finally:
        logging.captureWarnings(False)


def _main(argv: list[str]) -> int:
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
    # Library warnings (torch, Pillow) go to the log: shown with -v, never before the one line.
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.WARNING if args.verbose else logging.ERROR)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        # Ctrl-C while the command's modules load (torch...) exits at once with 130 (a
        # KeyboardInterrupt inside an import can leave it half done); once they are loaded it
        # is a KeyboardInterrupt, so temp files are cleaned up on the way out.
        handler = args.func.load() if hasattr(args.func, "load") else args.func
        raise_interrupts()
        return int(handler(args))
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        # CliError and CheckpointError are ValueErrors: all bad input
        stop_if_interrupted(exc)
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        stop_if_interrupted(exc)
        if not is_write_error(exc):
            raise
        print(f"{PROG} {args.command}: error: {describe_write_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a bug or an environment failure: one line, details in the log
        stop_if_interrupted(exc)
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


__all__ = ["build_parser", "launch_app", "main"]
