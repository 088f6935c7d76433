"""How a hostile case is judged: exit code, one line, no traceback, time and memory bounds, and
nothing the user had changed.

In-process cases run under ``bounded()``: an alarm turns a hang into a failure, and a lowered
address-space limit turns a runaway allocation into a MemoryError (a failure) instead of taking
the machine down. Subprocess cases (signals, Ctrl-C, leaking warnings, real disk limits) run
under ``run_py()`` with the same bounds applied in the child.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Refusing a file must take well under a second; the bound leaves room for a loaded CI box.
SECONDS = 10.0
# Extra address space a refusal may use (the fixed tests allocated up to 7.75 GB before).
EXTRA_MB = 1536


class CaseTimeout(Exception):
    """The case ran past its time bound (a hang or an unbounded loop)."""


def _vm_size() -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def bounded(seconds: float = SECONDS, extra_mb: int = EXTRA_MB) -> Iterator[None]:
    """Fail the block when it runs longer than ``seconds`` or allocates ``extra_mb`` more."""

    def expire(*_):
        raise CaseTimeout(f"still running after {seconds:.0f} s")

    old_handler = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    vm = _vm_size()
    if vm:
        limit = vm + extra_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if vm:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def one_line(err: str) -> str:
    """The single stderr line of a refusal (asserts: one line, no traceback, no warnings)."""
    text = err.strip()
    assert "Traceback" not in text, text[-3000:]
    # ``import`` says what it is about to do before the slow part; that line is not an error
    lines = [line for line in text.splitlines() if not line.startswith("converting (")]
    assert len(lines) == 1, f"{len(lines)} lines on stderr:\n{text[-3000:]}"
    return lines[0]


def cli(capsys, argv: list[str], code: int = 2, seconds: float = SECONDS) -> str:
    """Run ``maskgit-studio ARGV`` in-process; assert the exit code and one stderr line."""
    from maskgit_studio import cli as cli_module

    capsys.readouterr()
    start = time.monotonic()
    with bounded(seconds):
        got = cli_module.main([str(a) for a in argv])
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert got == code, f"exit {got}, expected {code}; stderr: {err[-2000:]}"
    assert elapsed < seconds
    return one_line(err) if code != 0 else err


def train(capsys, argv: list[str], code: int = 2, seconds: float = SECONDS) -> str:
    """Run ``maskgit-train ARGV`` in-process; assert the exit code and the one error line."""
    from training import cli as train_cli

    capsys.readouterr()
    with bounded(seconds):
        try:
            got = train_cli.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            got = exc.code
    err = capsys.readouterr().err
    assert got == code, f"exit {got}, expected {code}; stderr: {err[-2000:]}"
    # logging lines carry a timestamp; the error itself is the one line that is not a log line
    errors = [line for line in err.splitlines() if not line[:2].isdigit()]
    assert "Traceback" not in err, err[-3000:]
    assert len(errors) == 1, err[-3000:]
    return errors[0]


@dataclass
class Proc:
    code: int
    out: str
    err: str
    seconds: float
    peak_mb: float


_WRAPPER = """
import os, resource, sys
limit = int(os.environ.pop("HOSTILE_AS_LIMIT", "0"))
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
fsize = int(os.environ.pop("HOSTILE_FSIZE", "0"))
if fsize:
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
report = os.environ.pop("HOSTILE_PEAK_FILE")
import atexit
atexit.register(lambda: open(report, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
target, sys.argv = sys.argv[1], sys.argv[1:]
# As the console scripts are named: the packages' start-up Ctrl-C handling keys on it.
entry_names = {"training.cli:main": "maskgit-train", "maskgit_studio.cli:main": "maskgit-studio"}
sys.argv[0] = entry_names.get(target, target)
if target == "-c":
    code, sys.argv = sys.argv[1], sys.argv[1:]
    exec(compile(code, "<case>", "exec"), {"__name__": "__main__"})
else:
    import importlib
    module, _, func = target.partition(":")
    sys.exit(getattr(importlib.import_module(module), func)())
"""


def run_py(
    target: str,
    args: list[str],
    tmp_path: Path,
    *,
    seconds: float = 60.0,
    as_limit_mb: int = 4096,
    fsize: int = 0,
    env: dict[str, str] | None = None,
    stdin=subprocess.DEVNULL,
    interrupt_after: float | None = None,
) -> Proc:
    """Run ``module:function`` (an entry point) or ``-c CODE`` in a bounded child process."""
    peak_file = tmp_path / f".peak-{time.monotonic_ns()}"
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    full_env.update(env or {})
    full_env["HOSTILE_PEAK_FILE"] = str(peak_file)
    full_env["HOSTILE_AS_LIMIT"] = str(as_limit_mb * 2**20)
    if fsize:
        full_env["HOSTILE_FSIZE"] = str(fsize)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, target, *map(str, args)],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=stdin,
    )
    if interrupt_after is not None:  # Ctrl-C: SIGINT while the program is starting
        time.sleep(interrupt_after)
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\n[killed after {seconds:.0f} s]"
    elapsed = time.monotonic() - start
    peak = float(peak_file.read_text()) / 1024 if peak_file.exists() else 0.0
    peak_file.unlink(missing_ok=True)
    return Proc(proc.returncode, out, err, elapsed, peak)


def fingerprint(*paths: Path) -> dict[str, tuple[int, str]]:
    """(mode, sha256) of every regular file under ``paths`` (links and devices by name only)."""
    found: dict[str, tuple[int, str]] = {}
    for root in paths:
        items = [root] if not root.is_dir() or root.is_symlink() else sorted(root.rglob("*"))
        for item in items:
            st = os.lstat(item)
            if item.is_symlink() or not item.is_file():
                found[str(item)] = (st.st_mode, "")
                continue
            found[str(item)] = (st.st_mode, hashlib.sha256(item.read_bytes()).hexdigest())
    return found


__all__ = [
    "CaseTimeout",
    "Proc",
    "bounded",
    "cli",
    "fingerprint",
    "one_line",
    "run_py",
    "train",
]
