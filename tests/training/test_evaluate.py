"""`maskgit-train evaluate` end to end on the tiny random model and a tiny 3-class folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from maskgit_studio.engine.checkpoint import load_bundle
from maskgit_studio.engine.config import SamplerConfig
from training.cli import main as cli_main
from training.eval_generate import blank_centre_box, centre_box_cells, inpaint_centre_box
from training.eval_report import render_markdown, spearman, summarise_ablation
from training.evaluate import add_parser
from training.judge import (
    JUDGE_SIZE,
    JudgeSettings,
    augment,
    load_judge,
    save_judge,
    to_judge_input,
    train_judge,
)

CLASSES = ("circle", "square", "triangle")  # the tiny bundle's classes (tests/conftest.py)


@pytest.fixture(autouse=True)
def _one_thread():
    """These tests run many tiny ops; on a busy 2-core box a second thread only spins."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _shape_image(kind: str, rng: np.random.Generator, size: int = 64) -> Image.Image:
    background = tuple(int(v) for v in rng.integers(150, 256, 3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    colour = tuple(int(v) for v in rng.integers(0, 100, 3))
    r = int(rng.integers(size // 5, size // 3))
    cx, cy = (int(v) for v in rng.integers(r + 2, size - r - 2, 2))
    if kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif kind == "square":
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    return image


@pytest.fixture(scope="module")
def shapes_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A labelled image folder: 15 images of each tiny-model class."""
    root = tmp_path_factory.mktemp("shapes")
    rng = np.random.default_rng(0)
    for kind in CLASSES:
        (root / kind).mkdir()
        for i in range(15):
            _shape_image(kind, rng).save(root / kind / f"{i:02d}.png")
    return root


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="maskgit-train")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


TINY_FLAGS = [
    "--samples",
    "6",
    "--ablation-steps",
    "2,3",
    "--ablation-samples",
    "4",
    "--judge-images",
    "36",
    "--judge-epochs",
    "2",
    "--judge-test",
    "9",
    "--batch-size",
    "4",
    "--steps",
    "4",
    "--device",
    "cpu",
]


def _tiny_argv(model: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return ["evaluate", "--model", str(model), "--data", str(data), "--out", str(out),
            *TINY_FLAGS, *extra]  # fmt: skip


def _tiny_args(model: Path, data: Path, out: Path, *extra: str) -> argparse.Namespace:
    return _parse(_tiny_argv(model, data, out, *extra))


def test_evaluate_writes_json_and_markdown(tiny_bundle_path, shapes_folder, tmp_path):
    out = tmp_path / "eval"
    args = _tiny_args(tiny_bundle_path, shapes_folder, out)
    assert args.func(args) == 0

    result = json.loads((out / "evaluate.json").read_text())
    for key in (
        "model",
        "judge",
        "tokenizer",
        "class_conditional",
        "inpainting",
        "ablation",
        "targets",
        "sampler",
        "reference",
        "seconds",
    ):
        assert key in result, key
    tok = result["tokenizer"]
    assert tok["images"] == 9 and np.isfinite(tok["psnr"]) and -1 <= tok["ssim"] <= 1
    assert 0 < tok["codebook_usage"] <= 1
    judge = result["judge"]
    assert judge["cached"] is False and judge["classes"] == list(CLASSES)
    assert 0 <= judge["accuracy_real"] <= 1 and 0 <= judge["accuracy_reconstructions"] <= 1
    assert Path(judge["path"]).is_file() and Path(judge["path"]).parent == out / "judges"
    for part in ("class_conditional", "inpainting"):
        scores = result[part]
        assert scores["samples"] == 6
        assert 0 <= scores["judge_accuracy"] <= 1
        assert scores["fd"] >= 0 and np.isfinite(scores["kid"])
    assert result["inpainting"]["start_iter"] == 2
    assert 0 <= result["inpainting"]["judge_accuracy_context_only"] <= 1
    assert set(result["class_conditional"]["per_class_accuracy"]) <= set(CLASSES)

    ablation = result["ablation"]
    assert len(ablation["rows"]) == 8 * 2
    assert {r["schedule"] for r in ablation["rows"]} == {
        "cosine",
        "square",
        "cubic",
        "linear",
        "sqrt",
        "log",
        "exp",
        "arccos",
    }
    assert len(ablation["best"]) == 8
    for row in ablation["best"]:
        assert row["best_steps"] in (2, 3)
        fds = [r["fd"] for r in ablation["rows"] if r["schedule"] == row["schedule"]]
        assert row["fd"] == min(fds)
    assert [t["name"] for t in result["targets"]][0] == "tokenizer PSNR (dB)"

    markdown = (out / "evaluate.md").read_text()
    assert "## Schedule ablation" in markdown and "| cosine |" in markdown
    assert "## Targets" in markdown and "tokenizer PSNR" in markdown


def test_evaluate_reuses_cached_judge_and_is_deterministic(
    tiny_bundle_path, shapes_folder, tmp_path
):
    cache = tmp_path / "judges"
    first, second = tmp_path / "a", tmp_path / "b"
    extra = ("--ablation", "off", "--judge-cache", str(cache))
    args = _tiny_args(tiny_bundle_path, shapes_folder, first, *extra)
    assert args.func(args) == 0
    # The second run goes through the real `maskgit-train` entry point.
    assert cli_main(_tiny_argv(tiny_bundle_path, shapes_folder, second, *extra)) == 0
    a = json.loads((first / "evaluate.json").read_text())
    b = json.loads((second / "evaluate.json").read_text())
    assert a["judge"]["cached"] is False and b["judge"]["cached"] is True
    assert "ablation" not in b and len(list(cache.glob("judge-*.safetensors"))) == 1
    for part in ("class_conditional", "inpainting"):
        assert a[part]["fd"] == pytest.approx(b[part]["fd"])
        assert a[part]["judge_accuracy"] == b[part]["judge_accuracy"]


def test_evaluate_rejects_bad_options(tiny_bundle_path, shapes_folder, tmp_path):
    args = _tiny_args(tiny_bundle_path, shapes_folder, tmp_path, "--samples", "1")
    with pytest.raises(ValueError, match="--samples"):
        args.func(args)
    with pytest.raises(SystemExit):
        _parse(["evaluate", "--ablation-steps", "4,x"])


def test_evaluate_refuses_data_without_the_models_classes(tiny_bundle_path, tmp_path):
    root = tmp_path / "other"
    rng = np.random.default_rng(1)
    for kind in ("dog", "cat"):
        (root / kind).mkdir(parents=True)
        for i in range(6):
            _shape_image("circle", rng).save(root / kind / f"{i}.png")
    args = _tiny_args(tiny_bundle_path, root, tmp_path / "out")
    with pytest.raises(ValueError, match="not in the dataset's classes"):
        args.func(args)


def test_centre_box_covers_half_the_width_and_height():
    cells = centre_box_cells(grid_size=8, downsample_factor=16)
    rows, cols = np.nonzero(cells)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (2, 5, 2, 5)
    assert cells.sum() == 16


def test_inpainting_keeps_pixels_outside_the_box(tiny_bundle_path):
    bundle = load_bundle(tiny_bundle_path)
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 2])
    out = inpaint_centre_box(bundle, images, labels, SamplerConfig(steps=4, start_iter=2), seed=3)
    assert out.shape == images.shape
    # The feather reaches 3 px past the box (64 px / 16 - 1); beyond it pixels are the input's.
    assert torch.equal(out[..., :13, :], images[..., :13, :])
    assert torch.equal(out[..., :, 51:], images[..., :, 51:])
    assert not torch.allclose(out[..., 24:40, 24:40], images[..., 24:40, 24:40])
    blank = blank_centre_box(bundle, images)
    assert torch.equal(blank[..., :13, :], images[..., :13, :])
    centre = images.mean(dim=(2, 3))[..., None, None].expand(2, 3, 8, 8)
    assert torch.allclose(blank[..., 28:36, 28:36], centre)


def test_judge_learns_shapes_and_round_trips(tmp_path):
    rng = np.random.default_rng(2)
    labels = torch.arange(90) % 3
    images = torch.stack(
        [
            torch.from_numpy(np.array(_shape_image(CLASSES[int(k)], rng))).permute(2, 0, 1)
            for k in labels
        ]
    )
    judge = train_judge(
        images, labels, list(CLASSES), JudgeSettings(epochs=10, batch_size=30, width=8)
    )
    assert judge.accuracy(images.float() / 255, labels) >= 0.9
    path = save_judge(tmp_path / "judge.safetensors", judge)
    again = load_judge(path)
    assert again.class_names == list(CLASSES)
    x = images[:5].float() / 255
    assert torch.allclose(again.logits_and_features(x)[0], judge.logits_and_features(x)[0])
    (tmp_path / "bad.safetensors").write_bytes(b"not a judge")
    with pytest.raises(ValueError, match="cannot read judge"):
        load_judge(tmp_path / "bad.safetensors")


def test_judge_input_and_augmentation_shapes():
    x = torch.rand(4, 3, 128, 128)
    small = to_judge_input(x)
    assert small.shape == (4, 3, JUDGE_SIZE, JUDGE_SIZE)
    # Area resize: each output pixel is the mean of a 2x2 block.
    assert torch.allclose(small[0, 0, 0, 0], x[0, 0, :2, :2].mean())
    aug = augment(small, torch.Generator().manual_seed(0))
    assert aug.shape == small.shape and aug.min() >= 0 and aug.max() <= 1
    assert not torch.allclose(aug, small)


def test_ablation_summary_ranks_and_correlation():
    rows = [
        {"schedule": s, "steps": t, "fd": fd, "judge_accuracy": 0.5}
        for s, t, fd in [
            ("cosine", 8, 2.0),
            ("cosine", 12, 1.0),
            ("log", 8, 9.0),
            ("linear", 8, 3.0),
            ("arccos", 8, 0.5),
        ]
    ]
    summary = summarise_ablation(rows)
    assert [r["schedule"] for r in summary["best"]] == ["arccos", "cosine", "linear", "log"]
    cosine = summary["best"][1]
    assert cosine["best_steps"] == 12 and cosine["paper_steps"] == 10 and cosine["paper_rank"] == 1
    assert summary["best"][0]["paper_rank"] is None  # arccos is not in Table 3
    assert summary["rank_correlation"] == pytest.approx(1.0)  # cosine < linear < log, as paper
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert "| arccos |" in render_markdown({"ablation": {"best": summary["best"], "rows": rows}})
