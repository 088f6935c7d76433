"""``maskgit-studio info``: what a model is, in a few lines for people, or everything as JSON.

The summary answers: which model, its token grid, its classes, its size, where it runs, how it
was trained (from the provenance the exporter or importer stored) and its metrics. ``--json``
prints the model facts plus the file's full metadata (configs, class names, provenance).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from ..engine.results import ModelInfo
from .commands import open_session

SHOWN_CLASSES = 12
LABEL_WIDTH = 9


def cmd_info(args: argparse.Namespace) -> int:
    session = open_session(args)
    info = session.info
    devices = session.available_devices()
    if args.json:
        print(json.dumps(info_json(info, devices), indent=2, default=str))
        return 0
    for line in summary_lines(info, devices, list_classes=args.classes):
        print(line)
    return 0


def info_json(info: ModelInfo, devices: list[str]) -> dict[str, Any]:
    """Every fact of the loaded model, and the file's metadata as stored."""
    from ..engine.checkpoint import read_metadata

    data: dict[str, Any] = {}
    for f in dataclasses.fields(info):
        if f.name not in ("tokenizer", "transformer", "provenance"):  # in "metadata" below
            data[f.name] = getattr(info, f.name)
    data["class_names"] = list(info.class_names)
    data["file_bytes"] = _file_bytes(info.path)
    data["devices"] = devices
    data["metadata"] = read_metadata(info.path) if info.path else {}
    return data


def summary_lines(info: ModelInfo, devices: list[str], list_classes: bool = False) -> list[str]:
    """The human summary, one fact per line."""
    prov = info.provenance
    g, f = info.grid_size, info.downsample_factor
    lines = [
        _row("model", _model_line(info)),
        _row("file", info.path),
        _row(
            "grid", f"{g}x{g} tokens of {f} px ({info.image_size} px), {info.codebook_size} codes"
        ),
        _row("classes", _classes_line(info)),
        _row("size", _size_line(info)),
        _row("device", _device_line(info, devices)),
        _row("sampler", _sampler_line(prov.get("sampler"))),
        _row("trained", _trained_line(prov)),
    ]
    lines += [_row("metrics" if i == 0 else "", m) for i, m in enumerate(_metric_lines(prov))]
    lines = [line for line in lines if line]
    if list_classes:
        lines.append(f"classes ({len(info.class_names)}):")
        lines += [f"  {i:4d}  {name}" for i, name in enumerate(info.class_names)]
    return lines


# -- one line each -----------------------------------------------------------------------------
def _row(label: str, text: str | None) -> str:
    return f"{label:<{LABEL_WIDTH}}{text}" if text else ""


def _model_line(info: ModelInfo) -> str:
    description = _dict(info.provenance.get("recipe")).get("description")
    return f"{info.name}: {description}" if description else info.name


def _classes_line(info: ModelInfo) -> str:
    names = info.class_names
    shown = ", ".join(names[:SHOWN_CLASSES])
    more = f", ... (+{len(names) - SHOWN_CLASSES}; --classes lists all)"
    text = f"{len(names)}: {shown}{more if len(names) > SHOWN_CLASSES else ''}"
    guidance = "; unconditional + guidance" if info.supports_guidance else "; no unconditional"
    return text + guidance


def _size_line(info: ModelInfo) -> str:
    size = _file_bytes(info.path)
    on_disk = f"{size / 1e6:.1f} MB on disk, " if size is not None else ""
    return f"{on_disk}{info.parameters / 1e6:.1f} M parameters"


def _device_line(info: ModelInfo, devices: list[str]) -> str:
    precision = getattr(info, "precision", None)
    text = f"{info.device}" + (f", {precision} transformer" if precision else "")
    reason = getattr(info, "precision_reason", "")
    if reason:
        text += f" ({reason})"
    return f"{text}; available: {', '.join(devices)}"


def _sampler_line(sampler: Any) -> str | None:
    if not sampler or not isinstance(sampler, dict):
        return None
    names = {"choice_temperature": "choice temperature", "guidance_scale": "guidance"}
    parts = [f"{sampler['steps']} steps"] if "steps" in sampler else []
    parts += [
        f"{names.get(k, k.replace('_', ' '))} {v}" for k, v in sampler.items() if k != "steps"
    ]
    return ", ".join(parts) + " (recommended)"


def _trained_line(prov: dict) -> str | None:
    """Recipe, data and time of training; or where imported weights came from."""
    parts = []
    recipe = _recipe_name(prov)
    if recipe:
        parts.append(f"recipe {recipe!r}")
    data = _dict(prov.get("data"))
    if data.get("source"):
        images = data.get("tokenized_images")
        parts.append(f"{data['source']} data" + (f" ({images} images)" if images else ""))
    training = _dict(prov.get("training"))
    for stage in ("tokenizer", "transformer"):
        steps, minutes = training.get(f"{stage}_steps"), training.get(f"{stage}_minutes")
        done = [f"{steps} steps" if steps else "", f"{minutes:g} min" if minutes else ""]
        if any(done):
            parts.append(f"{stage} {' in '.join(d for d in done if d)}")
    if prov.get("source"):  # imported weights
        parts.append(str(prov["source"]))
    if prov.get("created"):
        parts.append(str(prov["created"])[:10])
    return "; ".join(parts) or None


def _recipe_name(prov: dict) -> str | None:
    recipe = prov.get("recipe")
    if isinstance(recipe, str):
        return recipe
    return prov.get("recipe_name") or _dict(recipe).get("name")


def _metric_lines(prov: dict) -> list[str]:
    """One line per group of metrics (e.g. tokenizer, transformer)."""
    metrics = _dict(prov.get("metrics"))
    lines = []
    for group, values in metrics.items():
        if isinstance(values, dict) and values:
            shown = ", ".join(f"{k} {_number(v)}" for k, v in values.items())
            lines.append(f"{group}: {shown}")
        elif not isinstance(values, dict):
            lines.append(f"{group}: {_number(values)}")
    return lines


def _dict(value: Any) -> dict:
    """``value`` if it is a dict, else an empty one (provenance is free-form JSON)."""
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _file_bytes(path: str) -> int | None:
    try:
        return Path(path).stat().st_size if path else None
    except OSError:
        return None


__all__ = ["cmd_info", "info_json", "summary_lines"]
