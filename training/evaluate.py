"""``maskgit-train evaluate``: measure a studio model against its data (JSON + markdown report).

What it measures (issues 3 and 9):
- tokenizer: PSNR / SSIM of reconstructions of held-out real images, codebook usage, edge energy
  of the reconstructions relative to the originals, and the token-boundary gradient ratio
  (gradients across token borders over those inside tokens) of reconstructions and originals;
- the judge (``training.judge``, trained once per dataset and cached; on procedural data also
  on independent-ground and no-object scenes): accuracy on real held-out images (must be >= 95%
  for its verdicts to mean anything), on real independent-ground scenes (it must see the object,
  not the ground), on no-object scenes, and on the tokenizer's reconstructions (the ceiling for
  any generator behind this tokenizer);
- class-conditional generation: judge accuracy against the requested class (overall, per class,
  and the share judged "no object"), the Frechet distance and KID to real held-out images in the
  judge's feature space, FD(samples) / FD(reconstructions), and the samples' sharpness and
  blockiness;
- centre-box inpainting (the centred half-width, half-height box: the middle half of the token
  grid's side; MaskGIT's Places2 protocol shape), decoded from start_iter 2 of 12 like the
  studio: judge accuracy with the true class, FD and KID, and the context-only floor;
- with ``--ablation on``, a schedule ablation in the shape of MaskGIT Table 3: FD and judge
  accuracy for every schedule and T, the best T per schedule, and the rank correlation with the
  paper's ordering;
- with ``--sweep-guidance`` / ``--sweep-choice-temperature``, a sampler sweep: judge accuracy,
  'no object' share and FD per (guidance, choice temperature) on seeds the main report does
  not use, naming the most accurate setting and the ``export --set`` flags that store it.

Cost: generation dominates (on the 16x16-token default model ~1.3 s of one CPU thread per
guided 12-step sample), so the defaults (240 class samples, 120 inpaintings) take about 8
minutes of one thread, plus about 1.5 minutes the first time to train the judge (cached in
``--judge-cache``); ``--scale 0.5`` halves every count. The report's timings give wall and CPU
seconds per phase. The check_targets rows of ``training.eval_report`` are the issue-9 targets.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
from pathlib import Path
from typing import Any

import torch

from maskgit_studio.engine.checkpoint import ModelBundle, load_bundle
from maskgit_studio.engine.config import SCHEDULES, SamplerConfig
from maskgit_studio.engine.device import pick_device
from maskgit_studio.engine.model_store import resolve_model
from training.eval_report import render_markdown, target_line
from training.eval_run import EvalOptions, evaluate
from training.judge import JudgeSettings

log = logging.getLogger(__name__)


def default_data_spec(bundle: ModelBundle) -> str:
    """The data spec recorded in the model's provenance, else "procedural"."""
    data = bundle.provenance.get("data")
    if isinstance(data, str) and data:
        return data
    if isinstance(data, dict):
        for key in ("spec", "source"):
            if isinstance(data.get(key), str) and data[key]:
                return data[key]
    return "procedural"


def _finite(value: Any) -> Any:
    """The result with non-finite floats (e.g. PSNR of a perfect copy) as null: strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_report(result: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write OUT/evaluate.json and OUT/evaluate.md; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "evaluate.json", out_dir / "evaluate.md"
    text = json.dumps(_finite(result), indent=2, allow_nan=False)
    json_path.write_text(text + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(result), encoding="utf-8")
    return json_path, md_path


def _number_list(kind: type, name: str, ok, bounds: str):
    """An argparse type: comma-separated ``kind`` values, each passing ``ok``."""

    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {name}, got {text!r}"
            ) from None
        if not values or not all(ok(v) for v in values):
            raise argparse.ArgumentTypeError(f"expected {name} {bounds}, got {text!r}")
        return values

    return parse


_int_list = _number_list(int, "integers", lambda v: v >= 1, ">= 1")
_float_list = _number_list(
    float, "numbers", lambda v: math.isfinite(v) and 0 <= v <= 100, "in [0, 100]"
)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``evaluate`` sub-command (``set_defaults(func=run_evaluate)``)."""
    text = "measure a model: tokenizer, judge, generation, inpainting, schedule ablation"
    p = subparsers.add_parser(
        "evaluate", help=text, description=text + " (writes OUT/evaluate.json and OUT/evaluate.md)"
    )
    p.add_argument("--model", default="default", help="model file or name (default: bundled)")
    p.add_argument(
        "--data",
        default=None,
        help="procedural, procedural:SEED or a folder (default: the model's data)",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=EvalOptions.samples,
        help=f"generated / inpainted images and real reference images (default "
        f"{EvalOptions.samples}; a multiple of the class count keeps classes balanced)",
    )
    p.add_argument(
        "--inpaint-samples",
        type=int,
        default=EvalOptions.inpaint_samples,
        help=f"centre-box inpaintings, of the first reference images (default "
        f"{EvalOptions.inpaint_samples})",
    )
    p.add_argument(
        "--scene-test",
        type=int,
        default=EvalOptions.scene_test,
        help=f"held-out independent-ground scenes, and half as many no-object scenes, for the "
        f"judge (procedural data; default {EvalOptions.scene_test})",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every evaluation count (--samples, --inpaint-samples, --ablation-samples, "
        "--sweep-samples, --judge-test, --scene-test; not the judge's training) by this: 0.5 for a quicker, "
        "noisier report",
    )
    p.add_argument(
        "--ablation",
        choices=("on", "off"),
        default="off",
        help="run the schedule ablation (default off: 32 generation settings, the dearest part)",
    )
    p.add_argument(
        "--ablation-steps",
        type=_int_list,
        default=(4, 8, 12, 16),
        help="T values of the ablation, comma-separated (default 4,8,12,16)",
    )
    p.add_argument(
        "--ablation-samples",
        type=int,
        default=EvalOptions.ablation_samples,
        help=f"samples per ablation setting (default {EvalOptions.ablation_samples})",
    )
    p.add_argument(
        "--sweep-guidance",
        type=_float_list,
        default=(),
        help="sampler sweep: guidance scales to try, comma-separated, e.g. 1,2,3,4 (default: "
        "no sweep); the report names the most accurate setting and the export flags storing it",
    )
    p.add_argument(
        "--sweep-choice-temperature",
        type=_float_list,
        default=(),
        help="sampler sweep: choice temperatures to try, e.g. 2,4.5",
    )
    p.add_argument(
        "--sweep-samples",
        type=int,
        default=EvalOptions.sweep_samples,
        help=f"samples per sweep setting (default {EvalOptions.sweep_samples})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/evaluate"),
        help="output folder (default runs/evaluate)",
    )
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--batch-size", type=int, default=50, help="sequences per forward pass")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for torch (default: torch's choice, the core count)",
    )
    p.add_argument("--steps", type=int, default=None, help="decoding steps T (default 12)")
    p.add_argument(
        "--schedule", default=None, choices=SCHEDULES, help="mask schedule (default cosine)"
    )
    p.add_argument("--temperature", type=float, default=None, help="sampling temperature")
    p.add_argument(
        "--choice-temperature",
        type=float,
        default=None,
        help="reveal-noise temperature (default 4.5)",
    )
    p.add_argument("--guidance", type=float, default=None, help="classifier-free guidance scale")
    p.add_argument(
        "--inpaint-start-iter",
        type=int,
        default=2,
        help="inpainting decodes from this step of T (default 2, as MaskGIT edits)",
    )
    p.add_argument(
        "--judge-cache",
        type=Path,
        default=None,
        help="folder of cached judges (default OUT/judges)",
    )
    p.add_argument(
        "--judge-images", type=int, default=JudgeSettings.train_images, help="judge training images"
    )
    p.add_argument("--judge-epochs", type=int, default=JudgeSettings.epochs)
    p.add_argument(
        "--judge-test",
        type=int,
        default=JudgeSettings.heldout_images,
        help="held-out images for the judge and tokenizer metrics",
    )
    p.add_argument("--retrain-judge", action="store_true", help="ignore a cached judge")
    p.add_argument("--strict", action="store_true", help="exit 1 when a quality target is missed")
    p.set_defaults(func=run_evaluate)
    return p


def sampler_from_args(args: argparse.Namespace, bundle: ModelBundle) -> SamplerConfig:
    """SamplerConfig(): the model's recommended settings (provenance "sampler"), then flags."""
    sampler = SamplerConfig()
    recommended = bundle.provenance.get("sampler")
    if isinstance(recommended, dict):
        names = {f.name for f in dataclasses.fields(SamplerConfig)} - {"seed", "start_iter"}
        sampler = sampler.replace(**{k: v for k, v in recommended.items() if k in names})
    flags = {
        "steps": args.steps,
        "schedule": args.schedule,
        "sample_temperature": args.temperature,
        "choice_temperature": args.choice_temperature,
        "guidance_scale": args.guidance,
    }
    sampler = sampler.replace(**{k: v for k, v in flags.items() if v is not None})
    if sampler.guidance_scale > 0 and not bundle.transformer_config.has_null_class:
        raise ValueError("this model has no null class, so --guidance must be 0")
    return sampler


def _scaled(count: int, scale: float) -> int:
    """count x scale, rounded; scaling never takes a count below 2 (FD's minimum) or itself."""
    return count if scale == 1 else max(round(count * scale), min(count, 2))


def options_from_args(args: argparse.Namespace, bundle: ModelBundle) -> EvalOptions:
    if not args.scale > 0:
        raise ValueError(f"--scale must be > 0, got {args.scale}")
    if args.judge_images < 2 or args.judge_epochs < 1 or args.judge_test < 1:
        raise ValueError("--judge-images must be >= 2, --judge-epochs and --judge-test >= 1")
    judge = JudgeSettings(
        train_images=args.judge_images,
        epochs=args.judge_epochs,
        heldout_images=_scaled(args.judge_test, args.scale),
    )
    return EvalOptions(
        samples=_scaled(args.samples, args.scale),
        inpaint_samples=_scaled(args.inpaint_samples, args.scale),
        scene_test=_scaled(args.scene_test, args.scale),
        ablation=args.ablation == "on",
        ablation_steps=tuple(args.ablation_steps),
        ablation_samples=_scaled(args.ablation_samples, args.scale),
        sweep_guidance=tuple(args.sweep_guidance),
        sweep_choice_temperatures=tuple(args.sweep_choice_temperature),
        sweep_samples=_scaled(args.sweep_samples, args.scale),
        seed=args.seed,
        batch_size=args.batch_size,
        sampler=sampler_from_args(args, bundle),
        inpaint_start_iter=args.inpaint_start_iter,
        judge=judge,
        retrain_judge=args.retrain_judge,
    )


def run_evaluate(args: argparse.Namespace) -> int:
    """The ``evaluate`` command: load, measure, write both reports, print where they are."""
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    bundle = load_bundle(resolve_model(args.model), device)
    options = options_from_args(args, bundle)
    spec = str(args.data) if args.data is not None else default_data_spec(bundle)
    cache_dir = args.judge_cache if args.judge_cache is not None else args.out / "judges"
    result = evaluate(bundle, spec, options, cache_dir)
    json_path, md_path = write_report(result, args.out)
    for row in result["targets"]:
        print(target_line(row))
    print(f"wrote {json_path} and {md_path}")
    if args.strict and any(row["met"] is False for row in result["targets"]):
        return 1
    return 0


__all__ = [
    "EvalOptions",
    "add_parser",
    "default_data_spec",
    "evaluate",
    "run_evaluate",
    "write_report",
]
