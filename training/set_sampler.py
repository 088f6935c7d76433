"""``maskgit-train set-sampler``: store new recommended sampler settings in a model file.

The studio and the CLI start from the sampler settings a model recommends (its provenance's
``sampler``). ``evaluate --sweep-guidance ...`` measures which settings serve a model best; for a
run folder that still exists ``export --set export.sampler.KEY=VALUE`` stores them, and this
command does it for any model file: the weights are copied bit for bit, only the metadata
changes, and the provenance keeps a line of what was changed, when and why.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from maskgit_studio.argtypes import real, whole
from maskgit_studio.engine.checkpoint import copy_with_provenance, read_metadata
from maskgit_studio.engine.config import MAX_STEPS, SCHEDULES, SamplerConfig

# Flag -> SamplerConfig field.
FLAGS = {
    "steps": "steps",
    "schedule": "schedule",
    "temperature": "sample_temperature",
    "choice_temperature": "choice_temperature",
    "guidance": "guidance_scale",
}
STORED = {"steps", "schedule", "sample_temperature", "choice_temperature", "guidance_scale"}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    text = "store new recommended sampler settings in a model file (weights copied bit for bit)"
    p = subparsers.add_parser("set-sampler", help=text, description=text)
    p.add_argument("--model", type=Path, required=True, help="the model file (.safetensors)")
    p.add_argument("--out", type=Path, default=None, help="write here (default: in place)")
    p.add_argument("--steps", type=whole(1, MAX_STEPS), default=None)
    p.add_argument("--schedule", choices=SCHEDULES, default=None)
    p.add_argument("--temperature", type=real(0.0, 100.0, open_lo=True), default=None)
    p.add_argument("--choice-temperature", type=real(0.0, 100.0), default=None)
    p.add_argument("--guidance", type=real(0.0, 100.0), default=None)
    p.add_argument("--note", default="", help="why (kept in the provenance), e.g. a sweep's file")
    p.set_defaults(func=run_set_sampler)
    return p


def run_set_sampler(args: argparse.Namespace) -> int:
    meta = read_metadata(args.model)
    provenance = dict(meta.get("provenance") or {})
    before = provenance.get("sampler") if isinstance(provenance.get("sampler"), dict) else {}
    given = {FLAGS[k]: v for k, v in vars(args).items() if k in FLAGS and v is not None}
    if not given:
        raise ValueError("give at least one setting (--guidance, --choice-temperature, ...)")
    after = {k: v for k, v in {**before, **given}.items() if k in STORED}
    SamplerConfig(**after)  # the engine's own range checks
    if after.get("guidance_scale", 0) > 0 and not meta["transformer"].get("has_null_class"):
        raise ValueError("this model has no null class, so its guidance must stay 0")
    provenance["sampler"] = after
    history = provenance.get("sampler_changes")
    provenance["sampler_changes"] = [*(history if isinstance(history, list) else []), {
        "from": before,
        "to": after,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "note": str(args.note)[:500],
    }]  # fmt: skip
    out = copy_with_provenance(args.model, args.out or args.model, provenance)
    changed = ", ".join(f"{k} {before.get(k)} -> {v}" for k, v in given.items())
    print(f"{out}: {changed}")
    return 0


__all__ = ["add_parser", "run_set_sampler"]
