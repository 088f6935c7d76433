"""``maskgit-studio download imagenet256|imagenet512``: the official weights in one command.

Fetches the two official files (from the public bucket google-research/maskgit's README links,
or ``--base-url``), converts them, registers the model under its name and deletes the raw files
(unless ``--keep``). A progress bar on a terminal, a line per 10 % otherwise. An interrupted
run (Ctrl+C, a dropped connection) keeps its partial files, and the same command resumes them.
Errors (a missing file, no connection, a corrupt file, too little disk) exit with code 2 and
one line; no model is installed then.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..engine.importers.official_download import DownloadProgress

MB = 2**20
BAR_WIDTH = 28


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "download",
        help="download the official ImageNet models (866 MB) and install them",
        description="Download the official MaskGIT ImageNet weights (google-research/maskgit), "
        "convert them once and install the model under NAME (imagenet256: 866 MB, "
        "imagenet512: 868 MB). Offline: download the files yourself and run "
        "'maskgit-studio import official'.",
    )
    parser.add_argument("name", choices=("imagenet256", "imagenet512"), metavar="NAME",
                        help="imagenet256 or imagenet512 (also the installed model's name)")  # fmt: skip
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="folder URL with the official files (a mirror; default: the official bucket). "
        "http_proxy / https_proxy / no_proxy are honoured",
    )
    parser.add_argument("--keep", action="store_true", help="keep the raw downloaded files")
    parser.add_argument("--force", action="store_true", help="replace an installed model")
    parser.set_defaults(func=cmd_download)
    return parser


def cmd_download(args: argparse.Namespace) -> int:
    from ..engine.importers.official_download import (
        base_url_for,
        download_dir,
        download_official,
        official_model,
    )

    model = official_model(args.name)
    base = base_url_for(args.base_url)
    print(f"downloading {model.label} from {base}", file=sys.stderr)
    meter = ProgressMeter(sys.stderr)
    start = time.perf_counter()
    try:
        result = download_official(
            args.name, base_url=args.base_url, keep=args.keep, overwrite=args.force,
            progress=meter,
        )  # fmt: skip
    except KeyboardInterrupt:
        meter.end()
        print(f"partial files kept in {download_dir(args.name)}; run the same command to resume",
              file=sys.stderr)  # fmt: skip
        raise
    except OSError as exc:  # the model folder cannot take the converted model
        meter.end()
        print(f"maskgit-studio download: error: cannot write the model: {exc}", file=sys.stderr)
        return 2
    meter.end()
    seconds = time.perf_counter() - start
    kept = f"\n  raw files kept in {download_dir(args.name)}" if args.keep else ""
    print(
        f"installed {result.name!r}: {result.image_size} px, {result.parameters / 1e6:.1f}M "
        f"parameters, in {seconds:.0f} s\n"
        f"  file: {result.path}{kept}\n"
        f"  use it: maskgit-studio edit photo.jpg --model {result.name} --box 64,64,128,128 "
        "--class 'golden retriever' --out edited.png  (or pick it in the app)"
    )
    return 0


class ProgressMeter:
    """Renders DownloadProgress: a redrawn bar on a terminal, a line per 10 % otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.next_tenth = 1
        self.drawn = False
        self.converting = False

    def __call__(self, p: DownloadProgress) -> None:
        if p.phase == "convert":
            if not self.converting:
                self.end()
                print("converting (a few seconds for 866 MB)...", file=self.stream)
                self.converting = True
            return
        if self.tty:
            self.stream.write("\r" + bar_line(p))
            self.stream.flush()
            self.drawn = True
        elif p.total:
            while self.next_tenth <= 10 and p.done * 10 >= self.next_tenth * p.total:
                print(plain_line(p, self.next_tenth * 10), file=self.stream)
                self.next_tenth += 1

    def end(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def bar_line(p: DownloadProgress) -> str:
    """``[#######.......]  412/866 MB  12.3 MB/s  ETA 0:37`` (bytes and rate when no total)."""
    rate = f"{p.rate / MB:.1f} MB/s"
    if not p.total:
        return f"{p.done / MB:8.1f} MB  {rate}"
    filled = int(BAR_WIDTH * min(p.done / p.total, 1.0))
    eta = _clock(p.eta_s) if p.eta_s is not None else "--:--"
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {p.done / MB:5.0f}/{p.total / MB:.0f} MB"
        f"  {rate:>10}  ETA {eta}"
    )


def plain_line(p: DownloadProgress, percent: int) -> str:
    total = f"/{p.total / MB:.0f}" if p.total else ""
    return f"download: {percent:3d}% ({p.done / MB:.0f}{total} MB, {p.rate / MB:.1f} MB/s)"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


__all__ = ["ProgressMeter", "bar_line", "cmd_download", "register"]
