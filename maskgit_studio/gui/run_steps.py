"""Steps for the step viewer from a run's stored token log, and a run's lineage (numpy only).

A stored run keeps its final tokens and the iteration at which each was committed, so the
committed grid after every iteration comes back exactly. The picture of a stored step is the
run's final decoded window with the cells not yet committed darkened: it shows where and in what
order the image was fixed (the live run also showed what the model guessed for the rest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from maskgit_studio.editor import RunRecord

from .step_render import MASKED

MASK_ID = -1  # stored steps mark still-masked tokens with -1 (the official mask id)


@dataclass(frozen=True)
class StoredStep:
    """The fields of an engine StepResult the viewer reads, rebuilt from a token log."""

    index: int
    total: int
    pass_index: int
    pass_count: int
    ids: np.ndarray
    masked: np.ndarray
    revealed: np.ndarray
    confidence: np.ndarray
    editable: np.ndarray
    preview: np.ndarray | None


def one_variation(step: Any, variation: int) -> Any:
    """``step`` with only variation ``variation`` (a branch continues one variation)."""
    v = slice(variation, variation + 1)
    fields = {"ids": step.ids[v], "masked": step.masked[v], "revealed": step.revealed[v]}
    fields["confidence"] = step.confidence[v]
    if getattr(step, "sampled", None) is not None:
        fields["sampled"] = step.sampled[v]
    if step.preview is not None:
        fields["preview"] = step.preview[v]
    return replace(step, **fields)


def stored_steps(record: RunRecord) -> list[StoredStep]:
    """Every iteration of ``record``'s (last) window pass, from its token log."""
    order = record.commit_order.astype(np.int32)  # (K, h, w); -1 = given
    committed = order[order >= 0]
    if committed.size == 0:
        return []
    editable = order[0] >= 0
    passes = int(record.request.get("passes", 1) or 1)
    confidence = (
        record.confidence.astype(np.float32) / 255
        if record.confidence is not None
        else np.ones(order.shape, np.float32)
    )
    request = record.request
    if record.operation == "branch":
        first = int(request.get("step", -1)) + 1
    else:
        first = int(request.get("sampler", {}).get("start_iter", 0) or 0)
    first = min(first, int(committed.min()))
    last = max(int(committed.max()), record.iterations - 1)
    steps = []
    for t in range(first, last + 1):  # an iteration may commit nothing: it still counts
        masked = order > t
        steps.append(
            StoredStep(
                index=t,
                total=max(record.iterations, t + 1),
                pass_index=passes - 1,
                pass_count=passes,
                ids=np.where(masked, MASK_ID, record.tokens).astype(np.int32),
                masked=masked,
                revealed=order == t,
                confidence=np.where(masked, 0.0, confidence).astype(np.float32),
                editable=editable,
                preview=_revealed(record.previews, masked),
            )
        )
    return steps


def _revealed(previews: np.ndarray | None, masked: np.ndarray) -> np.ndarray | None:
    """(K, s, s, 3) final pictures with the still-masked cells dark."""
    if previews is None or previews.shape[0] != masked.shape[0]:
        return None
    k, height, width = previews.shape[:3]
    rows = np.arange(height) * masked.shape[1] // height
    cols = np.arange(width) * masked.shape[2] // width
    hidden = masked[:, rows][:, :, cols]  # (K, s, s)
    out = previews.copy()
    out[hidden] = (out[hidden] // 4 + MASKED * 3 // 4).astype(np.uint8)
    return out


def lineage(runs: Sequence[RunRecord], record: RunRecord) -> tuple[list[Any], int]:
    """The steps to show for ``record``: a branch's parent steps up to the branch point (of the
    variation it continued) and then its own. Returns (steps, how many came from the parent)."""
    own = stored_steps(record)
    parent = next((r for r in runs if r.id == record.parent), None)
    if record.operation != "branch" or parent is None:
        return own, 0
    request = record.request
    variation = int(request.get("variation", 0))
    before, _ = lineage(runs, parent)
    if not before or variation >= before[-1].ids.shape[0]:
        return own, 0
    step, pass_index = int(request.get("step", -1)), int(request.get("pass", 0))
    prefix = [
        one_variation(s, variation)
        for s in before
        if s.pass_index == pass_index and s.index <= step
    ]
    return prefix + own, len(prefix)


def run_title(
    kind: str,
    class_name: str,
    seed: int | None,
    run_id: int | None = None,
    parent: int | None = None,
    iteration: int | None = None,
) -> str:
    """A run in words: "Run 4: inpaint · tabby cat · seed 1234"; a branch names its parent and
    the iteration it left it after."""
    name = kind.replace("_", " ")
    if parent is not None:
        where = f" after iteration {iteration}" if iteration is not None else ""
        name = f"branch of run {parent}{where}"
    head = f"Run {run_id}: {name}" if run_id is not None else name[:1].upper() + name[1:]
    parts = [head, class_name or "unconditional"]
    if seed is not None:
        parts.append(f"seed {seed}")
    return " · ".join(parts)
