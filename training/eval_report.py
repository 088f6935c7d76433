"""The evaluation report as markdown (and the one-line target texts the CLI prints).

Pure functions over the JSON-ready result dict that ``training.evaluate`` builds, so the report
can be re-rendered from a saved evaluate.json. The targets live in ``training.eval_targets``,
the ablation summary in ``training.eval_ablation``.
"""

from __future__ import annotations

import math
from typing import Any


def target_status(row: dict) -> str:
    """ "met", "floor met", "NOT met" or "-" (not measured) for a check_targets row."""
    if row["met"] is None:
        return "-"
    if row["met"]:
        return "met"
    return "floor met" if row.get("floor_met") else "NOT met"


def target_text(row: dict) -> str:
    """The goal of a check_targets row, e.g. ">= 28.00 (floor 26.00)" or "<= 2.00"."""
    unit = row.get("unit", "%")
    text = f"{row.get('op', '>=')} {_in_unit(row['target'], unit)}"
    if row.get("floor") is not None:
        text += f" (floor {_in_unit(row['floor'], unit)})"
    return text


def target_line(row: dict) -> str:
    """A check_targets row as one line, e.g. "codebook usage: 97.1% (target >= 90.0%) met"."""
    value = _in_unit(row["value"], row.get("unit", "%"))
    return f"{row['name']}: {value} (target {target_text(row)}) {target_status(row)}"


def _fmt(value: Any, digits: int = 2, percent: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return f"{100 * value:.1f}%" if percent else f"{value:.{digits}f}"
    return str(value)


def _in_unit(value: Any, unit: str) -> str:
    """A target's value: "%" shows a fraction as a percentage, "pts" as percentage points."""
    if unit == "pts" and isinstance(value, float):
        return f"{100 * value:.1f} pts"
    return _fmt(value, percent=unit == "%")


def _num(value: Any) -> str:
    """Distances (FD, KID) span orders of magnitude: four significant digits."""
    return "-" if value is None else f"{value:.4g}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _record_table(record: dict, columns: list[tuple[str, str, Any]]) -> list[str]:
    """A one-row table of a result part.

    Args:
        record: e.g. result["tokenizer"].
        columns: (header, key, format) per column; format "%" (a percentage), a digit count,
            or None (the value as is).
    """
    cells = []
    for _, key, form in columns:
        value = record.get(key)
        if form == "%":
            cells.append(_fmt(value, percent=True))
        elif form is None:
            cells.append(_fmt(value))
        else:
            cells.append(_fmt(value, form))
    return _table([header for header, _, _ in columns], [cells])


def render_markdown(result: dict) -> str:
    """The human-readable report (evaluate.md) of an evaluate result dict."""
    model = result.get("model", {})
    lines = [
        f"# Evaluation of {model.get('name', 'model')}",
        "",
        f"Data `{result.get('data')}`, {model.get('image_size')} px, "
        f"{model.get('grid_size')}x{model.get('grid_size')} tokens, "
        f"{len(model.get('class_names', []))} classes; seed {result.get('seed')}; "
        f"sampler {_sampler_text(result.get('sampler', {}))}; "
        f"transformer {result.get('precision', 'fp32')}; "
        f"{_fmt(result.get('seconds'), 0)} s ({_fmt(result.get('cpu_seconds'), 0)} s CPU).",
        "",
        "## Targets",
        "",
    ]
    target_rows = [
        [
            row["name"],
            _in_unit(row["value"], row.get("unit", "%")),
            target_text(row),
            target_status(row),
        ]
        for row in result.get("targets", [])
    ]
    lines += _table(["metric", "value", "target", ""], target_rows)

    tok = result.get("tokenizer", {})
    lines += ["", "## Tokenizer (held-out real scenes)", ""]
    lines += _record_table(
        tok,
        [
            ("images", "images", None),
            ("PSNR (dB)", "psnr", 2),
            ("SSIM", "ssim", 3),
            ("codebook usage", "codebook_usage", "%"),
            ("perplexity", "codebook_perplexity", 1),
            ("edge energy", "edge_energy", "%"),
            ("boundary ratio", "boundary_ratio", 2),
            ("boundary ratio, originals", "boundary_ratio_real", 2),
            ("periodic energy", "periodic_energy", 2),
        ],
    )
    cond = result.get("class_conditional", {})
    lines += [
        "",
        "Edge energy: mean Sobel gradient magnitude of the reconstructions over the originals' "
        f"(mean squared gradients: {_fmt(tok.get('edge_energy_squared'), percent=True)}). "
        f"Boundary ratio: mean |gradient| across {tok.get('token_pixels', '?')}-px token borders "
        "over inside tokens (a visible token grid shows as > 1.2). Periodic energy: spectral "
        "power at the up-sampling periods (2, 4, ... px grids) over the originals' (a dot grid "
        "that a decoder paints shows as > 1.5).",
    ]
    if cond.get("edge_energy") is not None:
        lines += [
            "",
            f"Class samples: edge energy {_fmt(cond.get('edge_energy'), percent=True)} of real "
            f"scenes', boundary ratio {_fmt(cond.get('boundary_ratio'))}, periodic energy "
            f"{_fmt(cond.get('periodic_energy'))} "
            f"(tokenizer PSNR {_fmt(tok.get('psnr'))} dB).",
        ]

    judge = result.get("judge", {})
    lines += ["", "## Judge", ""]
    lines += _record_table(
        judge,
        [
            ("real held-out", "accuracy_real", "%"),
            ("real independent-ground", "accuracy_independent", "%"),
            ("real no-object", "accuracy_no_object", "%"),
            ("tokenizer reconstructions", "accuracy_reconstructions", "%"),
            ("train images", "train_images", None),
            ("train s", "train_seconds", 0),
            ("cached", "cached", None),
        ],
    )
    lines += [
        "",
        "Accuracy on reconstructions is the ceiling for any generator behind this tokenizer. "
        "Independent-ground scenes draw the ground or water as if for another class, so only the "
        "object tells the class; in no-object scenes the judge must answer 'no object' (an "
        "answer that counts as wrong for a sample).",
    ]

    lines += ["", "## Generation (judge feature space, against held-out real scenes)", ""]
    gen_rows = []
    floor = result.get("reference", {})
    if floor.get("fd_real_vs_real") is not None:
        gen_rows.append(
            [
                "real vs real (floor)",
                _fmt(floor.get("samples")),
                "-",
                "-",
                _num(floor.get("fd_real_vs_real")),
                _num(floor.get("kid_real_vs_real")),
            ]
        )
    for key, name in (
        ("reconstructions", "tokenizer reconstructions"),
        ("class_conditional", "class-conditional samples"),
        ("inpainting", "centre-box inpainting"),
    ):
        part = result.get(key)
        if part:
            gen_rows.append(
                [
                    name,
                    _fmt(part.get("samples")),
                    _fmt(part.get("judge_accuracy"), percent=True),
                    _fmt(part.get("no_object_share"), percent=True),
                    _num(part.get("fd")),
                    _num(part.get("kid")),
                ]
            )
    lines += _table(
        ["task", "images", "judge accuracy", "judged 'no object'", "FD", "KID"], gen_rows
    )
    if cond.get("fd_ratio") is not None:
        lines += ["", f"FD(samples) / FD(reconstructions): {_fmt(cond.get('fd_ratio'))}."]
    inpaint = result.get("inpainting", {})
    context = inpaint.get("judge_accuracy_context_only")
    if context is not None:
        empty = inpaint.get("context_only_no_object_share")
        judged_empty = "" if empty is None else f", judged 'no object' {_fmt(empty, percent=True)}"
        lines += [
            "",
            f"Centre-box inpainting ({inpaint.get('box', 'centre box')}), judge accuracy from the "
            f"context alone (box filled with the mean colour): {_fmt(context, percent=True)}"
            f"{judged_empty}; inpainting should beat it.",
        ]
    per_class = cond.get("per_class_accuracy") or {}
    if per_class:
        empty = cond.get("per_class_no_object") or {}
        lines += ["", "Class-conditional samples per class:", ""]
        lines += _table(
            ["class", "judge accuracy", "judged 'no object'"],
            [
                [name, _fmt(acc, percent=True), _fmt(empty.get(name), percent=True)]
                for name, acc in per_class.items()
            ],
        )

    ablation = result.get("ablation")
    if ablation:
        lines += [
            "",
            "## Schedule ablation (the shape of MaskGIT Table 3)",
            "",
            f"{ablation.get('samples')} samples per setting, T in {ablation.get('steps')}; "
            "best T per schedule by FD; paper: ImageNet 256 FID.",
            "",
        ]
        lines += _table(
            [
                "schedule",
                "best T",
                "FD",
                "judge accuracy",
                "our rank",
                "paper T",
                "paper FID",
                "paper rank",
            ],
            [
                [
                    r["schedule"],
                    _fmt(r["best_steps"]),
                    _num(r["fd"]),
                    _fmt(r["judge_accuracy"], percent=True),
                    _fmt(r["rank"], 0),
                    _fmt(r["paper_steps"]),
                    _fmt(r["paper_fid"]),
                    _fmt(r["paper_rank"], 0),
                ]
                for r in ablation.get("best", [])
            ],
        )
        lines += [
            "",
            "Spearman correlation of our ranking with the paper's (schedules in both): "
            f"{_fmt(ablation.get('rank_correlation'))}.",
            "",
            "All settings:",
            "",
        ]
        lines += _table(
            ["schedule", "T", "FD", "judge accuracy"],
            [
                [
                    r["schedule"],
                    _fmt(r["steps"]),
                    _num(r["fd"]),
                    _fmt(r["judge_accuracy"], percent=True),
                ]
                for r in ablation.get("rows", [])
            ],
        )
    lines += _sweep_lines(result.get("sampler_sweep"))
    return "\n".join(lines) + "\n"


def _sweep_lines(sweep: dict | None) -> list[str]:
    """The sampler sweep section: every (guidance, choice temperature) and the best."""
    if not sweep:
        return []
    lines = [
        "",
        "## Sampler sweep (guidance x choice temperature)",
        "",
        f"{sweep.get('samples')} samples per setting, on seeds the samples above do not use.",
        "",
    ]
    lines += _table(
        ["guidance", "choice temperature", "judge accuracy", "judged 'no object'", "FD"],
        [
            [
                _fmt(r["guidance_scale"], 1),
                _fmt(r["choice_temperature"], 1),
                _fmt(r["judge_accuracy"], percent=True),
                _fmt(r.get("no_object_share"), percent=True),
                _num(r["fd"]),
            ]
            for r in sweep.get("rows", [])
        ],
    )
    best = sweep.get("best")
    if best:
        lines += [
            "",
            "Chosen (the most accurate with FD within 1.5x of the best): guidance "
            f"{_fmt(best['guidance_scale'], 1)}, choice temperature "
            f"{_fmt(best['choice_temperature'], 1)} ({_fmt(best['judge_accuracy'], percent=True)}"
            f"); store it in the model with `maskgit-train export ... {best['export_flags']}`.",
        ]
    return lines


def _sampler_text(sampler: dict) -> str:
    if not sampler:
        return "-"
    return (
        f"T={sampler.get('steps')} {sampler.get('schedule')}, "
        f"temperature {sampler.get('sample_temperature')}, "
        f"choice temperature {sampler.get('choice_temperature')}, "
        f"guidance {sampler.get('guidance_scale')}"
    )
