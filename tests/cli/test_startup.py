"""Start-up: ``--help`` and argument errors import neither torch nor Qt; headless commands never
import Qt. Checked in fresh interpreters through ``sys.modules`` (no timings: those live in
benchmarks/bench_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from maskgit_studio.cli import main
code = main(sys.argv[1:])
loaded = sorted({"torch", "torch._dynamo", "PySide6"} & set(sys.modules))
print(json.dumps({"code": code, "loaded": loaded}))
"""


def run_cli(*argv: str) -> tuple[int, set[str]]:
    """Exit code of ``maskgit-studio argv`` in a fresh interpreter, and which of torch,
    torch._dynamo and PySide6 it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], set(result["loaded"])


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["generate", "--help"], ["import", "official", "--help"], ["generate"]],
    ids=["help", "generate-help", "import-help", "usage-error"],
)
def test_help_and_usage_errors_import_neither_torch_nor_qt(argv):
    code, loaded = run_cli(*argv)
    assert code in (0, 2)
    assert loaded == set()


def test_info_imports_no_qt(tiny_bundle_path):
    code, loaded = run_cli("info", "--model", str(tiny_bundle_path), "--device", "cpu")
    assert code == 0
    # torch proves the probe sees the real imports. No torch._dynamo: loading a model skips the
    # meta-device initialisers that would import it (over a second of start-up).
    assert loaded == {"torch"}


def test_generate_imports_no_qt(tiny_bundle_path, tmp_path):
    out = tmp_path / "g.png"
    code, loaded = run_cli(
        "generate", "--model", str(tiny_bundle_path), "--class", "0", "--steps", "2",
        "--device", "cpu", "--threads", "1", "--out", str(out),
    )  # fmt: skip
    assert code == 0 and out.is_file()
    assert loaded == {"torch"}
