"""The schedule ablation's summary: our best T per schedule against the paper's Table 3."""

from __future__ import annotations

import math

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
