"""``maskgit-studio info``: a short summary for people, everything with ``--json``."""

from __future__ import annotations

import json

import pytest

from maskgit_studio.cli import main
from maskgit_studio.engine.checkpoint import read_metadata, save_bundle
from tests.conftest import TINY_CLASSES, make_tiny_models

TRAINED = {
    "recipe_name": "tiny-recipe",
    "recipe": {"name": "tiny-recipe", "description": "64 px shapes, a 2-layer transformer"},
    "sampler": {"steps": 6, "schedule": "cosine", "guidance_scale": 1.5},
    "data": {"source": "procedural", "tokenized_images": 500},
    "training": {
        "tokenizer_steps": 40,
        "tokenizer_minutes": 0.5,
        "transformer_steps": 20,
        "transformer_minutes": 1.5,
    },
    "metrics": {
        "tokenizer": {"psnr": 21.4554, "usage": 0.9},
        "transformer": {"masked_acc": 0.2726},
    },
    "created": "2026-11-21T06:47:31+00:00",
}


@pytest.fixture(scope="module")
def trained_bundle(tmp_path_factory):
    tokenizer, transformer = make_tiny_models(seed=0)
    path = tmp_path_factory.mktemp("info") / "trained.safetensors"
    return save_bundle(path, tokenizer, transformer, TINY_CLASSES, TRAINED)


def info_text(capsys, *argv: str) -> str:
    assert main(["info", *argv, "--device", "cpu"]) == 0
    return capsys.readouterr().out


def test_summary_is_short_and_readable(trained_bundle, capsys):
    text = info_text(capsys, "--model", str(trained_bundle))
    lines = text.splitlines()
    assert len(lines) <= 12 and all(len(line) < 140 for line in lines)
    assert lines[0].startswith("model") and "64 px shapes, a 2-layer transformer" in lines[0]
    assert "8x8 tokens of 8 px (64 px)" in text
    assert "3: circle, square, triangle" in text
    assert "MB on disk" in text and "M parameters" in text
    assert "cpu, fp32" in text
    assert "6 steps" in text and "guidance 1.5" in text
    trained = next(line for line in lines if line.startswith("trained"))
    assert "recipe 'tiny-recipe'" in trained and "procedural data (500 images)" in trained
    assert "tokenizer 40 steps in 0.5 min" in trained
    assert "transformer 20 steps in 1.5 min" in trained and "2026-11-21" in trained
    assert "tokenizer: psnr 21.46, usage 0.9" in text and "masked_acc 0.2726" in text
    assert "{" not in text  # no raw dicts: the whole recipe is for --json


def test_classes_lists_every_class(trained_bundle, capsys):
    text = info_text(capsys, "--model", str(trained_bundle), "--classes")
    assert "classes (3):" in text and "     2  triangle" in text


def test_json_has_everything(trained_bundle, capsys):
    data = json.loads(info_text(capsys, "--model", str(trained_bundle), "--json"))
    assert data["class_names"] == TINY_CLASSES and "cpu" in data["devices"]
    assert data["grid_size"] == 8 and data["image_size"] == 64 and data["device"] == "cpu"
    assert data["file_bytes"] == trained_bundle.stat().st_size
    assert data["metadata"] == json.loads(json.dumps(read_metadata(trained_bundle)))
    assert data["metadata"]["provenance"] == TRAINED


def test_sparse_provenance_still_reads(tiny_bundle_path, tmp_path, capsys):
    text = info_text(capsys, "--model", str(tiny_bundle_path))  # provenance {"recipe": "tiny-test"}
    assert "recipe 'tiny-test'" in text and "metrics" not in text
    tokenizer, transformer = make_tiny_models(seed=0)
    imported = {
        "source": "official maskgit",
        "origin": "https://github.com/google-research/maskgit",
    }
    path = save_bundle(tmp_path / "imp.safetensors", tokenizer, transformer, TINY_CLASSES, imported)
    text = info_text(capsys, "--model", str(path))
    assert "official maskgit" in text and "sampler" not in text
