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


_interrupt_seen = False


def _raise_interrupt(signum: int, frame: object) -> None:
    """Python's own Ctrl-C handler, which also remembers that Ctrl-C came."""
    global _interrupt_seen
    _interrupt_seen = True
    raise KeyboardInterrupt


def stop_if_interrupted(exc: BaseException) -> None:
    """Raise KeyboardInterrupt (from ``exc``) when Ctrl-C came since :func:`raise_interrupts`.

    A library can turn the KeyboardInterrupt raised inside its code into an error of its own
    (torch does while it builds a tensor: "could not determine the shape of object type ...");
    the entry points call this before they report an error as bad input, and stop as
    interrupted (130) instead."""
    if _interrupt_seen:
        raise KeyboardInterrupt from exc


def quiet_start_up_interrupts(*, program: bool = False) -> None:
    """Ctrl-C while a command is still importing (before its ``main`` runs) exits with 130 and
    one line instead of an import traceback. Only for the console scripts (or ``program``:
    the caller is a program's entry point): importing this package as a library never changes
    signal handling. ``main`` calls :func:`raise_interrupts` as soon as it runs; from then on
    Ctrl-C is a KeyboardInterrupt it handles itself. (Some imports swallow KeyboardInterrupt,
    PySide6's among them: the app keeps this handler until its own is installed.)"""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    ours = program or name.removesuffix(".exe") in _ENTRY_POINTS
    if ours and signal.getsignal(signal.SIGINT) in (
        signal.default_int_handler,
        _raise_interrupt,
        None,
    ):
        signal.signal(signal.SIGINT, _interrupted_during_start_up)


def raise_interrupts() -> None:
    """Ctrl-C raises KeyboardInterrupt again (undoes :func:`quiet_start_up_interrupts`), and
    is remembered for :func:`stop_if_interrupted`."""
    if signal.getsignal(signal.SIGINT) is _interrupted_during_start_up:
        signal.signal(signal.SIGINT, _raise_interrupt)


quiet_start_up_interrupts()
