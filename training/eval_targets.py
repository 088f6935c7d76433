"""The quality targets of ``maskgit-train evaluate``: one row per target, met or not.

Pure functions over the JSON-ready result dict that ``training.evaluate`` builds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _get(result: dict, path: tuple[str, ...]) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _samples_below_reconstructions(result: dict) -> float | None:
    """Points (as a fraction) by which samples' judge accuracy trails the reconstructions'."""
    recon = _get(result, ("judge", "accuracy_reconstructions"))
    samples = _get(result, ("class_conditional", "judge_accuracy"))
    return None if recon is None or samples is None else recon - samples


def _worst_class(result: dict) -> float | None:
    per_class = _get(result, ("class_conditional", "per_class_accuracy")) or {}
    return min(per_class.values()) if per_class else None


@dataclass(frozen=True)
class Target:
    """A quality target: where its value is, which way is better, the goal and a floor."""

    name: str
    value: Callable[[dict], Any]
    target: float
    higher_is_better: bool = True
    floor: float | None = None  # the least that is acceptable while the target is missed
    unit: str = "%"  # how a value shows: "%" (a fraction as a percentage), "pts", "" (as is)


def _at(*path: str) -> Callable[[dict], Any]:
    return lambda result: _get(result, path)


# Quality targets of the default model (issue 9). The judge's own accuracy on real natural and
# independent-backdrop scenes says whether its verdicts on generated images can be trusted.
TARGETS = (
    Target("tokenizer PSNR (dB)", _at("tokenizer", "psnr"), 28.0, floor=26.0, unit=""),
    Target("codebook usage", _at("tokenizer", "codebook_usage"), 0.90),
    Target("edge energy of reconstructions", _at("tokenizer", "edge_energy"), 0.85),
    Target(
        "token-boundary gradient ratio, reconstructions",
        _at("tokenizer", "boundary_ratio"),
        1.2,
        higher_is_better=False,
        unit="",
    ),
    Target("judge accuracy, real held-out", _at("judge", "accuracy_real"), 0.95),
    Target("judge accuracy, real independent-ground", _at("judge", "accuracy_independent"), 0.95),
    Target("judge accuracy, class samples", _at("class_conditional", "judge_accuracy"), 0.95),
    Target(
        "class samples below reconstructions",
        _samples_below_reconstructions,
        0.02,
        higher_is_better=False,
        unit="pts",
    ),
    Target("worst class, class samples", _worst_class, 0.85),
    Target("judge accuracy, centre-box inpainting", _at("inpainting", "judge_accuracy"), 0.90),
    Target(
        "FD(samples) / FD(reconstructions)",
        _at("class_conditional", "fd_ratio"),
        2.0,
        higher_is_better=False,
        unit="",
    ),
)


def _meets(value: float, goal: float, higher_is_better: bool) -> bool:
    return bool(value >= goal) if higher_is_better else bool(value <= goal)


def check_targets(result: dict) -> list[dict]:
    """One row per target: name, value (None if not measured), target, op, floor, met.

    ``met`` is True / False (None when not measured); ``floor_met`` likewise for targets with
    a floor (e.g. PSNR: target 28 dB, floor 26 dB).
    """
    rows = []
    for t in TARGETS:
        value = t.value(result)
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        met = None if value is None else _meets(value, t.target, t.higher_is_better)
        row = {
            "name": t.name,
            "value": value,
            "target": t.target,
            "op": ">=" if t.higher_is_better else "<=",
            "unit": t.unit,
            "met": met,
        }
        if t.floor is not None:
            row["floor"] = t.floor
            row["floor_met"] = None if value is None else _meets(value, t.floor, t.higher_is_better)
        rows.append(row)
    return rows
