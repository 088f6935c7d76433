"""``maskgit-train`` on broken run folders, absurd recipes and hostile data: one clear line
(exit 2) or a clean resume, never a traceback or a signal; recipes are checked in full before
any stage runs; a damaged checkpoint falls back to the previous one."""

from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest
import torch
from PIL import EpsImagePlugin

from training.run_state import load_state

from . import corpus
from .harness import run_py, train

TINY = ["--recipe", "tiny", "--threads", "1"]


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """A tiny tokenizer run stopped twice (steps 4 and 6): two checkpoints were written."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    from training import cli as train_cli

    for step in (4, 6):
        code = train_cli.main(["tokenizer", *TINY, "--out", str(out), "--stop-at-step", str(step)])
        assert code == 3
    return out


@pytest.fixture
def run(stopped_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(stopped_run, copy)
    return copy


def _stage(run):
    return run / "tokenizer"


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(os.urandom(4096))
    elif how == "a-list":
        torch.save([1, 2, 3], path)
    elif how == "torchscript":
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage", "a-list", "torchscript"])
def test_damaged_checkpoint_falls_back_to_the_previous_one(how, run, capsys, caplog):
    _damage(_stage(run) / "state.pt", how)
    from training import cli as train_cli

    capsys.readouterr()
    code = train_cli.main(["tokenizer", *TINY, "--out", str(run), "--stop-at-step", "8"])
    err = capsys.readouterr().err
    assert code == 3, err[-3000:]
    assert "Traceback" not in err and "UserWarning" not in err, err[-3000:]
    assert "resuming from the previous checkpoint (step 4)" in caplog.text
    assert load_state(_stage(run) / "state.pt")["step"] == 8


@pytest.mark.parametrize("how", ["truncated", "garbage", "torchscript"])
def test_damaged_checkpoint_without_a_previous_one_is_one_line(how, run, capsys):
    for path in _stage(run).glob("state*.pt"):
        if path.name != "state.pt":
            path.unlink()
    _damage(_stage(run) / "state.pt", how)
    line = train(capsys, ["tokenizer", *TINY, "--out", run])
    assert "--restart" in line and "UserWarning" not in line


@pytest.mark.parametrize("content", [b"[1, 2]", b"null", b"\xff\xfe garbage", b'{"step": "x"}'])
def test_damaged_status_is_ignored_and_the_run_resumes(content, run, capsys):
    (_stage(run) / "status.json").write_bytes(content)
    from training import cli as train_cli

    capsys.readouterr()
    code = train_cli.main(["tokenizer", *TINY, "--out", str(run), "--stop-at-step", "8"])
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err, err[-3000:]


def test_resume_with_a_changed_model_is_refused_before_loading(run, capsys):
    before = (_stage(run) / "state.pt").read_bytes()
    line = train(capsys, ["tokenizer", *TINY, "--out", run, "--set", "tokenizer.model.base_channels=16"])  # fmt: skip
    assert "base_channels" in line and "--restart" in line, line
    assert (_stage(run) / "state.pt").read_bytes() == before


@pytest.mark.parametrize(
    "override",
    [
        "transformer.model.num_heads=0",
        "transformer.model.num_layers=1000000",
        "transformer.model.hidden_size=33",
        "tokenizer.model.num_res_blocks=100000",
        "tokenizer.model.norm_eps=-1.0",
        "export.dtype=int8",
        "export.sampler.steps=40000",
        "export.sampler.choice_temperature=nan",
        "transformer.lr=nan",
        "transformer.label_smoothing=2.0",
        "data.image_size=0",
        "pretokenize.batch_size=0",
        "transformer.steps=-5",
    ],
)
def test_whole_recipe_is_checked_before_any_stage_runs(override, tmp_path, capsys):
    out = tmp_path / "run"
    start = time.monotonic()
    line = train(capsys, ["all", *TINY, "--out", out, "--set", override], seconds=10)
    assert time.monotonic() - start < 5
    assert override.split("=")[0].split(".")[-1] in line, line
    assert not out.exists() or not any(out.rglob("state.pt"))


@pytest.mark.parametrize("argv", [["--threads", "-2"], ["--threads", "0"], ["--workers", "-1"]])
def test_bad_numbers_are_one_line(argv, tmp_path, capsys):
    line = train(capsys, ["tokenizer", "--recipe", "tiny", "--out", tmp_path / "r", *argv])
    assert argv[0] in line, line


def test_unwritable_out_is_one_line(capsys):
    if os.geteuid() != 0:
        pytest.skip("uses /sys, which root cannot write either")
    line = train(capsys, ["tokenizer", *TINY, "--out", "/sys/maskgit-run"])
    assert "/sys/maskgit-run" in line, line


def test_too_little_disk_space_is_found_up_front(tmp_path, capsys, monkeypatch):
    import collections

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**9, 10**9 - 1000, 1000))
    line = train(capsys, ["all", *TINY, "--out", tmp_path / "run"])
    assert "disk" in line.lower() or "space" in line.lower(), line
    assert not any((tmp_path / "run").rglob("*.npy"))


def test_full_disk_during_training_is_one_line_not_a_signal(tmp_path):
    argv = ["tokenizer", *TINY, "--out", tmp_path / "run"]
    proc = run_py("training.cli:main", argv, tmp_path, fsize=100_000, seconds=120)
    assert proc.code == 2, proc.err[-3000:]
    errors = [line for line in proc.err.splitlines() if not line[:2].isdigit()]
    assert "Traceback" not in proc.err and len(errors) == 1, proc.err[-3000:]


def test_ctrl_c_during_start_up_exits_130(tmp_path):
    argv = ["tokenizer", *TINY, "--out", tmp_path / "run"]
    proc = run_py("training.cli:main", argv, tmp_path, seconds=60, interrupt_after=0.6)
    if proc.code == 0 and "tokenizer stage stopped" in proc.err:
        pytest.skip("the tiny stage finished before the signal arrived")
    assert proc.code == 130, proc.err[-3000:]
    assert "Traceback" not in proc.err, proc.err[-3000:]


def test_hostile_training_images_are_skipped_and_never_rendered(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        (data / f"good-{i}.png").write_bytes(corpus.encode(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)))  # fmt: skip
    hostile = corpus.hostile_images(tmp_path / "hostile")
    for case in ("eps-named-png", "png-20000x20000", "tiff-bomb", "truncated-png", "ppm-named-png"):  # fmt: skip
        shutil.copy(hostile[case], data / f"{case}.png")
    os.mkfifo(data / "fifo.png")
    (data / "zero.png").symlink_to("/dev/zero")
    bin_dir, marker = corpus.fake_ghostscript(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None, raising=False)
    from training import cli as train_cli

    from .harness import bounded

    with bounded(30):
        code = train_cli.main(["preview-data", "--data", str(data), "--out", str(tmp_path / "p.png"),
                               "--count", "16", "--image-size", "32"])  # fmt: skip
    assert code == 0 and not marker.exists()
    assert "Traceback" not in capsys.readouterr().err


def test_stored_recipe_is_json_in_the_checkpoint(stopped_run):
    """The check before loading compares the recipe stored in the checkpoint."""
    state = load_state(stopped_run / "tokenizer" / "state.pt")
    assert json.loads(state["recipe"])["tokenizer"]["model"]["base_channels"] == 8
