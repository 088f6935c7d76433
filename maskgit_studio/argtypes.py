"""argparse types that check numbers where they enter: whole numbers in a range, finite reals
in a range; and a parser that reports bad input on one line. Shared by ``maskgit-studio`` and
``maskgit-train``, so an absurd value (a negative thread count, NaN, 10**12 steps) is refused
with exit 2 and one line naming the option, before any work starts."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def whole(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [lo, hi]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is outside {lo}..{hi}")
        return value

    parse.__name__ = "whole number"
    return parse


def real(lo: float, hi: float, *, open_lo: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in [lo, hi] (or (lo, hi] with ``open_lo``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < lo or (open_lo and value == lo) or value > hi:
            low = f"> {lo:g}" if open_lo else f">= {lo:g}"
            raise argparse.ArgumentTypeError(f"{text} is not a finite number {low} and <= {hi:g}")
        return value

    parse.__name__ = "number"
    return parse


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input on one line (no usage dump) and exits with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


__all__ = ["OneLineParser", "real", "whole"]
