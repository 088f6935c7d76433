"""Checks on a project file's JSON before anything is built from it.

A project may come from anywhere, so every field is checked for its type (``True`` is not a
number, ``"8"`` is not an int) and its range (no int beyond what the studio could have written,
no canvas beyond the image pixel limit, no run log larger than a model window) before a numpy
array is allocated. A failure raises ``ValueError("where: what is wrong")``; ``project.py``
turns it into the project's own ``ProjectError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..image_io import MAX_PIXELS
from .cells import grid_shape

MAX_SIDE = 100_000  # px: no coordinate or size in a project is larger
MAX_FACTOR = 64  # px per token side of the model (f); the official models have 16
MAX_SCALE = 64  # working scale
MAX_BOXES = 10_000
MAX_RUNS = 100_000
MAX_VARIATIONS = 64
MAX_GRID = 1024  # tokens per side of a run's model window
MAX_RUN_TOKENS = 2**22  # K x h x w of one run
MAX_TOKEN = 2**31 - 1
MAX_STEP = 2**15 - 1  # commit_order is int16
MAX_TEXT = 4096  # characters of a path or an operation name


def _where(where: str, problem: str) -> ValueError:
    return ValueError(f"{where} {problem}")


def integer(value: Any, where: str, lo: int, hi: int) -> int:
    """``value`` if it is an int (not a bool) in [lo, hi]."""
    if type(value) is not int:
        raise _where(where, f"must be a whole number, not {_show(value)}")
    if not lo <= value <= hi:
        raise _where(where, f"is {_show(value)}, outside {lo}..{hi}")
    return value


def optional_integer(value: Any, where: str, lo: int, hi: int) -> int | None:
    return None if value is None else integer(value, where, lo, hi)


def number(value: Any, where: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _where(where, f"must be a finite number, not {_show(value)}")
    return float(value)


def boolean(value: Any, where: str) -> bool:
    if type(value) is not bool:
        raise _where(where, f"must be true or false, not {_show(value)}")
    return value


def text(value: Any, where: str, max_len: int = MAX_TEXT) -> str:
    if type(value) is not str or len(value) > max_len:
        raise _where(where, f"must be a text of at most {max_len} characters")
    return value


def array(value: Any, where: str, length: int | None = None, max_len: int = 1 << 30) -> list:
    if type(value) is not list:
        raise _where(where, f"must be a list, not {_show(value)}")
    if length is not None and len(value) != length:
        raise _where(where, f"must have {length} entries, not {len(value)}")
    if len(value) > max_len:
        raise _where(where, f"has {len(value)} entries; at most {max_len} are allowed")
    return value


def mapping(value: Any, where: str) -> dict:
    if type(value) is not dict:
        raise _where(where, f"must be an object, not {_show(value)}")
    return value


def integers(value: Any, where: str, length: int, lo: int, hi: int) -> tuple[int, ...]:
    items = array(value, where, length)
    return tuple(integer(v, f"{where}[{i}]", lo, hi) for i, v in enumerate(items))


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"a {'list' if isinstance(value, list) else 'object'}"
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


# -- project.json --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meta:
    """The checked fields of project.json (``version`` is checked by the caller first)."""

    size: tuple[int, int]
    factor: int
    scale: int
    origin: tuple[int, int]
    blank: bool
    growth: tuple[int, int, int, int]
    boxes: tuple[dict[str, Any], ...]
    mask: tuple[str, ...]
    source: str | None

    @property
    def cell(self) -> int:
        return self.factor * self.scale

    @property
    def grid(self) -> tuple[int, int]:
        return grid_shape(self.size[0], self.size[1], self.cell)


def check_meta(meta: dict[str, Any]) -> Meta:
    """Check every field of a project.json object (types, ranges, the grid, the canvas)."""
    size = integers(meta.get("size"), "size", 2, 1, MAX_SIDE)
    if size[0] * size[1] > MAX_PIXELS:
        raise _where("size", f"{size[1]}x{size[0]} is over the {MAX_PIXELS / 1e6:.0f} MP limit")
    factor = integer(meta.get("factor"), "factor", 1, MAX_FACTOR)
    scale = integer(meta.get("scale"), "scale", 1, MAX_SCALE)
    cell = factor * scale
    origin = integers(meta.get("origin"), "origin", 2, -MAX_SIDE, MAX_SIDE)
    growth = integers(meta.get("growth"), "growth", 4, 0, MAX_SIDE)
    left, top, right, bottom = growth
    grown = (size[0] + (top + bottom) * cell) * (size[1] + (left + right) * cell)
    if grown > MAX_PIXELS:
        raise _where("growth", f"would make a canvas of {grown / 1e6:.0f} MP (limit {MAX_PIXELS / 1e6:.0f} MP)")  # fmt: skip
    boxes = tuple(
        check_box(b, f"boxes[{i}]")
        for i, b in enumerate(array(meta.get("boxes"), "boxes", max_len=MAX_BOXES))
    )
    rows, cols = grid_shape(size[0], size[1], cell)
    mask = array(meta.get("mask"), "mask", rows)
    for i, row in enumerate(mask):
        if type(row) is not str or len(row) != cols or row.strip("#.") != "":
            raise _where(f"mask[{i}]", f"must be {cols} characters of '#' and '.'")
    source = meta.get("source")
    return Meta(
        size=(size[0], size[1]),
        factor=factor,
        scale=scale,
        origin=(origin[0], origin[1]),
        blank=boolean(meta.get("blank"), "blank"),
        growth=(left, top, right, bottom),
        boxes=boxes,
        mask=tuple(mask),
        source=None if source is None else text(source, "source"),
    )


def check_box(value: Any, where: str) -> dict[str, Any]:
    box = mapping(value, where)
    return {
        "x": integer(box.get("x"), f"{where}.x", -MAX_SIDE, MAX_SIDE),
        "y": integer(box.get("y"), f"{where}.y", -MAX_SIDE, MAX_SIDE),
        "w": integer(box.get("w"), f"{where}.w", 1, MAX_SIDE),
        "h": integer(box.get("h"), f"{where}.h", 1, MAX_SIDE),
        "class_id": optional_integer(box.get("class_id"), f"{where}.class_id", 0, MAX_TOKEN),
    }


# -- runs.json -----------------------------------------------------------------------------------


def check_runs(runs: Any) -> list[dict[str, Any]]:
    """Check the run log (a list of run objects) down to every token, before any array exists."""
    items = array(runs, "runs", max_len=MAX_RUNS)
    return [check_run(run, f"runs[{i}]") for i, run in enumerate(items)]


def check_run(value: Any, where: str) -> dict[str, Any]:
    run = mapping(value, where)
    shape = integers(run.get("shape"), f"{where}.shape", 3, 0, MAX_GRID)
    if shape[0] > MAX_VARIATIONS:
        raise _where(f"{where}.shape", f"has {shape[0]} variations (at most {MAX_VARIATIONS})")
    count = shape[0] * shape[1] * shape[2]
    if count > MAX_RUN_TOKENS:
        raise _where(f"{where}.shape", f"holds {count} tokens (at most {MAX_RUN_TOKENS})")
    integer(run.get("id"), f"{where}.id", 0, MAX_TOKEN)
    text(run.get("operation"), f"{where}.operation", 64)
    mapping(run.get("request", {}), f"{where}.request")
    _all_integers(run.get("tokens"), f"{where}.tokens", count, 0, MAX_TOKEN)
    _all_integers(run.get("commit_order"), f"{where}.commit_order", count, -1, MAX_STEP)
    if "offset" in run:
        integers(run["offset"], f"{where}.offset", 2, -MAX_SIDE, MAX_SIDE)
    optional_integer(run.get("accepted"), f"{where}.accepted", 0, max(shape[0] - 1, 0))
    optional_integer(run.get("parent"), f"{where}.parent", 0, MAX_TOKEN)
    optional_integer(run.get("branch_step"), f"{where}.branch_step", -1, MAX_TOKEN)
    if "created" in run:
        number(run["created"], f"{where}.created")
    if run.get("previews") is not None:
        for i, item in enumerate(array(run["previews"], f"{where}.previews", max_len=shape[0])):
            text(item, f"{where}.previews[{i}]", 8 * 2**20)
    if run.get("confidence") is not None:
        _all_integers(run["confidence"], f"{where}.confidence", count, 0, 255)
    if run.get("output") is not None:
        _check_output(run["output"], f"{where}.output", shape[0])
    return run


def _all_integers(value: Any, where: str, length: int, lo: int, hi: int) -> None:
    items = array(value, where, length)
    if not all(type(v) is int and lo <= v <= hi for v in items):
        bad = next(v for v in items if type(v) is not int or not lo <= v <= hi)
        raise _where(where, f"holds {_show(bad)}; every entry must be a whole number in {lo}..{hi}")


def _check_output(value: Any, where: str, variations: int) -> None:
    output = mapping(value, where)
    shape = integers(output.get("shape"), f"{where}.shape", 2, 0, MAX_SIDE)
    integers(output.get("input_shape"), f"{where}.input_shape", 2, 0, MAX_SIDE)
    integers(output.get("offset"), f"{where}.offset", 2, -MAX_SIDE, MAX_SIDE)
    y0, x0, y1, x1 = integers(output.get("rect"), f"{where}.rect", 4, 0, MAX_SIDE)
    if not (y0 <= y1 <= shape[0] and x0 <= x1 <= shape[1]):
        raise _where(f"{where}.rect", f"{[y0, x0, y1, x1]} is not inside {list(shape)}")
    if (y1 - y0) * (x1 - x0) > MAX_PIXELS:
        raise _where(f"{where}.rect", "is over the image pixel limit")
    text(output.get("changed"), f"{where}.changed", 512 * 2**20)
    for i, item in enumerate(array(output.get("patches"), f"{where}.patches", max_len=variations)):  # fmt: skip
        text(item, f"{where}.patches[{i}]", 512 * 2**20)


__all__ = ["MAX_SIDE", "Meta", "check_meta", "check_runs"]
