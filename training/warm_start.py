"""Warm starts: continue training from an exported model bundle instead of from scratch.

Long CPU training runs across sessions, and a session's resume state (OUT/STAGE/state.pt) may
be gone when the next session starts on another machine. The bundled default model is then
the latest state there is: ``tokenizer.init_from`` and ``transformer.init_from`` (recipe keys,
paths to a .safetensors bundle) start the stages from its weights. The bundle's networks must
have exactly the recipe's shapes; anything else is refused with a message naming the field.

The bundle's own training record is carried into the new export's provenance, so a model card
can add up what a model cost across all its sessions.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from torch import nn

from maskgit_studio.engine.checkpoint import ModelBundle, load_bundle

log = logging.getLogger(__name__)


def _differences(want: Any, have: Any, ignore: tuple[str, ...] = ()) -> list[str]:
    """Names and values of the dataclass fields where two configs differ."""
    out = []
    for f in dataclasses.fields(want):
        if f.name in ignore:
            continue
        a, b = getattr(want, f.name), getattr(have, f.name)
        if a != b:
            out.append(f"{f.name}: recipe {a!r}, bundle {b!r}")
    return out


def load_warm_start(path: str | Path) -> ModelBundle:
    """Load the bundle named by an ``init_from`` key (a clear error if it is missing)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"init_from: no model bundle at {path}")
    return load_bundle(path)


def warm_start_record(bundle: ModelBundle) -> dict:
    """What the bundle had been through: carried into the next export's provenance."""
    prov = bundle.provenance or {}
    previous = prov.get("training", {})
    return {
        "bundle": bundle.path.name if bundle.path else "",
        "created": prov.get("created", ""),
        "training": previous,
        "data": prov.get("data", {}),
    }


def init_tokenizer_from(tokenizer: nn.Module, bundle: ModelBundle) -> None:
    """Copy the bundle's tokenizer weights (codebook included) into ``tokenizer``.

    Raises:
        ValueError: the bundle's tokenizer has another configuration than the recipe's.
    """
    diffs = _differences(tokenizer.config, bundle.tokenizer_config)
    if diffs:
        raise ValueError("tokenizer.init_from does not match the recipe: " + "; ".join(diffs))
    tokenizer.load_state_dict(bundle.tokenizer.state_dict())
    log.info("tokenizer warm-started from %s", bundle.path)


def init_transformer_from(models: list[nn.Module], bundle: ModelBundle) -> None:
    """Copy the bundle's transformer weights into each of ``models`` (the model and its EMA).

    Dropout is a training setting, not a shape, so it may differ.

    Raises:
        ValueError: the bundle's transformer has another configuration than the recipe's.
    """
    diffs = _differences(models[0].config, bundle.transformer_config, ignore=("dropout",))
    if diffs:
        raise ValueError("transformer.init_from does not match the recipe: " + "; ".join(diffs))
    state = bundle.transformer.state_dict()
    for model in models:
        model.load_state_dict(state)
    log.info("transformer warm-started from %s", bundle.path)
