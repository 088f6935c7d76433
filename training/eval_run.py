"""The measurements behind ``maskgit-train evaluate``, as a library call.

``evaluate(bundle, spec, options, cache_dir)`` returns a JSON-ready dict; ``training.evaluate``
is the command-line face that writes it out. See that module's docstring for what is measured.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from maskgit_studio.engine.checkpoint import ModelBundle
from maskgit_studio.engine.config import SamplerConfig, config_to_dict
from maskgit_studio.engine.device import transformer_precision
from training import metrics
from training.eval_data import (
    dataset_identity,
    held_out_sets,
    judge_class_names,
    judge_training_set,
)
from training.eval_generate import (
    blank_centre_box,
    centre_box_cells,
    generate_class_conditional,
    inpaint_centre_box,
    reconstruct,
)
from training.eval_scores import feature_scores, public
from training.eval_sweeps import SweepInputs, run_ablation, run_sampler_sweep
from training.eval_targets import check_targets
from training.judge import Judge, JudgeSettings, cache_key, load_judge, save_judge, train_judge

log = logging.getLogger(__name__)


@dataclass
class EvalOptions:
    """What ``evaluate`` does; the CLI flags map onto these fields."""

    samples: int = 240
    inpaint_samples: int = 120
    scene_test: int = 240
    ablation: bool = True
    ablation_steps: tuple[int, ...] = (4, 8, 12, 16)
    ablation_samples: int = 60
    sweep_guidance: tuple[float, ...] = ()
    sweep_choice_temperatures: tuple[float, ...] = ()
    sweep_samples: int = 60
    seed: int = 0
    batch_size: int = 50
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    inpaint_start_iter: int = 2
    judge: JudgeSettings = field(default_factory=JudgeSettings)
    judge_cache: Path | None = None
    retrain_judge: bool = False

    @property
    def sweep(self) -> bool:
        """Whether the sampler sweep runs (any guidance or choice temperature to try)."""
        return bool(self.sweep_guidance or self.sweep_choice_temperatures)

    def __post_init__(self) -> None:
        if self.samples < 2:
            raise ValueError(f"--samples must be >= 2 (FD needs two samples), got {self.samples}")
        if self.inpaint_samples < 2:
            raise ValueError(f"--inpaint-samples must be >= 2, got {self.inpaint_samples}")
        if self.scene_test < 0:
            raise ValueError(f"--scene-test must be >= 0, got {self.scene_test}")
        if self.ablation and self.ablation_samples < 2:
            raise ValueError(f"--ablation-samples must be >= 2, got {self.ablation_samples}")
        if self.ablation and (not self.ablation_steps or min(self.ablation_steps) < 1):
            raise ValueError(f"ablation steps must be >= 1, got {self.ablation_steps}")
        if self.sweep and self.sweep_samples < 2:
            raise ValueError(f"--sweep-samples must be >= 2, got {self.sweep_samples}")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1, got {self.batch_size}")
        if not 0 <= self.inpaint_start_iter < self.sampler.steps:
            raise ValueError(
                f"--inpaint-start-iter must be in [0, {self.sampler.steps - 1}], "
                f"got {self.inpaint_start_iter}"
            )


def _slug(text: str) -> str:
    name = Path(text).name if not text.startswith("procedural") else text
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "data"


def get_judge(
    spec: str,
    image_size: int,
    settings: JudgeSettings,
    cache_dir: Path,
    device: torch.device,
    retrain: bool = False,
) -> tuple[Judge, Path, bool]:
    """The cached judge for (data spec, image size, settings), training it if needed.

    Returns:
        (judge, cache path, True if it came from the cache).
    """
    identity = dataset_identity(spec, image_size)
    recipe = dataclasses.asdict(settings)
    recipe.pop("heldout_images")  # only what shapes the judge's weights goes into the key
    description = {**identity, **recipe}
    key = cache_key(description)
    path = cache_dir / f"judge-{_slug(spec)}-{image_size}px-{key}.safetensors"
    if path.is_file() and not retrain:
        try:
            judge = load_judge(path, device)
            log.info("judge loaded from %s", path)
            return judge, path, True
        except ValueError as exc:
            log.warning("%s; training a new judge", exc)
    class_names = judge_class_names(spec, image_size)
    start = time.perf_counter()
    train = judge_training_set(
        spec, image_size, settings.train_images, settings.independent_share, settings.empty_share
    )
    load_seconds = time.perf_counter() - start
    log.info("training the judge on %d images (%d epochs)", len(train), settings.epochs)
    judge = train_judge(train.images, train.labels, class_names, settings, device)
    judge.info |= {
        "data": description,
        "train_images": len(train),
        "load_seconds": round(load_seconds, 1),
    }
    save_judge(path, judge)
    log.info("judge saved to %s", path)
    return judge, path, False


def _class_mapping(model_names: list[str], data_names: list[str]) -> torch.Tensor:
    """(K_model,) judge (data) class index of each model class, matched by name."""
    missing = [n for n in model_names if n not in data_names]
    if missing:
        raise ValueError(
            f"the model's classes {missing[:5]} are not in the dataset's classes "
            f"({', '.join(data_names[:12])}); pass the --data the model was trained on"
        )
    return torch.tensor([data_names.index(n) for n in model_names], dtype=torch.long)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def evaluate(bundle: ModelBundle, spec: str, options: EvalOptions, cache_dir: Path) -> dict:
    """Run every measurement on a loaded model and return the JSON-ready result dict."""
    start, cpu_start = time.perf_counter(), time.process_time()
    device = next(bundle.transformer.parameters()).device
    size = bundle.image_size
    factor = bundle.tokenizer_config.downsample_factor
    # Wall and process-CPU seconds per phase (CPU time tells a busy machine from slow code).
    timings: dict[str, dict[str, float]] = {}
    clock = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        wall, cpu = time.perf_counter() - clock[0], time.process_time() - clock[1]
        timings[name] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
        log.info("%s: %.1f s (%.1f s CPU)", name, wall, cpu)
        clock[:] = [time.perf_counter(), time.process_time()]

    judge, judge_path, cached = get_judge(
        spec, size, options.judge, cache_dir, device, options.retrain_judge
    )
    to_judge = _class_mapping(bundle.class_names, judge.class_names)
    lap("judge")

    held = held_out_sets(
        spec, size, options.judge.heldout_images, options.samples, options.scene_test
    )
    # Only classes the model knows can be asked for; map judge labels back to model labels.
    to_model = torch.full((len(judge.class_names),), -1, dtype=torch.long)
    to_model[to_judge] = torch.arange(len(to_judge))
    reference = held.reference.subset(to_model[held.reference.labels] >= 0)
    if len(reference) < 2:
        raise ValueError("fewer than 2 held-out images of the model's classes")
    lap("real images")

    test = held.judge_test
    recon, ids = reconstruct(bundle, test.images, options.batch_size)
    originals = test.floats()
    usage = metrics.codebook_usage(ids, bundle.tokenizer_config.codebook_size)
    tokenizer = {
        "images": len(test),
        "psnr": float(metrics.psnr(recon, originals).mean()),
        "ssim": float(metrics.ssim(recon, originals).mean()),
        "codebook_usage": usage["usage"],
        "codebook_perplexity": usage["perplexity"],
        "used_codes": int(usage["used_codes"]),
        "edge_energy": metrics.edge_energy_ratio(recon, originals),
        "edge_energy_squared": metrics.edge_energy_ratio(recon, originals, squared=True),
        "boundary_ratio": metrics.token_boundary_ratio(recon, factor),
        "boundary_ratio_real": metrics.token_boundary_ratio(originals, factor),
        "periodic_energy": metrics.periodic_energy_ratio(recon, originals, factor),
        "token_pixels": factor,
    }
    judge_part: dict[str, Any] = {
        "path": str(judge_path),
        "cached": cached,
        "classes": judge.class_names,
        "heldout_images": len(test),
        "accuracy_real": judge.accuracy(originals, test.labels),
        "accuracy_reconstructions": judge.accuracy(recon, test.labels),
        "train_images": judge.info.get("train_images"),
        "train_seconds": judge.info.get("train_seconds"),
        "feature_dim": judge.net.feature_dim,
    }
    empty_class = judge.no_object_index
    if empty_class is not None:
        judge_part["no_object_share_real"] = float(
            (judge.predict(originals) == empty_class).double().mean()
        )
    if held.independent is not None:
        judge_part["independent_images"] = len(held.independent)
        judge_part["accuracy_independent"] = judge.accuracy(
            held.independent.floats(), held.independent.labels
        )
    if held.empty is not None:
        judge_part["no_object_images"] = len(held.empty)
        judge_part["accuracy_no_object"] = judge.accuracy(held.empty.floats(), held.empty.labels)
    if judge_part["accuracy_real"] < 0.95:
        log.warning(
            "the judge scores only %.1f%% on real held-out images (< 95%%): its verdicts on "
            "generated images are not trustworthy; retrain it with more --judge-images/epochs",
            100 * judge_part["accuracy_real"],
        )
    lap("tokenizer")

    _, ref_feats = judge.logits_and_features(reference.floats())
    result: dict[str, Any] = {
        "model": _model_info(bundle),
        "data": spec,
        "seed": options.seed,
        "sampler": config_to_dict(options.sampler),
        "precision": transformer_precision(device, bundle.transformer).label,
        "judge": judge_part,
        "tokenizer": tokenizer,
        "reference": {"samples": len(reference)},
    }
    if held.floor is not None and len(held.floor) >= 2:
        floor = held.floor.subset(to_model[held.floor.labels] >= 0)
        _, floor_feats = judge.logits_and_features(floor.floats())
        result["reference"]["fd_real_vs_real"] = metrics.frechet_distance(floor_feats, ref_feats)
        result["reference"]["kid_real_vs_real"] = metrics.kernel_inception_distance(
            floor_feats, ref_feats, subset_size=min(100, len(floor_feats), len(ref_feats))
        )[0]
        # Reconstructions of a second real set, as many as the samples: FD(samples)'s yardstick.
        recon_source, paired = floor, False
    else:  # an image folder: reconstruct the reference itself (paired, so a lower FD)
        recon_source, paired = reference, True
    recon_ref, _ = reconstruct(bundle, recon_source.images, options.batch_size)
    recon_scores = feature_scores(judge, recon_ref, recon_source.labels, ref_feats)
    result["reconstructions"] = public(recon_scores) | {"of_reference_images": paired}
    lap("reconstructions")

    model_labels = to_model[reference.labels]
    samples = generate_class_conditional(
        bundle, model_labels, options.sampler, options.seed, options.batch_size
    )
    cond = feature_scores(judge, samples, reference.labels, ref_feats)
    cond["per_class_accuracy"] = {
        name: float(cond["_correct"][model_labels == k].double().mean())
        for k, name in enumerate(bundle.class_names)
        if bool((model_labels == k).any())
    }
    if empty_class is not None:
        judged_empty = cond["_predicted"] == empty_class
        cond["per_class_no_object"] = {
            name: float(judged_empty[model_labels == k].double().mean())
            for k, name in enumerate(bundle.class_names)
            if bool((model_labels == k).any())
        }
    cond["fd_ratio"] = _ratio(cond["fd"], result["reconstructions"]["fd"])
    cond["edge_energy"] = metrics.edge_energy_ratio(samples, reference.floats())
    cond["boundary_ratio"] = metrics.token_boundary_ratio(samples, factor)
    cond["periodic_energy"] = metrics.periodic_energy_ratio(samples, reference.floats(), factor)
    result["class_conditional"] = public(cond)
    lap("class-conditional")

    # The first inpaint_samples reference images (class-balanced blocks), boxes regenerated.
    masked = reference.subset(torch.arange(min(options.inpaint_samples, len(reference))))
    inpaint_sampler = options.sampler.replace(start_iter=options.inpaint_start_iter)
    inpainted = inpaint_centre_box(
        bundle,
        masked.images,
        to_model[masked.labels],
        inpaint_sampler,
        options.seed + 1,
        options.batch_size,
    )
    inpaint = public(feature_scores(judge, inpainted, masked.labels, ref_feats))
    blanked = blank_centre_box(bundle, masked.images)
    context_only = judge.logits_and_features(blanked)[0].argmax(dim=1)
    grid = bundle.transformer_config.grid_size
    cells = int(centre_box_cells(grid, factor).sum())
    box_side = round(cells**0.5)
    inpaint |= {
        "judge_accuracy_context_only": float((context_only == masked.labels).double().mean()),
        "context_only_no_object_share": None
        if empty_class is None
        else float((context_only == empty_class).double().mean()),
        "box": f"centre {box_side}x{box_side} of {grid}x{grid} tokens (half width x half height)",
        "box_tokens": cells,
        "steps": inpaint_sampler.steps,
        "start_iter": inpaint_sampler.start_iter,
    }
    result["inpainting"] = inpaint
    lap("inpainting")

    def sweep_inputs(count: int) -> SweepInputs:
        # The reference's labels (class-balanced blocks), repeated when more samples are asked.
        labels = reference.labels.repeat(-(-count // len(reference)))[:count]
        return SweepInputs(
            bundle, judge, labels, to_model, ref_feats, options.seed, options.batch_size
        )

    if options.ablation:
        inputs = sweep_inputs(options.ablation_samples)
        result["ablation"] = run_ablation(inputs, options.sampler, options.ablation_steps)
        lap("ablation")
    if options.sweep:
        result["sampler_sweep"] = run_sampler_sweep(
            sweep_inputs(options.sweep_samples),
            options.sampler,
            options.sweep_guidance,
            options.sweep_choice_temperatures,
        )
        lap("sampler sweep")

    result["targets"] = check_targets(result)
    result["timings"] = timings
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["cpu_seconds"] = round(time.process_time() - cpu_start, 1)
    return result


def _model_info(bundle: ModelBundle) -> dict:
    return {
        "name": bundle.path.name if bundle.path else "model",
        "path": str(bundle.path) if bundle.path else None,
        "image_size": bundle.image_size,
        "grid_size": bundle.transformer_config.grid_size,
        "codebook_size": bundle.tokenizer_config.codebook_size,
        "class_names": list(bundle.class_names),
        "parameters": bundle.parameter_count(),
        "has_null_class": bundle.transformer_config.has_null_class,
    }


__all__ = ["EvalOptions", "evaluate", "get_judge"]
