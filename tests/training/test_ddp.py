"""Two CPU processes on gloo via torch.distributed.run: the whole tiny chain under DDP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from maskgit_studio.engine.checkpoint import load_bundle
from training.progress import read_metrics
from training.run_state import load_state

ROOT = Path(__file__).resolve().parents[2]


def test_torchrun_two_processes_train_every_stage_and_save_once(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "training",
        "all",
        "--recipe",
        "tiny",
        "--out",
        str(out),
        "--threads",
        "1",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    # Both ranks joined the gloo group and trained both networks to the end.
    assert "rank 0/2 on cpu (gloo)" in output and "rank 1/2 on cpu (gloo)" in output
    assert output.count("tokenizer stage stopped at step 12 (steps)") == 2
    assert output.count("transformer stage stopped at step 12 (steps)") == 2
    # Rank 0 alone wrote: one export, each metrics record once.
    assert output.count("exported ") == 1
    for stage in ("tokenizer", "transformer"):
        steps = [
            r["step"] for r in read_metrics(out / stage / "metrics.jsonl") if r["kind"] == "train"
        ]
        assert steps == sorted(set(steps)) and steps[-1] == 12
        assert load_state(out / stage / "state.pt")["step"] == 12
    assert not list(out.rglob("*.tmp"))
    bundle = load_bundle(out / "model.safetensors")
    assert bundle.provenance["recipe_name"] == "tiny"
