"""maskgit-studio: generative image editing with MaskGIT."""

from __future__ import annotations

import os
import signal
import sys

__version__ = "0.1.0"

_ENTRY_POINTS = ("maskgit-studio", "maskgit-train")


def _interrupted_during_start_up(signum: int, frame: object) -> None:
    sys.stderr.write(f"{os.path.basename(sys.argv[0])}: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def quiet_start_up_interrupts(*, program: bool = False) -> None:
    """Ctrl-C while a command is still importing (before its ``main`` runs) exits with 130 and
    one line instead of an import traceback. Only for the console scripts (or ``program``:
    the caller is a program's entry point): importing this package as a library never changes
    signal handling. ``main`` calls :func:`raise_interrupts` as soon as it runs; from then on
    Ctrl-C is a KeyboardInterrupt it handles itself. (Some imports swallow KeyboardInterrupt,
    PySide6's among them: the app keeps this handler until its own is installed.)"""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    ours = program or name.removesuffix(".exe") in _ENTRY_POINTS
    if ours and signal.getsignal(signal.SIGINT) in (signal.default_int_handler, None):
        signal.signal(signal.SIGINT, _interrupted_during_start_up)


def raise_interrupts() -> None:
    """Ctrl-C raises KeyboardInterrupt again (undoes :func:`quiet_start_up_interrupts`)."""
    if signal.getsignal(signal.SIGINT) is _interrupted_during_start_up:
        signal.signal(signal.SIGINT, signal.default_int_handler)


quiet_start_up_interrupts()
