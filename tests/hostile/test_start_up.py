"""Ctrl-C while the programs start (imports, model loading, the window opening): exit 130 and
one line, no traceback. Run through the installed console scripts, as a user starts them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .harness import ROOT


def _script(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    path = str(found) if found.exists() else shutil.which(name)
    if path is None:
        pytest.skip(f"the {name} console script is not installed")
    return path


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(argv: list[str], delay: float, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen",
               MASKGIT_STUDIO_STATE=str(tmp_path / "state"), HOME=str(tmp_path))  # fmt: skip
    # A terminal delivers Ctrl-C to the program: start it with SIGINT's default disposition even
    # if something in this test process left SIGINT ignored (children inherit SIG_IGN).
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)  # fmt: skip
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += "\n[still running 60 s after Ctrl-C]"
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _skip_if_before_our_code(done: subprocess.CompletedProcess) -> None:
    """On a loaded machine a short delay can land in the interpreter's own start-up or the
    console-script shim (``import re``), before any of our modules ran: that is Python's, not
    ours, to handle."""
    ours = any(
        f"{os.sep}{package}{os.sep}" in done.stderr for package in ("maskgit_studio", "training")
    )
    if "KeyboardInterrupt" in done.stderr and not ours:
        pytest.skip("the signal landed before any of this project's code was imported")


def _errors(err: str) -> list[str]:
    # Qt's offscreen platform prints its own notices; they are not ours
    return [line for line in err.splitlines() if line.strip() and "propagateSizeHints" not in line]


@pytest.mark.parametrize("delay", [0.15, 0.4, 1.2])
def test_ctrl_c_while_the_cli_starts(delay, tmp_path, tiny_bundle_path):
    done = _interrupt([_script("maskgit-studio"), "info", "--model", str(tiny_bundle_path)], delay, tmp_path)  # fmt: skip
    # On a fast or a busy machine the command can finish first, and the signal then lands in
    # the interpreter's exit (-2, nothing printed): that is not start-up any more.
    if done.returncode in (0, -signal.SIGINT) and "classes" in done.stdout:
        pytest.skip("finished before the signal arrived")
    _skip_if_before_our_code(done)
    assert done.returncode == 130, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and len(_errors(done.stderr)) == 1, done.stderr[-3000:]


@pytest.mark.parametrize("delay", [0.15, 0.6, 2.5])
def test_ctrl_c_while_the_studio_starts(delay, tmp_path, tiny_bundle_path):
    done = _interrupt([_script("maskgit-studio"), "--model", str(tiny_bundle_path)], delay, tmp_path)  # fmt: skip
    _skip_if_before_our_code(done)
    assert done.returncode == 130, done.stderr[-3000:]
    # at most one line: a window that was already open quits quietly
    assert "Traceback" not in done.stderr and len(_errors(done.stderr)) <= 1, done.stderr[-3000:]


@pytest.mark.parametrize("delay", [0.15, 0.8])
def test_ctrl_c_while_training_starts(delay, tmp_path):
    argv = [_script("maskgit-train"), "tokenizer", "--recipe", "tiny", "--threads", "1", "--out", str(tmp_path / "run")]  # fmt: skip
    done = _interrupt(argv, delay, tmp_path)
    if done.returncode == 0 and "tokenizer stage stopped" in done.stderr:
        pytest.skip("the tiny stage finished before the signal arrived")
    _skip_if_before_our_code(done)
    assert done.returncode == 130, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
