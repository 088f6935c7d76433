"""Resumable run state: atomic checkpoint files, RNG capture, stage status, stop signals.

A stage keeps one ``state.pt`` (weights, optimiser, EMA, RNG states, step, data position) that
is replaced atomically (temp file in the same folder, fsync, rename), so a kill at any moment
leaves either the old or the new checkpoint, never a torn one. The checkpoint it replaces is kept
as ``state.prev.pt``: when the latest is unreadable (truncated by a full disk, damaged, not a
checkpoint at all) loading falls back to it with a warning, and when neither is usable loading
says so in one line (rerun with --restart). ``status.json`` says how far the stage got and
whether it is complete; a damaged or malformed one is ignored with a warning (the checkpoint
decides where the stage resumes). SIGINT/SIGTERM only raise a flag; the loop saves at the next
step boundary and returns cleanly.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from maskgit_studio.safe_io import UnreadableFile, atomic_output, open_regular, read_capped

log = logging.getLogger(__name__)

STATE_FILE = "state.pt"
PREVIOUS_STATE_FILE = "state.prev.pt"
STATUS_FILE = "status.json"
MAX_JSON_BYTES = 64 * 2**20
# The entries each stage's checkpoint must have (the stage is the checkpoint's folder name).
STATE_KEYS = {
    "tokenizer": ("tokenizer", "ema", "discriminator", "optimizer", "disc_optimizer"),
    "transformer": ("model", "ema", "optimizer"),
}


class StateError(ValueError):
    """A run-state file that cannot be used; the message is meant for the user."""


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp_path)`` then fsync and rename onto ``path`` (old file kept on failure).

    The new file keeps the mode of the one it replaces and honours the umask (``safe_io``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        write(tmp)
    return path


def save_state(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Atomically write a run-state dict (tensors, numbers, strings, nested dicts/lists); the
    checkpoint it replaces is kept as ``state.prev.pt`` (the fallback of :func:`load_state`)."""
    path = Path(path)
    return atomic_write(path, lambda tmp: _save_keeping_previous(state, tmp, path))


def _save_keeping_previous(state: dict[str, Any], tmp: str | os.PathLike, path: Path) -> None:
    torch.save(state, tmp)
    if path.is_file():  # a hard link: state.pt itself stays in place until the final rename
        previous = path.with_name(PREVIOUS_STATE_FILE)
        link = previous.with_name(f".{previous.name}.link")
        link.unlink(missing_ok=True)
        try:
            os.link(path, link)
            os.replace(link, previous)
        except OSError:  # no hard links here: a second copy is not worth a failed checkpoint
            link.unlink(missing_ok=True)


def load_state(
    path: str | os.PathLike, *, mmap: bool = False, announce: bool = True
) -> dict[str, Any] | None:
    """The saved run state, or None when there is none yet. Never unpickles arbitrary objects.

    An unreadable latest checkpoint falls back to the previous one (with a warning).

    Raises:
        StateError: there is a checkpoint, but neither it nor the previous one is usable.
    """
    path = Path(path)
    previous = path.with_name(PREVIOUS_STATE_FILE)
    if not path.exists() and not path.is_symlink():
        if not previous.is_file():
            return None
        if announce:
            log.warning("%s is missing; resuming from the previous checkpoint", path)
        return _load_checked(previous, mmap)
    try:
        return _load_checked(path, mmap)
    except StateError as exc:
        if not previous.is_file():
            raise StateError(
                f"{exc}; there is no previous checkpoint: rerun with --restart to start this "
                "stage over"
            ) from None
        try:
            state = _load_checked(previous, mmap)
        except StateError as exc2:
            raise StateError(
                f"{exc}, and so is the previous checkpoint ({exc2}): rerun with --restart "
                "to start this stage over"
            ) from None
        if announce:
            log.warning("%s; resuming from the previous checkpoint (step %d)", exc, state["step"])
        return state


def _load_checked(path: Path, mmap: bool = False) -> dict[str, Any]:
    """A checkpoint that loads and has the entries its stage needs, else StateError."""
    try:
        open_regular(path, "checkpoint").close()
        with warnings.catch_warnings():  # torch warns before it raises (TorchScript files)
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # noqa: BLE001 - a damaged pickle can raise nearly anything
        raise StateError(f"{path} is unreadable ({_first_line(exc)})") from None
    problem = _state_problem(state, path.parent.name)
    if problem:
        raise StateError(f"{path} is not a usable checkpoint ({problem})")
    return state


def _state_problem(state: Any, stage: str) -> str | None:
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a checkpoint"
    step, elapsed = state.get("step"), state.get("elapsed_s")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        return "no valid step"
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not math.isfinite(elapsed) or elapsed < 0:  # fmt: skip
        return "no valid elapsed time"
    missing = [k for k in STATE_KEYS.get(stage, ()) if not isinstance(state.get(k), dict)]
    if missing:
        return f"missing {', '.join(missing)}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def stored_recipe(path: str | os.PathLike) -> dict[str, Any] | None:
    """The recipe recorded in the checkpoint :func:`load_state` would resume from (None: no
    checkpoint, or none recorded). Reads the file memory-mapped: the weights stay on disk.

    Raises:
        StateError: as :func:`load_state`.
    """
    state = load_state(path, mmap=True, announce=False)
    if state is None or not isinstance(state.get("recipe"), str):
        return None
    try:
        recipe = json.loads(state["recipe"])
    except ValueError:
        return None
    return recipe if isinstance(recipe, dict) else None


def write_json(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    text = json.dumps(data, indent=2, sort_keys=True)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def read_json(path: str | os.PathLike) -> dict[str, Any] | None:
    """A JSON object written by :func:`write_json`, or None when there is none.

    A damaged file (not JSON, not an object, a status with fields of the wrong type, not a
    regular file) counts as absent, with a warning: these files record progress, and the
    checkpoint, not them, decides where a stage resumes.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return None
    try:
        data = json.loads(read_capped(path, MAX_JSON_BYTES, "run-state file"))
    except (UnreadableFile, OSError, ValueError, RecursionError) as exc:
        log.warning("ignoring %s: %s", path, _first_line(exc))
        return None
    problem = "it is not an object" if not isinstance(data, dict) else None
    if problem is None and path.name == STATUS_FILE:
        problem = _status_problem(data)
    if problem:
        log.warning("ignoring %s: %s", path, problem)
        return None
    return data


def _status_problem(status: dict[str, Any]) -> str | None:
    def number(key: str) -> bool:
        value = status.get(key, 0)
        return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)  # fmt: skip

    if not all(number(k) for k in ("step", "steps", "elapsed_s")):
        return "step, steps and elapsed_s must be numbers"
    if not isinstance(status.get("complete", False), bool):
        return "complete must be true or false"
    if not isinstance(status.get("metrics", {}), dict):
        return "metrics must be an object"
    return None


# -- RNG ------------------------------------------------------------------------------------


def capture_rng() -> dict[str, Any]:
    """Global RNG states (python, numpy, torch CPU and CUDA) as checkpoint-safe values."""
    py_version, py_state, py_gauss = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": {
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "gauss": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    version, py_state, gauss = state["python"]
    random.setstate((version, tuple(py_state), gauss))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, npy["pos"], npy["has_gauss"], npy["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# -- stop signals ---------------------------------------------------------------------------


class StopFlag:
    """Set by SIGINT/SIGTERM (or by code); the training loop polls it between steps."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def request(self, reason: str) -> None:
        self.reason = reason

    def __bool__(self) -> bool:
        return self.reason is not None


def ignore_stop_signals(*_: Any) -> None:
    """DataLoader ``worker_init_fn``: workers ignore SIGINT/SIGTERM sent to the process group
    (Ctrl-C, ``timeout``), so the main process can save and shut them down in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    """Route SIGINT/SIGTERM to a StopFlag for the duration; a second signal stops at once."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag  # signal handlers can only be installed from the main thread
        return
    previous = {}

    def handler(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if flag:
            log.warning("second %s: stopping without saving", name)
            signal.signal(signum, previous.get(signum, signal.SIG_DFL))
            raise KeyboardInterrupt
        log.warning("%s received: saving a checkpoint and stopping after this step", name)
        flag.request(name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
