"""The evaluation report: quality targets, the schedule-ablation summary, and the markdown.

Pure functions over the JSON-ready result dict that ``training.evaluate`` builds, so the report
can be re-rendered from a saved evaluate.json.
"""

from __future__ import annotations

import math
from typing import Any

# The paper's Table 3 (ImageNet 256): best T per schedule, FID; "rank" orders by FID.
PAPER_TABLE3 = {
    "cosine": {"steps": 10, "fid": 6.06},
    "square": {"steps": 10, "fid": 6.35},
    "cubic": {"steps": 9, "fid": 7.26},
    "linear": {"steps": 16, "fid": 7.51},
    "exp": {"steps": 8, "fid": 7.89},
    "sqrt": {"steps": 32, "fid": 12.33},
    "log": {"steps": 60, "fid": 29.17},
}
# Table 3's schedules in the paper's row order, then arccos (not in the paper).
ABLATION_SCHEDULES = ("exp", "cubic", "square", "cosine", "linear", "sqrt", "log", "arccos")

# Quality targets the default model is measured against (issue 3).
TARGETS = (
    ("tokenizer PSNR (dB)", ("tokenizer", "psnr"), 26.0),
    ("codebook usage", ("tokenizer", "codebook_usage"), 0.80),
    ("judge accuracy, real held-out", ("judge", "accuracy_real"), 0.95),
    ("judge accuracy, class-conditional samples", ("class_conditional", "judge_accuracy"), 0.90),
    ("judge accuracy, centre-box inpainting", ("inpainting", "judge_accuracy"), 0.80),
)


def _get(result: dict, path: tuple[str, ...]) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def check_targets(result: dict) -> list[dict]:
    """One row per target: name, value (None if not measured), target, met."""
    rows = []
    for name, path, target in TARGETS:
        value = _get(result, path)
        met = None if value is None else bool(value >= target)
        rows.append({"name": name, "value": value, "target": target, "met": met})
    return rows


def _ranks(values: list[float]) -> list[float]:
    """Ranks 1..n (ties get their mean rank)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman rank correlation of two equal-length lists (None if undefined)."""
    if len(a) != len(b) or len(a) < 2:
        return None
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    var = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return None if var == 0 else cov / var


def summarise_ablation(rows: list[dict]) -> dict:
    """Best T per schedule (lowest FD) and how our ordering compares with Table 3.

    Args:
        rows: {"schedule", "steps", "fd", "judge_accuracy", ...} per (schedule, T).

    Returns:
        ``best``: per schedule {schedule, best_steps, fd, judge_accuracy, rank, paper_steps,
        paper_fid, paper_rank}, sorted by our FD; ``rank_correlation``: Spearman correlation of
        our best-FD ranking and the paper's FID ranking over the schedules in both.
    """
    best: dict[str, dict] = {}
    for row in rows:
        if row.get("fd") is None:
            continue
        current = best.get(row["schedule"])
        if current is None or row["fd"] < current["fd"]:
            best[row["schedule"]] = row
    table = [
        {
            "schedule": name,
            "best_steps": row["steps"],
            "fd": row["fd"],
            "judge_accuracy": row["judge_accuracy"],
        }
        for name, row in best.items()
    ]
    table.sort(key=lambda r: r["fd"])
    our_ranks = _ranks([r["fd"] for r in table])
    shared = [r for r in table if r["schedule"] in PAPER_TABLE3]
    paper_ranks = _ranks([PAPER_TABLE3[r["schedule"]]["fid"] for r in shared])
    paper_rank_of = {r["schedule"]: rk for r, rk in zip(shared, paper_ranks, strict=True)}
    for row, rank in zip(table, our_ranks, strict=True):
        paper = PAPER_TABLE3.get(row["schedule"])
        row["rank"] = rank
        row["paper_steps"] = paper["steps"] if paper else None
        row["paper_fid"] = paper["fid"] if paper else None
        row["paper_rank"] = paper_rank_of.get(row["schedule"])
    correlation = spearman(
        [r["fd"] for r in shared], [PAPER_TABLE3[r["schedule"]]["fid"] for r in shared]
    )
    return {"best": table, "rank_correlation": correlation}


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


def _num(value: Any) -> str:
    """Distances (FD, KID) span orders of magnitude: four significant digits."""
    return "-" if value is None else f"{value:.4g}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


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
        f"{_fmt(result.get('seconds'), 0)} s ({_fmt(result.get('cpu_seconds'), 0)} s CPU).",
        "",
        "## Targets",
        "",
    ]
    target_rows = []
    for row in result.get("targets", []):
        percent = "PSNR" not in row["name"]
        target_rows.append(
            [
                row["name"],
                _fmt(row["value"], percent=percent),
                (">= " + _fmt(row["target"], percent=percent)),
                {True: "met", False: "NOT met", None: "-"}[row["met"]],
            ]
        )
    lines += _table(["metric", "value", "target", ""], target_rows)

    judge = result.get("judge", {})
    lines += ["", "## Judge", ""]
    lines += _table(
        ["real held-out", "tokenizer reconstructions", "train images", "train s", "cached"],
        [
            [
                _fmt(judge.get("accuracy_real"), percent=True),
                _fmt(judge.get("accuracy_reconstructions"), percent=True),
                _fmt(judge.get("train_images")),
                _fmt(judge.get("train_seconds"), 0),
                _fmt(judge.get("cached")),
            ]
        ],
    )
    lines += [
        "",
        "Accuracy on reconstructions is the ceiling for any generator behind this tokenizer.",
    ]

    tok = result.get("tokenizer", {})
    lines += ["", "## Tokenizer", ""]
    lines += _table(
        ["images", "PSNR (dB)", "SSIM", "codebook usage", "perplexity"],
        [
            [
                _fmt(tok.get("images")),
                _fmt(tok.get("psnr")),
                _fmt(tok.get("ssim"), 3),
                _fmt(tok.get("codebook_usage"), percent=True),
                _fmt(tok.get("codebook_perplexity"), 1),
            ]
        ],
    )

    lines += ["", "## Generation (judge feature space)", ""]
    gen_rows = []
    floor = result.get("reference", {})
    if floor.get("fd_real_vs_real") is not None:
        gen_rows.append(
            [
                "real vs real (floor)",
                _fmt(floor.get("samples")),
                "-",
                _num(floor.get("fd_real_vs_real")),
                _num(floor.get("kid_real_vs_real")),
            ]
        )
    for key, name in (
        ("class_conditional", "class-conditional"),
        ("inpainting", "centre-box inpainting"),
    ):
        part = result.get(key)
        if part:
            gen_rows.append(
                [
                    name,
                    _fmt(part.get("samples")),
                    _fmt(part.get("judge_accuracy"), percent=True),
                    _num(part.get("fd")),
                    _num(part.get("kid")),
                ]
            )
    lines += _table(["task", "samples", "judge accuracy", "FD", "KID"], gen_rows)
    context = _get(result, ("inpainting", "judge_accuracy_context_only"))
    if context is not None:
        lines += [
            "",
            f"Centre-box inpainting, judge accuracy from the context alone (box filled with the "
            f"mean colour): {_fmt(context, percent=True)}; inpainting should beat it.",
        ]
    per_class = _get(result, ("class_conditional", "per_class_accuracy")) or {}
    if per_class:
        lines += [
            "",
            "Per-class judge accuracy (class-conditional): "
            + ", ".join(f"{name} {_fmt(acc, percent=True)}" for name, acc in per_class.items()),
        ]

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
    return "\n".join(lines) + "\n"


def _sampler_text(sampler: dict) -> str:
    if not sampler:
        return "-"
    return (
        f"T={sampler.get('steps')} {sampler.get('schedule')}, "
        f"temperature {sampler.get('sample_temperature')}, "
        f"choice temperature {sampler.get('choice_temperature')}, "
        f"guidance {sampler.get('guidance_scale')}"
    )


__all__ = [
    "ABLATION_SCHEDULES",
    "PAPER_TABLE3",
    "TARGETS",
    "check_targets",
    "render_markdown",
    "spearman",
    "summarise_ablation",
]
