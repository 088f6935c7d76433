"""Stages resume after an interruption exactly where they stopped, with identical results."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from training.distributed import DistContext
from training.pretokenize import pretokenize
from training.progress import read_metrics
from training.recipes import load_recipe
from training.run_state import load_state, read_json
from training.train_tokenizer import train_tokenizer
from training.train_transformer import train_transformer

CTX = DistContext()


ROOT = Path(__file__).resolve().parents[2]


def _assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = load_file(a), load_file(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


def test_tokenizer_resume_matches_an_uninterrupted_run(tmp_path):
    recipe = load_recipe("tiny")
    train_tokenizer(recipe, tmp_path / "straight", CTX)
    # Stop after k-means init (step 4) and a dead-code check (step 5), before the GAN starts.
    first = train_tokenizer(recipe, tmp_path / "resumed", CTX, stop_at_step=6)
    assert not first["complete"] and first["step"] == 6
    assert load_state(tmp_path / "resumed" / "tokenizer" / "state.pt")["step"] == 6
    second = train_tokenizer(recipe, tmp_path / "resumed", CTX)
    assert second["complete"] and second["step"] == 12
    _assert_same_weights(
        tmp_path / "straight" / "tokenizer" / "tokenizer.safetensors",
        tmp_path / "resumed" / "tokenizer" / "tokenizer.safetensors",
    )
    # The metrics file tells one continuous story: no step logged twice.
    steps = [
        r["step"]
        for r in read_metrics(tmp_path / "resumed" / "tokenizer" / "metrics.jsonl")
        if r["kind"] == "train"
    ]
    assert steps == sorted(set(steps))


@pytest.fixture(scope="module")
def tokens_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("tokens-run")
    recipe = load_recipe("tiny")
    train_tokenizer(recipe, out, CTX)
    pretokenize(recipe, out, CTX)
    return out


def _copy_run(src: Path, dst: Path) -> Path:
    for name in ("tokenizer", "tokens"):
        shutil.copytree(src / name, dst / name)
    return dst


def test_transformer_resume_matches_an_uninterrupted_run(tmp_path, tokens_dir):
    recipe = load_recipe("tiny", ["transformer.model.dropout=0.1"])  # RNG use must resume too
    straight = _copy_run(tokens_dir, tmp_path / "straight")
    resumed = _copy_run(tokens_dir, tmp_path / "resumed")
    train_transformer(recipe, straight, CTX)
    assert train_transformer(recipe, resumed, CTX, stop_at_step=5)["step"] == 5
    assert train_transformer(recipe, resumed, CTX)["step"] == 12
    _assert_same_weights(
        straight / "transformer" / "transformer.safetensors",
        resumed / "transformer" / "transformer.safetensors",
    )
    a = load_state(straight / "transformer" / "state.pt")
    b = load_state(resumed / "transformer" / "state.pt")
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key


def _spawn(args: list[str], out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "training",
            *args,
            "--recipe",
            "tiny",
            "--out",
            str(out),
            "--threads",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"process ended early:\n{proc.stdout.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_sigterm_saves_and_exits_cleanly_then_resumes(tmp_path):
    out = tmp_path / "run"
    proc = _spawn(["tokenizer", "--steps", "100000", "--set", "tokenizer.log_every=1"], out)
    metrics = out / "tokenizer" / "metrics.jsonl"
    _wait_for(lambda: len(read_metrics(metrics)) >= 3, proc)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 3, output  # stopped, not finished
    assert "SIGTERM received" in output
    status = read_json(out / "tokenizer" / "status.json")
    saved = load_state(out / "tokenizer" / "state.pt")["step"]
    assert status["reason"] == "SIGTERM" and status["step"] == saved >= 2
    recipe = load_recipe("tiny", ["tokenizer.steps=100000"])
    again = train_tokenizer(recipe, out, CTX, stop_at_step=saved + 2)
    assert again["step"] == saved + 2


def test_kill_9_resumes_from_the_last_periodic_checkpoint(tmp_path, tokens_dir, caplog):
    out = _copy_run(tokens_dir, tmp_path / "run")
    proc = _spawn(
        ["transformer", "--steps", "100000", "--set", "transformer.checkpoint_every=3"], out
    )
    state = out / "transformer" / "state.pt"
    _wait_for(state.is_file, proc)
    time.sleep(0.5)
    proc.kill()
    proc.communicate(timeout=60)
    saved = load_state(state)["step"]
    assert saved >= 3 and saved % 3 == 0
    caplog.set_level("INFO")
    recipe = load_recipe("tiny", ["transformer.steps=100000"])
    status = train_transformer(recipe, out, CTX, stop_at_step=saved + 3)
    assert f"resuming transformer from step {saved}" in caplog.text
    assert status["step"] == saved + 3
