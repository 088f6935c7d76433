"""CLI start-up on this machine: wall time of ``--help``, ``info`` and a bare ``import torch``.

Each command runs in a fresh interpreter, ``--repeats`` times (round-robin, so a changing load
on the machine hits every command alike); the table shows the best and the median wall time,
the import time ``python -X importtime`` reports for the command's imports, and whether torch or
Qt (PySide6) were imported at all. Targets: ``--help`` imports neither torch nor
Qt; ``info`` imports no Qt and takes about the time of ``import torch`` (plus loading the model).

    python benchmarks/bench_startup.py [--repeats N] [--source DIR] [--out FILE]

``--source DIR`` measures another checkout (put first on sys.path), e.g. an older commit made
with ``mkdir /tmp/old && git archive <commit> | tar -x -C /tmp/old``, to compare before and after a change. On a machine
busy with other jobs, the best-of-N is the fairer figure; the medians are in the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"

COMMANDS = {
    "maskgit-studio --help": ["-m", "maskgit_studio", "--help"],
    "maskgit-studio info": ["-m", "maskgit_studio", "info", "--device", "cpu"],
    "import torch": ["-c", "import torch"],
}


def run_once(args: list[str], source: Path) -> float:
    """Wall seconds of one fresh interpreter running ``args`` on the checkout ``source``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=source, env=env_for(source), check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def env_for(source: Path) -> dict[str, str]:
    # ``-m`` puts the working directory first on sys.path; PYTHONPATH covers ``-c``.
    return {**os.environ, "PYTHONPATH": str(source)}


def import_profile(args: list[str], source: Path) -> dict:
    """Total import time (s) from ``-X importtime`` and whether torch / PySide6 were imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], cwd=source, env=env_for(source), check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    total_us, modules = 0, set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and not name.startswith("  "):  # a top-level import
            total_us += int(cumulative)
        modules.add(name.strip())
    return {
        "imports_s": total_us / 1e6,
        "torch": "torch" in modules,
        "qt": any(m == "PySide6" or m.startswith("PySide6.") for m in modules),
    }


def measure(repeats: int, source: Path) -> list[dict]:
    """Time every command ``repeats`` times, round-robin, so a drifting machine load hits all of
    them alike; then profile each one's imports."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for args in COMMANDS.values():
        run_once(args, source)  # warm the file cache
    for i in range(repeats):
        print(f"round {i + 1}/{repeats} ...", flush=True)
        for name, args in COMMANDS.items():
            times[name].append(run_once(args, source))
    return [
        {
            "command": name,
            "best_s": min(times[name]),
            "median_s": statistics.median(times[name]),
            "runs_s": times[name],
            **import_profile(args, source),
        }
        for name, args in COMMANDS.items()
    ]


def print_table(rows: list[dict]) -> None:
    header = ("command", "best s", "median s", "imports s", "torch", "Qt")
    cells = [header] + [
        (r["command"], f"{r['best_s']:.2f}", f"{r['median_s']:.2f}", f"{r['imports_s']:.2f}",
         "yes" if r["torch"] else "no", "yes" if r["qt"] else "no")
        for r in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--source", default=str(ROOT), help="checkout to measure (default: this)")
    parser.add_argument("--out", default=None, help="JSON path (default: benchmarks/results/...)")
    args = parser.parse_args(argv)
    source = Path(args.source).resolve()
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows = measure(args.repeats, source)
    print_table(rows)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    default_out = RESULTS_DIR / f"bench_startup-{platform.node()}-{stamp}.json"
    out = Path(args.out) if args.out else default_out
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "bench_startup",
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "source": str(source),
        "machine": {
            "node": platform.node(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": load_at_start,
        },
        "repeats": args.repeats,
        "rows": rows,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
