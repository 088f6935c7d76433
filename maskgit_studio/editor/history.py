"""Undo/redo as data: one Command per gesture, images stored as the changed rectangle only.

A Command holds the small document fields before and after (mask, boxes, growth, ...) and an
ImageDelta that can turn the old image into the new one and back. The stack drops its oldest
commands when it grows past a command count or a byte budget.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageDelta:
    """The difference between two images, enough to go either way.

    When ``before`` fits inside ``after`` at ``offset`` (the same canvas, or a grown one), only
    the rectangle ``rect`` = (y0, x0, y1, x1) of ``after`` that differs (new canvas area
    included) is stored, as patches of both images. Otherwise both images are kept whole
    (``rect`` is None).
    """

    before_shape: tuple[int, int]
    after_shape: tuple[int, int]
    offset: tuple[int, int]
    rect: tuple[int, int, int, int] | None
    before_patch: np.ndarray
    after_patch: np.ndarray

    @classmethod
    def between(
        cls, before: np.ndarray, after: np.ndarray, offset: tuple[int, int] = (0, 0)
    ) -> ImageDelta | None:
        """Delta from ``before`` (H, W, 3) to ``after`` (H', W', 3); None if they are equal."""
        if before is after or (before.shape == after.shape and np.array_equal(before, after)):
            return None
        bh, bw = before.shape[:2]
        ah, aw = after.shape[:2]
        dx, dy = offset
        if not (dx >= 0 and dy >= 0 and dx + bw <= aw and dy + bh <= ah):
            return cls((bh, bw), (ah, aw), offset, None, before.copy(), after.copy())
        padded = _place(before, (ah, aw), offset)
        differs = (padded != after).any(axis=2)  # (H', W')
        new_area = np.ones((ah, aw), dtype=bool)
        new_area[dy : dy + bh, dx : dx + bw] = False
        differs |= new_area
        rows = np.flatnonzero(differs.any(axis=1))
        cols = np.flatnonzero(differs.any(axis=0))
        y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        return cls(
            (bh, bw),
            (ah, aw),
            offset,
            (y0, x0, y1, x1),
            padded[y0:y1, x0:x1].copy(),
            after[y0:y1, x0:x1].copy(),
        )

    def apply(self, before: np.ndarray) -> np.ndarray:
        """The ``after`` image, rebuilt from ``before``."""
        if self.rect is None:
            return self.after_patch.copy()
        out = _place(before, self.after_shape, self.offset)
        y0, x0, y1, x1 = self.rect
        out[y0:y1, x0:x1] = self.after_patch
        return out

    def revert(self, after: np.ndarray) -> np.ndarray:
        """The ``before`` image, rebuilt from ``after``."""
        if self.rect is None:
            return self.before_patch.copy()
        out = after.copy()
        y0, x0, y1, x1 = self.rect
        out[y0:y1, x0:x1] = self.before_patch
        dx, dy = self.offset
        bh, bw = self.before_shape
        return np.ascontiguousarray(out[dy : dy + bh, dx : dx + bw])

    @property
    def nbytes(self) -> int:
        return int(self.before_patch.nbytes + self.after_patch.nbytes)


def _place(image: np.ndarray, shape_hw: tuple[int, int], offset: tuple[int, int]) -> np.ndarray:
    """``image`` pasted at ``offset`` (dx, dy) into a black (H', W', 3) canvas."""
    out = np.zeros((*shape_hw, image.shape[2]), dtype=image.dtype)
    dx, dy = offset
    out[dy : dy + image.shape[0], dx : dx + image.shape[1]] = image
    return out


@dataclass(frozen=True)
class Command:
    """One undoable step. ``before``/``after`` are the document's small-field snapshots."""

    label: str
    before: Any
    after: Any
    image: ImageDelta | None = None

    @property
    def nbytes(self) -> int:
        small = _snapshot_bytes(self.before) + _snapshot_bytes(self.after)
        return small + (self.image.nbytes if self.image is not None else 0)


def _snapshot_bytes(snapshot: Any) -> int:
    # Only arrays the snapshot owns count; shared references (the original image) do not.
    nbytes = getattr(snapshot, "nbytes", None)
    return int(nbytes) if nbytes is not None else 0


class UndoStack:
    """A linear undo/redo history with a command and a memory budget.

    Args:
        max_commands: oldest commands are dropped beyond this count.
        max_bytes: oldest commands are dropped while the stored deltas exceed this size
            (the newest command is always kept).
    """

    def __init__(self, max_commands: int = 1000, max_bytes: int = 512 * 2**20) -> None:
        if max_commands < 1 or max_bytes < 0:
            raise ValueError("max_commands must be >= 1 and max_bytes >= 0")
        self.max_commands = max_commands
        self.max_bytes = max_bytes
        self._commands: list[Command] = []
        self._index = 0  # commands[:index] are done, commands[index:] can be redone
        self._nbytes = 0

    def push(self, command: Command) -> None:
        """Record a done command; it discards everything that could have been redone."""
        for dropped in self._commands[self._index :]:
            self._nbytes -= dropped.nbytes
        del self._commands[self._index :]
        self._commands.append(command)
        self._nbytes += command.nbytes
        while len(self._commands) > 1 and (
            len(self._commands) > self.max_commands or self._nbytes > self.max_bytes
        ):
            oldest = self._commands.pop(0)
            self._nbytes -= oldest.nbytes
            log.debug("undo history full: dropped %r", oldest.label)
        self._index = len(self._commands)

    def undo(self) -> Command | None:
        """Step back; returns the command to revert, or None at the start."""
        if self._index == 0:
            return None
        self._index -= 1
        return self._commands[self._index]

    def redo(self) -> Command | None:
        """Step forward; returns the command to re-apply, or None at the end."""
        if self._index == len(self._commands):
            return None
        self._index += 1
        return self._commands[self._index - 1]

    def clear(self) -> None:
        self._commands.clear()
        self._index = 0
        self._nbytes = 0

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    @property
    def undo_label(self) -> str | None:
        return self._commands[self._index - 1].label if self.can_undo else None

    @property
    def redo_label(self) -> str | None:
        return self._commands[self._index].label if self.can_redo else None

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored deltas and snapshots."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._commands)
