"""Training curves of a run folder as one PNG (``maskgit-train curves``): is it still learning?

Panels, each from the stage's ``metrics.jsonl`` (the rows the stages append, across resumes):
- tokenizer: held-out PSNR (dB) and codebook usage against steps;
- transformer: held-out masked-token accuracy (EMA weights and raw) and the learning rate
  against sequences seen (steps x batch size, the batch read from the stage's checkpoint or
  given).

Drawn with Pillow only (no plotting library): a model card shows where a run plateaued, and a
person watching a long run can see the slope without a notebook.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

log = logging.getLogger(__name__)

WIDTH, PANEL_HEIGHT = 900, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 64, 34, 40
BACKGROUND, AXES, GRID, TEXT = (255, 255, 255), (60, 60, 60), (228, 228, 228), (30, 30, 30)
COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189))


@dataclass
class Series:
    """One line: (x, y) points, its label, and the axis it is read on (left or right)."""

    label: str
    points: list[tuple[float, float]]
    right_axis: bool = False


@dataclass
class Panel:
    title: str
    x_label: str
    series: list[Series] = field(default_factory=list)


def read_metrics(path: Path) -> list[dict]:
    """The rows of a metrics.jsonl; unreadable lines (a killed write) are skipped."""
    rows = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), (int, float)):
            rows.append(row)
    return rows


def _points(
    rows: list[dict], kind: str, key: str, x_scale: float = 1.0
) -> list[tuple[float, float]]:
    out = []
    for row in rows:
        value = row.get(key)
        if row.get("kind") == kind and isinstance(value, (int, float)) and math.isfinite(value):
            out.append((float(row["step"]) * x_scale, float(value)))
    return out


def _batch_size(stage_dir: Path) -> int | None:
    """The batch size recorded in the stage's checkpoint (read memory-mapped), if any."""
    from training.run_state import StateError, stored_recipe

    try:
        recipe = stored_recipe(stage_dir / "state.pt")
    except (StateError, OSError):
        return None
    batch = (recipe or {}).get("transformer", {}).get("batch_size")
    return batch if isinstance(batch, int) and batch > 0 else None


def run_panels(run_dir: Path, batch_size: int | None = None) -> list[Panel]:
    """The panels a run folder has data for (none if it has no metrics yet)."""
    panels = []
    tok = read_metrics(run_dir / "tokenizer" / "metrics.jsonl")
    if tok:
        panel = Panel("tokenizer: held-out reconstructions", "steps")
        panel.series.append(Series("PSNR (dB)", _points(tok, "eval", "psnr")))
        panel.series.append(Series("codebook usage", _points(tok, "eval", "usage"), True))
        panels.append(panel)
    tr = read_metrics(run_dir / "transformer" / "metrics.jsonl")
    if tr:
        batch = batch_size or _batch_size(run_dir / "transformer")
        scale, x_label = (batch / 1000.0, "thousand sequences") if batch else (1.0, "steps")
        panel = Panel("transformer: held-out masked-token accuracy", x_label)
        panel.series.append(Series("accuracy, EMA", _points(tr, "eval", "masked_acc", scale)))
        panel.series.append(Series("accuracy, raw", _points(tr, "eval", "raw_masked_acc", scale)))
        panel.series.append(Series("learning rate", _points(tr, "train", "lr", scale), True))
        panels.append(panel)
    return [p for p in panels if any(s.points for s in p.series)]


def _range(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def _label(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:.3g}k"
    if value != 0 and abs(value) < 0.01:
        return f"{value:.1e}"
    return f"{value:.3g}"


def _draw_panel(draw: ImageDraw.ImageDraw, panel: Panel, top: int) -> None:
    x0, x1 = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    y0, y1 = top + MARGIN_TOP, top + PANEL_HEIGHT - MARGIN_BOTTOM
    draw.text((x0, top + 8), panel.title, fill=TEXT)
    xs = [x for s in panel.series for x, _ in s.points]
    x_lo, x_hi = 0.0, max(max(xs), 1e-9) * 1.02  # steps and sequences start at 0
    sides = {
        side: _range([y for s in panel.series if s.right_axis == side for _, y in s.points])
        for side in (False, True)
        if any(s.points for s in panel.series if s.right_axis == side)
    }
    for i in range(5):  # grid and tick labels
        f = i / 4
        y = y1 - f * (y1 - y0)
        draw.line((x0, y, x1, y), fill=GRID)
        for side, (lo, hi) in sides.items():
            text = _label(lo + f * (hi - lo))
            where = (x1 + 4, y - 6) if side else (x0 - 6 - 6 * len(text), y - 6)
            draw.text(where, text, fill=TEXT)
        x = x0 + f * (x1 - x0)
        draw.text((x - 12, y1 + 6), _label(x_lo + f * (x_hi - x_lo)), fill=TEXT)
    draw.rectangle((x0, y0, x1, y1), outline=AXES)
    draw.text(((x0 + x1) // 2 - 40, y1 + 22), panel.x_label, fill=TEXT)
    legend_x = x0 + 8
    for colour, series in zip(COLOURS, panel.series, strict=False):
        if not series.points:
            continue
        lo, hi = sides[series.right_axis]
        pixels = [
            (x0 + (x - x_lo) / (x_hi - x_lo) * (x1 - x0), y1 - (y - lo) / (hi - lo) * (y1 - y0))
            for x, y in series.points
        ]
        if len(pixels) > 1:
            draw.line(pixels, fill=colour, width=2)
        for px, py in pixels if len(pixels) < 60 else pixels[-1:]:
            draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=colour)
        label = series.label + (" (right axis)" if series.right_axis and len(sides) > 1 else "")
        draw.line((legend_x, y0 + 10, legend_x + 16, y0 + 10), fill=colour, width=3)
        draw.text((legend_x + 20, y0 + 4), label, fill=TEXT)
        legend_x += 28 + 6 * len(label)


def render_curves(run_dir: Path, out: Path, batch_size: int | None = None) -> Path:
    """Write the run's curves to ``out`` (PNG).

    Raises:
        ValueError: the folder has no metrics to draw.
    """
    panels = run_panels(Path(run_dir), batch_size)
    if not panels:
        raise ValueError(f"{run_dir} has no training metrics yet (tokenizer/ or transformer/)")
    image = Image.new("RGB", (WIDTH, PANEL_HEIGHT * len(panels)), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for i, panel in enumerate(panels):
        _draw_panel(draw, panel, i * PANEL_HEIGHT)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    log.info("wrote %s (%d panels)", out, len(panels))
    return out


__all__ = ["Panel", "Series", "read_metrics", "render_curves", "run_panels"]
