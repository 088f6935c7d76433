"""Handlers of the image sub-commands: generate, inpaint, refine, remove, outpaint, edit.

Each handler takes the parsed args and returns an exit code. Bad input raises ``CliError``
(or a ValueError / FileNotFoundError from the engine), which ``cli.main`` turns into one line on
stderr and exit code 2. Everything is checked before the work starts: the numbers by the parser,
the output files here (format, an existing and writable folder, not a folder themselves), then
the input images, then the model. Outputs are written only after the run finished, all or
nothing (every file complete before the first rename); a full disk is one line.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from PIL import Image

from ..engine import images
from ..engine.config import SamplerConfig
from ..engine.edit_options import EditOptions
from ..engine.editing_composite import Blend
from ..engine.results import ModelInfo, RunResult, StepResult
from ..engine.session import EngineSession, Run
from ..safe_io import UnreadableFile, atomic_write_all, check_writable_folder, describe_write_error
from . import strip

MAX_BOX = 100_000  # px: no box coordinate or size is larger


class CliError(ValueError):
    """Bad command-line input; the message is shown to the user as is."""


# -- shared helpers ----------------------------------------------------------------------------
def open_session(args: argparse.Namespace) -> EngineSession:
    """The session of ``--model`` / ``--device`` / ``--threads``, its model already loaded (so a
    bad model fails before any work)."""
    session = EngineSession(args.model, device=args.device, threads=getattr(args, "threads", None))
    session.info  # noqa: B018 - load now
    return session


def sampler_from_args(args: argparse.Namespace, base: SamplerConfig) -> SamplerConfig:
    """The model's recommended settings (``base``) with every option the user gave on top."""
    given = {
        "steps": args.steps,
        "schedule": args.schedule,
        "choice_temperature": args.temperature,
        "sample_temperature": args.sample_temperature,
        "guidance_scale": args.guidance,
        "policy": args.policy,
        "seed": args.seed,
    }
    return base.replace(**{k: v for k, v in given.items() if v is not None})


def edit_options_from_args(args: argparse.Namespace) -> EditOptions:
    """--context, --blend, --no-colour-match, --no-detail-match and --snap-to-cells."""
    blend = Blend(args.blend, not args.no_colour_match, not args.no_detail_match)
    return EditOptions(context=args.context, blend=blend, pixel_mask=not args.snap_to_cells)


def resolve_class(info: ModelInfo, value: str | None) -> int | None:
    """A class id from an id or a name (case-insensitive; any comma-separated alias; else a
    unique substring). None stays None (the null class)."""
    if value is None:
        return None
    names = info.class_names
    text = value.strip()
    if text.lstrip("-").isdigit():
        class_id = int(text)
        if not 0 <= class_id < len(names):
            raise CliError(f"class id {class_id} is out of range 0..{len(names) - 1}")
        return class_id
    wanted = text.lower()
    for i, name in enumerate(names):
        if wanted == name.lower() or wanted in (a.strip().lower() for a in name.split(",")):
            return i
    hits = [i for i, name in enumerate(names) if wanted in name.lower()]
    if len(hits) == 1:
        return hits[0]
    if hits:
        shown = ", ".join(f"{i}={names[i]!r}" for i in hits[:5])
        raise CliError(f"class {value!r} is ambiguous: {shown}{' ...' if len(hits) > 5 else ''}")
    raise CliError(f"unknown class {value!r} (see `maskgit-studio info --classes`)")


def require_class_if_needed(info: ModelInfo, class_id: int | None, command: str) -> None:
    if class_id is None and not info.supports_guidance:
        raise CliError(
            f"{command}: --class is required for this model (it has no unconditional class); "
            "give a name or id (see `maskgit-studio info --classes`)"
        )


def output_paths(out: str, variations: int) -> list[Path]:
    """OUT for one result; OUT-1, OUT-2, ... (before the suffix) for several."""
    path = Path(out)
    check_writable(path)
    if variations == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{i}{path.suffix}") for i in range(1, variations + 1)]


def check_writable(path: Path) -> None:
    """Fail before any work if an output cannot be written (unknown format, missing or
    unwritable folder, a folder in the file's place)."""
    if Image.registered_extensions().get(path.suffix.lower()) is None:
        raise CliError(f"cannot tell the image format of {str(path)!r}; use .png, .jpg, .webp ...")
    try:
        check_writable_folder(path)
    except UnreadableFile as exc:
        raise CliError(str(exc)) from None


def run_with_progress(run: Run, keep_steps: bool) -> tuple[RunResult, list[StepResult]]:
    """Consume a run, drawing progress on an interactive stderr; keep the steps if asked."""
    kept: list[StepResult] = []
    show = sys.stderr.isatty()
    for i, step in enumerate(run, start=1):
        if keep_steps:
            kept.append(step)
        if show:
            print(f"\rstep {i}/{run.total_steps}", end="", file=sys.stderr, flush=True)
    if show:
        print(file=sys.stderr)
    assert run.result is not None
    return run.result, kept


def write_outputs(args: argparse.Namespace, result: RunResult, steps: list[StepResult]) -> int:
    """Write every output, all or nothing; a write failure is one clear CliError."""
    paths = output_paths(args.out, len(result.images))
    items = [(path, images.image_writer(path, im)) for path, im in zip(paths, result.images, strict=True)]  # fmt: skip
    if args.strip:
        items.append((Path(args.strip), images.image_writer(args.strip, strip.render_strip(steps))))
    if args.gif:
        items.append((Path(args.gif), images.frames_writer(strip.render_frames(steps))))
    try:
        atomic_write_all(items)
    except OSError as exc:
        where = paths[0].parent if len(items) > 1 else paths[0]
        raise CliError(describe_write_error(exc, where)) from None
    for path, _ in items:
        print(path)
    return 0


def check_outputs(args: argparse.Namespace) -> None:
    output_paths(args.out, args.variations)
    for extra in (args.strip, args.gif):
        if extra:
            check_writable(Path(extra))
    if args.gif and Path(args.gif).suffix.lower() != ".gif":
        raise CliError(f"--gif needs a .gif file name, got {args.gif!r}")


def _finish(
    args: argparse.Namespace,
    run: Run,
    session: EngineSession | None = None,
    class_id: int | None = None,
) -> int:
    want_steps = bool(args.strip or args.gif)
    result, steps = run_with_progress(run, want_steps)
    if session is not None and getattr(args, "detail", None):
        result = detail_pass(args, session, result, class_id)
    return write_outputs(args, result, steps)


def detail_pass(
    args: argparse.Namespace, session: EngineSession, result: RunResult, class_id: int | None
) -> RunResult:
    """``--detail``: each output's changed region redrawn in part at the finest scale. An edit
    that ran at scale 1, or a region too large for the pass, keeps its result (with a note)."""
    scale = int(result.request.get("scale", 1))
    if scale <= 1:
        print("note: the edit ran at full resolution (scale 1); no detail pass", file=sys.stderr)
        return result
    sampler = sampler_from_args(args, session.recommended_sampler())
    outputs, changed = [], result.changed.copy()
    for image in result.images:
        try:
            run = session.add_detail(
                image, result.changed, scale, args.detail, class_id, sampler, previews=False,
                options=edit_options_from_args(args),
            )  # fmt: skip
        except ValueError as exc:
            print(f"note: no detail pass: {exc}", file=sys.stderr)
            return result
        detail, _ = run_with_progress(run, False)
        outputs.append(detail.images[0])
        changed |= detail.changed
    request = result.request | {
        "detail": {"strength": args.detail, "scale": detail.request["scale"]}
    }
    return replace(result, images=outputs, changed=changed, request=request)


# -- handlers ----------------------------------------------------------------------------------
def cmd_generate(args: argparse.Namespace) -> int:
    check_outputs(args)
    session = open_session(args)
    class_id = resolve_class(session.info, args.class_)
    sampler = sampler_from_args(args, session.recommended_sampler())
    previews = bool(args.strip or args.gif)
    return _finish(args, session.generate(class_id, sampler, args.variations, previews))


def cmd_inpaint(args: argparse.Namespace) -> int:
    check_outputs(args)
    image = images.load_image(args.image)
    mask = images.load_mask(args.mask, image.shape[:2])
    if not mask.any():
        raise CliError(f"the mask {args.mask} selects nothing (white = regenerate)")
    session = open_session(args)
    class_id = resolve_class(session.info, args.class_)
    require_class_if_needed(session.info, class_id, "inpaint")
    run = session.inpaint(
        image, mask, class_id, sampler_from_args(args, session.recommended_sampler()), args.variations,
        bool(args.strip or args.gif), args.scale, args.feather, edit_options_from_args(args),
    )  # fmt: skip
    return _finish(args, run, session, class_id)


def _load_masked(args: argparse.Namespace, what: str):
    image = images.load_image(args.image)
    mask = images.load_mask(args.mask, image.shape[:2])
    if not mask.any():
        raise CliError(f"the mask {args.mask} selects nothing (white = {what})")
    return image, mask


def cmd_refine(args: argparse.Namespace) -> int:
    check_outputs(args)
    image, mask = _load_masked(args, "refine")
    session = open_session(args)
    class_id = resolve_class(session.info, args.class_)
    require_class_if_needed(session.info, class_id, "refine")
    run = session.refine(
        image, mask, args.strength, args.order, class_id,
        sampler_from_args(args, session.recommended_sampler()), args.variations,
        bool(args.strip or args.gif), args.scale, args.feather, edit_options_from_args(args),
    )  # fmt: skip
    return _finish(args, run, session, class_id)


def cmd_remove(args: argparse.Namespace) -> int:
    check_outputs(args)
    if args.class_ is not None:
        raise CliError("remove: fills from the model's unconditional class; drop --class")
    image, mask = _load_masked(args, "the object")
    session = open_session(args)
    if not session.info.supports_guidance:
        raise CliError("remove: this model has no unconditional (null) class, so it cannot remove")
    run = session.remove_object(
        image, mask, sampler_from_args(args, session.recommended_sampler()), args.variations,
        bool(args.strip or args.gif), args.scale, args.feather, edit_options_from_args(args),
    )  # fmt: skip
    return _finish(args, run, session, None)


def cmd_outpaint(args: argparse.Namespace) -> int:
    check_outputs(args)
    if not any((args.left, args.right, args.top, args.bottom)):
        raise CliError("outpaint: give at least one of --left/--right/--top/--bottom (px > 0)")
    image = images.load_image(args.image)
    grown = (image.shape[0] + args.top + args.bottom) * (image.shape[1] + args.left + args.right)
    if grown > images.MAX_PIXELS:
        raise CliError(
            f"outpaint: the grown canvas would be {grown / 1e6:.0f} MP; the limit is "
            f"{images.MAX_PIXELS / 1e6:.0f} MP"
        )
    session = open_session(args)
    class_id = resolve_class(session.info, args.class_)
    require_class_if_needed(session.info, class_id, "outpaint")
    run = session.outpaint(
        image, args.left, args.top, args.right, args.bottom, class_id, sampler_from_args(args, session.recommended_sampler()),
        args.variations, bool(args.strip or args.gif), args.scale, args.feather,
        edit_options_from_args(args),
    )  # fmt: skip
    return _finish(args, run, session, class_id)


def cmd_edit(args: argparse.Namespace) -> int:
    check_outputs(args)
    box = parse_box(args.box)
    image = images.load_image(args.image)
    session = open_session(args)
    class_id = resolve_class(session.info, args.class_)
    run = session.edit_box(
        image, box, class_id, sampler_from_args(args, session.recommended_sampler()), args.variations,
        bool(args.strip or args.gif), args.scale, args.feather, edit_options_from_args(args),
    )  # fmt: skip
    return _finish(args, run, session, class_id)


def parse_box(text: str) -> tuple[int, int, int, int]:
    parts = text.replace(" ", "").split(",")
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise CliError(f"--box must be X,Y,W,H in whole pixels, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise CliError(f"--box width and height must be > 0, got {w}x{h}")
    if max(abs(x), abs(y), w, h) > MAX_BOX:
        raise CliError(f"--box {text!r} is beyond {MAX_BOX} px")
    return x, y, w, h


__all__ = [
    "CliError",
    "cmd_edit",
    "cmd_generate",
    "cmd_inpaint",
    "cmd_outpaint",
    "parse_box",
    "resolve_class",
]
