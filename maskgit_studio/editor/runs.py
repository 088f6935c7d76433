"""The run log: every finished generation as a tiny token log + its request (seed, parameters).

A run's token log is its final tokens and the iteration at which each one was committed; the
committed grid after any step t is recovered from those two arrays alone, and the request (the
engine's replay description) reproduces the run exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RunRecord:
    """One finished run.

    Attributes:
        id: unique within the document.
        operation: "generate" | "inpaint" | "outpaint" | "edit_box" | "branch".
        request: the engine's JSON-ready replay description (operation, parameters, seed, model).
        tokens: (K, h, w) int32 final tokens of each variation (last window pass).
        commit_order: (K, h, w) int16 iteration each token was fixed at; -1 = given.
        offset: (dx, dy) of the input image inside the output (outpainting).
        accepted: the variation the user accepted, or None.
        parent / branch_step: for a branch, the run and step it started from.
        created: seconds since the epoch.
    """

    id: int
    operation: str
    request: dict[str, Any]
    tokens: np.ndarray
    commit_order: np.ndarray
    offset: tuple[int, int] = (0, 0)
    accepted: int | None = None
    parent: int | None = None
    branch_step: int | None = None
    created: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.tokens.ndim != 3 or self.tokens.shape != self.commit_order.shape:
            raise ValueError(
                f"tokens {self.tokens.shape} and commit_order {self.commit_order.shape} "
                "must both be (K, h, w)"
            )

    @property
    def variations(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def steps(self) -> int:
        """Iterations that committed at least one token (last index + 1)."""
        return int(self.commit_order.max()) + 1 if self.commit_order.size else 0

    def ids_at(self, step: int, variation: int, mask_id: int) -> np.ndarray:
        """(h, w) int32 committed ids after iteration ``step``; ``mask_id`` where still masked."""
        order = self.commit_order[variation]
        known = order <= step  # -1 (given) is always known
        return np.where(known, self.tokens[variation], mask_id).astype(np.int32)

    def with_accepted(self, variation: int | None) -> RunRecord:
        return replace(self, accepted=variation)

    @classmethod
    def from_result(
        cls,
        run_id: int,
        result: Any,
        operation: str | None = None,
        parent: int | None = None,
        branch_step: int | None = None,
    ) -> RunRecord:
        """Build from an engine RunResult (duck-typed: tokens, commit_order, offset, request)."""
        request = dict(result.request)
        return cls(
            id=run_id,
            operation=operation or str(request.get("operation", "run")),
            request=request,
            tokens=np.asarray(result.tokens, dtype=np.int32),
            commit_order=np.asarray(result.commit_order, dtype=np.int16),
            offset=(int(result.offset[0]), int(result.offset[1])),
            parent=parent,
            branch_step=branch_step,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "request": self.request,
            "shape": list(self.tokens.shape),
            "tokens": self.tokens.reshape(-1).tolist(),
            "commit_order": self.commit_order.reshape(-1).tolist(),
            "offset": list(self.offset),
            "accepted": self.accepted,
            "parent": self.parent,
            "branch_step": self.branch_step,
            "created": self.created,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        shape = tuple(int(v) for v in data["shape"])
        tokens = np.asarray(data["tokens"], dtype=np.int32).reshape(shape)
        order = np.asarray(data["commit_order"], dtype=np.int16).reshape(shape)
        return cls(
            id=int(data["id"]),
            operation=str(data["operation"]),
            request=dict(data.get("request", {})),
            tokens=tokens,
            commit_order=order,
            offset=tuple(int(v) for v in data.get("offset", (0, 0))),  # type: ignore[arg-type]
            accepted=data.get("accepted"),
            parent=data.get("parent"),
            branch_step=data.get("branch_step"),
            created=float(data.get("created", 0.0)),
        )
