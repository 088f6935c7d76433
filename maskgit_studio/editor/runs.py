"""The run log: every finished generation as a tiny token log + its request (seed, parameters).

A run's token log is its final tokens and the iteration at which each one was committed; the
committed grid after any step t is recovered from those two arrays alone, and the request (the
engine's replay description) reproduces the run exactly. The log also keeps what the history
shows and restores: the final decoded window of each variation (small), the confidence of each
token when it was committed, and the pixels the run changed (``RunOutput``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from .run_output import RunOutput, png_array, png_text

THUMB = 96  # px: the largest side of a stored preview


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
        parent / branch_step: for a branch, the run and the step position (in the parent's
            step list) it started from.
        created: seconds since the epoch.
        previews: (K, s, s, 3) uint8 the final decoded model window of each variation, at most
            ``THUMB`` px (thumbnails and the stored steps' pictures), or None.
        confidence: (K, h, w) uint8 each token's probability when it was committed, x 255.
        output: the pixels the run changed, to restore it; None in old projects.
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
    previews: np.ndarray | None = None
    confidence: np.ndarray | None = None
    output: RunOutput | None = None

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
    def kind(self) -> str:
        """The operation, with a branch's taken from the run it branched from."""
        request = self.request
        while request.get("operation") == "branch" and isinstance(request.get("parent"), dict):
            request = request["parent"]
        operation = str(request.get("operation", self.operation))
        return self.operation if operation == "branch" else operation

    @property
    def seed(self) -> int | None:
        seed = self.request.get("seed", self.request.get("sampler", {}).get("seed"))
        return None if seed is None else int(seed)

    @property
    def class_id(self) -> int | None:
        """The class the run used (a branch that kept its parent's class: the parent's)."""
        request = self.request
        while request.get("class_id") is None and isinstance(request.get("parent"), dict):
            request = request["parent"]
        value = request.get("class_id")
        return None if value is None else int(value)

    @property
    def iterations(self) -> int:
        """T, the schedule's iteration count."""
        return int(self.request.get("sampler", {}).get("steps", self.steps))

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
        previews: np.ndarray | None = None,
        input_shape: tuple[int, int] | None = None,
        input_offset: tuple[int, int] | None = None,
    ) -> RunRecord:
        """Build from an engine RunResult (duck-typed: tokens, commit_order, offset, request,
        confidence, images, changed). ``previews``: the last step's decoded windows;
        ``input_shape``: the document the run started from, and ``input_offset`` its place in
        the output (default: the result's offset); with them the output is kept to restore."""
        request = dict(result.request)
        output = None
        if input_shape is not None:
            offset = result.offset if input_offset is None else input_offset
            output = RunOutput.from_images(list(result.images), result.changed, offset, input_shape)
        confidence = getattr(result, "confidence", None)
        if confidence is not None:
            confidence = np.clip(np.rint(np.asarray(confidence) * 255), 0, 255).astype(np.uint8)
        return cls(
            id=run_id,
            operation=operation or str(request.get("operation", "run")),
            request=request,
            tokens=np.asarray(result.tokens, dtype=np.int32),
            commit_order=np.asarray(result.commit_order, dtype=np.int16),
            offset=(int(result.offset[0]), int(result.offset[1])),
            parent=parent,
            branch_step=branch_step,
            previews=None if previews is None else thumbnails(np.asarray(previews)),
            confidence=confidence,
            output=output,
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
            "previews": self._previews_json,
            "confidence": None if self.confidence is None else self.confidence.ravel().tolist(),
            "output": None if self.output is None else self.output.to_json(),
        }

    @cached_property
    def _previews_json(self) -> list[str] | None:  # encoded once, not at every autosave
        return None if self.previews is None else [png_text(p) for p in self.previews]

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
            previews=_previews(data.get("previews")),
            confidence=_confidence(data.get("confidence"), shape),
            output=RunOutput.from_json(data["output"]) if data.get("output") else None,
        )


def thumbnails(previews: np.ndarray, size: int = THUMB) -> np.ndarray:
    """(K, H, W, 3) uint8 -> (K, h, w, 3) with the larger side at most ``size`` (whole steps)."""
    step = max(1, -(-max(previews.shape[1:3]) // size))
    k, h, w = previews.shape[0], previews.shape[1] // step, previews.shape[2] // step
    blocks = previews[:, : h * step, : w * step].reshape(k, h, step, w, step, 3)
    return np.rint(blocks.mean(axis=(2, 4))).astype(np.uint8)


def _previews(data: list | None) -> np.ndarray | None:
    if not data:
        return None
    return np.stack([png_array(text) for text in data])


def _confidence(data: list | None, shape: tuple[int, ...]) -> np.ndarray | None:
    if data is None:
        return None
    return np.asarray(data, dtype=np.uint8).reshape(shape)
