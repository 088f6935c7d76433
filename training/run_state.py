"""Resumable run state: atomic checkpoint files, RNG capture, stage status, stop signals.

A stage keeps one ``state.pt`` (weights, optimiser, EMA, RNG states, step, data position) that
is replaced atomically (temp file in the same folder, fsync, rename), so a kill at any moment
leaves either the old or the new checkpoint, never a torn one. ``status.json`` says how far the
stage got and whether it is complete. SIGINT/SIGTERM only raise a flag; the loop saves at the
next step boundary and returns cleanly.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)

STATE_FILE = "state.pt"
STATUS_FILE = "status.json"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp_path)`` then fsync and rename onto ``path`` (old file kept on failure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; use the usual mode
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_state(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Atomically write a run-state dict (tensors, numbers, strings, nested dicts/lists)."""
    return atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_state(path: str | os.PathLike) -> dict[str, Any] | None:
    """The saved run state, or None when there is none yet. Never unpickles arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def write_json(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    text = json.dumps(data, indent=2, sort_keys=True)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def read_json(path: str | os.PathLike) -> dict[str, Any] | None:
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


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
