"""``maskgit-train`` (also ``python -m training``): train, export and evaluate studio models.

Sub-commands: tokenizer, decoder, pretokenize, transformer, export, all, evaluate, preview-data,
curves, set-sampler.
Every training sub-command reads a recipe (``--recipe NAME`` from training/configs/, or a .toml
path) and writes into a run folder (``--out``, default runs/RECIPE). Any recipe key can be
overridden with ``--set section.key=VALUE`` (repeatable); shortcuts: ``--steps``,
``--max-minutes`` (for the stage being run), ``--device``, ``--workers``.

Multi-GPU / multi-node: ``torchrun --nproc-per-node N -m training transformer ...``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from maskgit_studio import raise_interrupts, stop_if_interrupted
from maskgit_studio.argtypes import OneLineParser, real, whole
from maskgit_studio.safe_io import describe_write_error, is_write_error
from training.recipes import available_recipes, describe_overrides, load_recipe

log = logging.getLogger("training")

# "decoder" (sharpening the decoder, tokens unchanged) runs in `all` when decoder.steps > 0.
STAGES = ("tokenizer", "decoder", "pretokenize", "transformer", "export")
TRAINED_STAGES = ("tokenizer", "decoder", "transformer")  # the loop's stages (budgets, resume)

EPILOG = """recipe keys (override any with --set KEY=VALUE; VALUE is TOML, bare words are strings):
{keys}

examples:
  maskgit-train all --recipe default
  maskgit-train tokenizer --recipe default --set tokenizer.steps=2000 --max-minutes 30
  maskgit-train transformer --set transformer.lr=1e-3 --set transformer.model.num_layers=8
  torchrun --nproc-per-node 2 -m training transformer --recipe default
Stages resume from OUT/STAGE/state.pt after a kill; Ctrl-C / SIGTERM saves and stops.
"""


def _add_recipe_options(p: argparse.ArgumentParser, stage_shortcuts: bool = True) -> None:
    p.add_argument(
        "--recipe",
        default="default",
        help=f"recipe name ({', '.join(available_recipes()) or 'none'}) or .toml path",
    )
    p.add_argument("--out", type=Path, default=None, help="run folder (default: runs/RECIPE)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe key, e.g. transformer.steps=2000 (repeatable)",
    )
    p.add_argument("--device", default=None, help="auto, cpu, cuda, mps (recipe key: device)")
    p.add_argument(
        "--workers", type=whole(0, 256), default=None, help="data loader workers (data.workers)"
    )
    p.add_argument(
        "--threads",
        type=whole(1, 1024),
        default=None,
        help="torch CPU threads (default: torch's choice); on a shared, busy machine "
        "1 is several times faster than oversubscribed threads",
    )
    if stage_shortcuts:
        p.add_argument(
            "--steps", type=whole(0, 1 << 31), default=None, help="this stage's step budget"
        )
        p.add_argument(
            "--max-minutes",
            type=real(0.0, 1e9),
            default=None,
            help="this stage's wall-clock budget in minutes (0 = none)",
        )
    p.add_argument(
        "--restart", action="store_true", help="discard this stage's checkpoint and start over"
    )
    p.add_argument(
        "--stop-at-step",
        type=whole(0, 1 << 62),
        default=None,
        help="save and stop once this step is reached (resume later)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="maskgit-train",
        description="Train a MaskGIT studio model: tokenizer -> pretokenize -> transformer -> "
        "export (or all of them with `all`).",
        epilog=EPILOG.format(keys=describe_overrides()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "tokenizer": "train the VQ tokenizer (stage 1)",
        "decoder": "sharpen the tokenizer's decoder with a GAN loss, tokens unchanged (optional)",
        "pretokenize": "encode the dataset to token arrays with the trained tokenizer (stage 2)",
        "transformer": "train the masked-token transformer on the tokens (stage 3)",
        "export": "write the studio model bundle (.safetensors) from the trained stages",
    }
    for name, text in helps.items():
        p = sub.add_parser(
            name,
            help=text,
            description=text,
            epilog=EPILOG.format(keys=describe_overrides()),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_recipe_options(p, stage_shortcuts=name in TRAINED_STAGES)
        if name == "export":
            p.add_argument(
                "--output",
                type=Path,
                default=None,
                help="bundle path (default: OUT/model.safetensors)",
            )
            p.add_argument(
                "--from-checkpoint",
                action="store_true",
                help="take the transformer from its latest checkpoint (a look at a stage still "
                "running or stopped early; the final weights are written only at its end)",
            )
            p.add_argument(
                "--plain-decoder",
                action="store_true",
                help="export the tokenizer's own decoder even when the decoder stage has "
                "sharpened it (to compare the two)",
            )
    p = sub.add_parser(
        "all",
        help="run every stage in order, skipping finished ones",
        description="Run tokenizer, pretokenize, transformer and export; "
        "finished stages are skipped, unfinished ones resume.",
    )
    _add_recipe_options(p, stage_shortcuts=False)
    p.add_argument("--output", type=Path, default=None, help="bundle path for the export")

    p = sub.add_parser("preview-data", help="write a contact sheet of dataset images")
    p.add_argument("--data", default="procedural", help="procedural, procedural:SEED or a folder")
    p.add_argument("--out", type=Path, default=Path("data-preview.png"), help="output image")
    p.add_argument("--count", type=whole(1, 100_000), default=48, help="number of images")
    p.add_argument("--seed", type=whole(0, 2**63 - 1), default=0)
    p.add_argument("--image-size", type=whole(8, 4096), default=128)

    p = sub.add_parser("curves", help="draw a run's training curves (PNG)")
    p.add_argument("--run", type=Path, required=True, help="run folder (e.g. runs/default)")
    p.add_argument("--out", type=Path, default=None, help="image (default RUN/curves.png)")
    p.add_argument(
        "--batch-size",
        type=whole(1, 1_000_000),
        default=None,
        help="transformer batch size (default: from its checkpoint; else steps on the x axis)",
    )

    from training.set_sampler import add_parser as add_set_sampler_parser

    add_set_sampler_parser(sub)

    try:
        from training.evaluate import add_parser as add_evaluate_parser
    except ImportError:
        add_evaluate_parser = None
    if add_evaluate_parser is not None:
        add_evaluate_parser(sub)
    return parser


def recipe_from_args(args: argparse.Namespace, stage: str | None = None) -> dict:
    """The recipe with --set overrides and the shortcut flags applied (shortcuts win)."""
    overrides = list(args.overrides)
    if args.device is not None:
        overrides.append(f'device="{args.device}"')
    if args.workers is not None:
        overrides.append(f"data.workers={args.workers}")
    if stage is not None and getattr(args, "steps", None) is not None:
        overrides.append(f"{stage}.steps={args.steps}")
    if stage is not None and getattr(args, "max_minutes", None) is not None:
        overrides.append(f"{stage}.max_minutes={args.max_minutes}")
    return load_recipe(args.recipe, overrides)


def out_dir_for(args: argparse.Namespace, recipe: dict) -> Path:
    return args.out if args.out is not None else Path("runs") / recipe["name"]


def run_stage(stage: str, recipe: dict, out: Path, args: argparse.Namespace) -> dict:
    """Run one stage in this process (joins torchrun's process group when launched by it)."""
    from training import distributed as D

    # The stages' modules load under the start-up Ctrl-C handler; the stage itself runs with
    # KeyboardInterrupt (and installs its own save-and-stop handler).
    for module in (
        "export",
        "pretokenize",
        "train_tokenizer",
        "train_decoder",
        "train_transformer",
    ):
        importlib.import_module(f"training.{module}")
    raise_interrupts()
    ctx = D.init_distributed(recipe["device"])
    kwargs = {"restart": args.restart}
    if stage in TRAINED_STAGES:
        kwargs["stop_at_step"] = args.stop_at_step
    try:
        if stage == "tokenizer":
            from training.train_tokenizer import train_tokenizer

            return train_tokenizer(recipe, out, ctx, **kwargs)
        if stage == "decoder":
            from training.train_decoder import train_decoder

            return train_decoder(recipe, out, ctx, **kwargs)
        if stage == "pretokenize":
            from training.pretokenize import pretokenize

            return pretokenize(recipe, out, ctx, **kwargs)
        if stage == "transformer":
            from training.train_transformer import train_transformer

            return train_transformer(recipe, out, ctx, **kwargs)
        if stage == "export":
            from training.export import bundle_path, export_bundle

            if ctx.is_main:
                path = bundle_path(recipe, out, getattr(args, "output", None))
                trained = out / "transformer" / "transformer.safetensors"
                fresh = path.is_file() and trained.is_file()
                if (
                    args.command == "all"
                    and fresh
                    and path.stat().st_mtime >= trained.stat().st_mtime
                ):
                    log.info("export up to date (%s); skipping", path)
                    return {"stage": "export", "complete": True, "path": str(path)}
                path = export_bundle(
                    recipe,
                    out,
                    getattr(args, "output", None),
                    getattr(args, "from_checkpoint", False),
                    getattr(args, "plain_decoder", False),
                )
                return {"stage": "export", "complete": True, "path": str(path)}
            return {"stage": "export", "complete": True}
    finally:
        if stage == "export":
            D.barrier(ctx)
    raise ValueError(f"unknown stage {stage!r}")


def run_all(recipe: dict, out: Path, args: argparse.Namespace) -> int:
    """Each stage in order; stop (exit 3) when one ends unfinished (interrupted)."""
    for stage in STAGES:
        if stage == "decoder" and recipe["decoder"]["steps"] == 0:
            continue  # off in this recipe
        restart, args.restart = args.restart, False  # --restart on `all` means: from scratch
        if restart:
            import shutil

            shutil.rmtree(out, ignore_errors=True)
        status = run_stage(stage, recipe, out, args)
        if not status.get("complete"):
            print(
                f"{stage} stopped before finishing ({status.get('reason')}); "
                f"run the same command again to resume",
                file=sys.stderr,
            )
            return 3
    return 0


def _warn_if_oversubscribed() -> None:
    """Busy CPUs make multi-threaded torch crawl (threads spin waiting for each other)."""
    import os

    import torch

    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on every platform
        return
    cores = os.cpu_count() or 1
    if torch.get_num_threads() > 1 and load > cores:
        log.warning(
            "load average %.1f on %d cores: with %d torch threads training may run several "
            "times slower than with --threads 1",
            load,
            cores,
            torch.get_num_threads(),
        )


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code: 0 done, 3 stopped before the end (resume later),
    2 bad input or an unusable run folder (one line), 130 interrupted, 1 a failure.

    Ctrl-C while the modules load exits at once with 130 (the console script's start-up
    handler: a KeyboardInterrupt inside an import can leave it half done); from the first
    stage on it is a KeyboardInterrupt (the stages save at the next step on the first one).
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:  # start-up, or a second Ctrl-C while a stage saves
        print("maskgit-train: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return _run(args)
    except (ValueError, FileNotFoundError) as exc:
        stop_if_interrupted(exc)  # torch can turn Ctrl-C into its own error
        print(f"maskgit-train: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only folder: the last checkpoint is intact
        stop_if_interrupted(exc)
        message = describe_write_error(exc) if is_write_error(exc) else _one_line(exc)
        print(f"maskgit-train: error: {message}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        stop_if_interrupted(exc)
        text = str(exc)
        if "PytorchStreamWriter" in text or is_write_error(exc):  # torch.save on a full disk
            print(f"maskgit-train: error: {describe_write_error(exc)}", file=sys.stderr)
            return 2
        if "Error(s) in loading state_dict" in text:
            print(
                "maskgit-train: error: a checkpoint does not fit this recipe's model "
                f"({_one_line(exc)[:200]}); rerun with --restart to start that stage over",
                file=sys.stderr,
            )
            return 2
        raise


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())


def _run(args: argparse.Namespace) -> int:
    if args.command == "preview-data":
        from training.contact_sheet import preview_data

        raise_interrupts()
        path = preview_data(
            args.out,
            dataset=args.data,
            count=args.count,
            seed=args.seed,
            image_size=args.image_size,
        )
        print(path)
        return 0
    if args.command == "curves":
        from training.curves import render_curves

        raise_interrupts()
        print(render_curves(args.run, args.out or args.run / "curves.png", args.batch_size))
        return 0
    if args.command == "set-sampler":
        raise_interrupts()
        return int(args.func(args))
    if args.command == "evaluate":
        from training.evaluate import run_evaluate

        raise_interrupts()
        return int(run_evaluate(args) or 0)
    stage = args.command if args.command in TRAINED_STAGES else None
    recipe = recipe_from_args(args, stage)
    # Everything that can be known before the first stage runs is checked now.
    from training.recipe_check import check_out_dir, check_recipe, check_resume

    check_recipe(recipe)
    out = out_dir_for(args, recipe)
    stages = STAGES if args.command == "all" else (args.command,)
    check_out_dir(out, recipe, stages)
    if not args.restart:
        check_resume(recipe, out, stages)
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    elif args.command in (*TRAINED_STAGES, "pretokenize", "all"):
        _warn_if_oversubscribed()
    if args.command == "all":
        return run_all(recipe, out, args)
    status = run_stage(args.command, recipe, out, args)
    return 0 if status.get("complete") else 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
