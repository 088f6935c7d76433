"""The command line: every sub-command, its options and its (lazily imported) handler.

Nothing here imports torch or Qt: a handler's module is imported when its command runs, so
``--help`` and argument errors answer at once. Every number is checked here, by its argparse
type (whole numbers in a range, finite reals in a range), so an absurd value is refused with
exit 2 and one line before any file is read or any model is loaded.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from ..argtypes import OneLineParser, real, whole
from ..engine.config import (
    MAX_FEATHER,
    MAX_GUIDANCE,
    MAX_SCALE,
    MAX_STEPS,
    MAX_TEMPERATURE,
    MAX_VARIATIONS,
    REVEAL_POLICIES,
    SCHEDULES,
)
from . import download_cmd, import_cmd

PROG = "maskgit-studio"
COMMANDS = (
    "generate", "inpaint", "refine", "remove", "outpaint", "edit", "info", "import", "download",
)  # fmt: skip

Handler = Callable[[argparse.Namespace], int]

# Limits of the image commands (the studio's panel has the same ones).
MAX_GROWTH = 100_000  # px per side (the grown canvas must also stay under the pixel limit)
MAX_THREADS = 1024
MAX_SEED = 2**63 - 1
MAX_CONTEXT = 64  # cells
# The engine's choices (engine.editing_composite.BLEND_MODES, engine.edit_options.REFINE_ORDERS),
# repeated so that --help imports no torch (tests/cli/test_edit_options.py keeps them equal).
BLEND_MODES = ("poisson", "alpha")
REFINE_ORDERS = ("confidence", "random")


def lazy(module: str, name: str) -> Handler:
    """The handler ``name`` of ``maskgit_studio.cli.<module>``, imported when it is called
    (``handler.load()`` imports it without calling it)."""

    def load() -> Handler:
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)

    def handler(args: argparse.Namespace) -> int:
        return load()(args)

    handler.__name__ = name
    handler.load = load  # type: ignore[attr-defined]
    return handler


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=None,
        help="model file or name of an imported model (default: the bundled model)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument(
        "--threads", type=whole(1, MAX_THREADS), default=None, help="CPU threads for torch"
    )


def add_sampling_options(p: argparse.ArgumentParser, class_required: bool) -> None:
    add_model_options(p)
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
        "--steps",
        type=whole(1, MAX_STEPS),
        default=None,
        help=f"decoding iterations T, 1..{MAX_STEPS} (default: the model's)",
    )
    p.add_argument("--schedule", choices=SCHEDULES, default=None)
    p.add_argument(
        "--temperature",
        type=real(0.0, MAX_TEMPERATURE),
        default=None,
        help="choice temperature: randomness of which tokens are kept each step (annealed to 0)",
    )
    p.add_argument(
        "--sample-temperature",
        type=real(0.0, MAX_TEMPERATURE, open_lo=True),
        default=None,
        help="softmax temperature of the token samples",
    )
    p.add_argument(
        "--guidance",
        type=real(0.0, MAX_GUIDANCE),
        default=None,
        help="classifier-free guidance scale (default: the model's)",
    )
    p.add_argument("--policy", choices=REVEAL_POLICIES, default=None)
    p.add_argument("--seed", type=whole(0, MAX_SEED), default=0)
    p.add_argument(
        "--variations",
        type=whole(1, MAX_VARIATIONS),
        default=1,
        help=f"K results, 1..{MAX_VARIATIONS}; OUT gets -1, -2, ... suffixes",
    )
    p.add_argument("--out", required=True, help="output image (.png, .jpg, .webp, ...)")
    p.add_argument("--strip", help="PNG strip of every iteration (token mask above image)")
    p.add_argument("--gif", help="animated GIF of every iteration")


def add_edit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scale",
        type=whole(1, MAX_SCALE),
        default=None,
        help=f"working scale, 1..{MAX_SCALE}: a token cell is f * scale px and the model's "
        "output is enlarged scale times (default: the smallest that holds the edit and its "
        "context)",
    )
    p.add_argument(
        "--context",
        type=whole(0, MAX_CONTEXT),
        default=None,
        metavar="CELLS",
        help="cells of the picture the model window holds around the edit on every side, when "
        "the scale is picked (default: the model's, a quarter of its window)",
    )
    p.add_argument(
        "--feather",
        type=whole(0, MAX_FEATHER),
        default=None,
        help=f"feather radius in px, 0..{MAX_FEATHER} (default: a quarter cell; with "
        "--blend alpha the official radius)",
    )
    p.add_argument(
        "--blend",
        choices=BLEND_MODES,
        default="poisson",
        help="poisson: colour-matched, gradient-domain blend (default); alpha: the official "
        "feathered paste",
    )
    p.add_argument(
        "--no-colour-match", action="store_true", help="keep the model's colours as they came"
    )
    p.add_argument(
        "--no-detail-match",
        action="store_true",
        help="do not give the fill the detail and grain of its surroundings",
    )
    p.add_argument(
        "--snap-to-cells",
        action="store_true",
        help="composite whole token cells (default: only the masked pixels, feathered)",
    )
    p.add_argument(
        "--detail",
        type=real(0.0, 1.0, open_lo=True),
        default=None,
        metavar="STRENGTH",
        help="then a detail pass: redraw this fraction of the edited region's tokens, at random, "
        "at the finest scale that covers it in at most 4 windows (e.g. 0.5; nothing to do when "
        "the edit ran at scale 1)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="MaskGIT studio: generate, inpaint, outpaint and edit images. Without a "
        "sub-command it opens the app (optionally with IMAGE).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("generate", help="generate images of a class")
    add_sampling_options(p, class_required=True)
    p.set_defaults(func=lazy("commands", "cmd_generate"))

    p = sub.add_parser("inpaint", help="regenerate the masked part of an image")
    p.add_argument("image")
    p.add_argument("--mask", required=True, help="mask image, same size, white = regenerate")
    add_sampling_options(p, class_required=False)
    add_edit_options(p)
    p.set_defaults(func=lazy("commands", "cmd_inpaint"))

    p = sub.add_parser(
        "refine", help="image-to-image: re-mask part of the masked area's tokens and decode again"
    )
    p.add_argument("image")
    p.add_argument("--mask", required=True, help="mask image, same size, white = refine")
    p.add_argument(
        "--strength",
        type=real(0.0, 1.0, open_lo=True),
        default=0.5,
        help="fraction of the area's tokens to re-mask, (0, 1] (default 0.5; 1 = inpaint)",
    )
    p.add_argument(
        "--order",
        choices=REFINE_ORDERS,
        default="confidence",
        help="which tokens first: the ones the model finds least likely, or random",
    )
    add_sampling_options(p, class_required=False)
    add_edit_options(p)
    p.set_defaults(func=lazy("commands", "cmd_refine"))

    p = sub.add_parser("remove", help="remove the masked object: fill it with background")
    p.add_argument("image")
    p.add_argument("--mask", required=True, help="mask image, same size, white = the object")
    add_sampling_options(p, class_required=False)
    add_edit_options(p)
    p.set_defaults(func=lazy("commands", "cmd_remove"))

    p = sub.add_parser("outpaint", help="grow the canvas and fill the new area")
    p.add_argument("image")
    for side in ("left", "right", "top", "bottom"):
        p.add_argument(
            f"--{side}",
            type=whole(0, MAX_GROWTH),
            default=0,
            metavar="PX",
            help=f"grow {side} (px)",
        )
    add_sampling_options(p, class_required=False)
    add_edit_options(p)
    p.set_defaults(func=lazy("commands", "cmd_outpaint"))

    p = sub.add_parser("edit", help="box + class edit (official MaskGIT recipe)")
    p.add_argument("image")
    p.add_argument("--box", required=True, metavar="X,Y,W,H", help="box in pixels")
    add_sampling_options(p, class_required=True)
    add_edit_options(p)
    p.set_defaults(func=lazy("commands", "cmd_edit"))

    p = sub.add_parser("info", help="what a model is: grid, classes, size, training, metrics")
    add_model_options(p)
    p.add_argument("--classes", action="store_true", help="list every class with its id")
    p.add_argument("--json", action="store_true", help="everything, as JSON (full metadata)")
    p.set_defaults(func=lazy("info", "cmd_info"))

    import_cmd.register(sub)
    download_cmd.register(sub)
    return parser


__all__ = ["COMMANDS", "PROG", "OneLineParser", "build_parser", "lazy"]
