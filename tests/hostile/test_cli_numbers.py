"""Absurd numbers on the command line are refused before any work: exit 2, one line naming the
option, at once (the model is never loaded: a missing ``--model`` would be reported instead)."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.engine import images

from . import corpus
from .harness import cli

NO_MODEL = ["--model", "/nonexistent/model.safetensors"]

GENERATE = [
    ("--steps", "32768"), ("--steps", "40000"), ("--steps", "0"), ("--steps", "-1"),
    ("--steps", str(10**12)), ("--temperature", "nan"), ("--temperature", "inf"),
    ("--temperature", "-inf"), ("--temperature", "-1"), ("--sample-temperature", "nan"),
    ("--sample-temperature", "0"), ("--sample-temperature", "inf"), ("--guidance", "nan"),
    ("--guidance", "inf"), ("--guidance", "-1"), ("--threads", "-1"), ("--threads", "0"),
    ("--variations", "0"), ("--variations", "100000"), ("--seed", str(2**70)), ("--seed", "-1"),
]  # fmt: skip

EDITS = [
    ("--scale", "0"), ("--scale", "-1"), ("--scale", "1000"), ("--feather", "-1"),
    ("--feather", str(10**6)), ("--threads", "-2"), ("--detail", "0"), ("--detail", "nan"),
    ("--detail", "1.5"), ("--detail", "-inf"),
]  # fmt: skip


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    folder = tmp_path_factory.mktemp("numbers")
    image = images.save_image(folder / "p.png", np.zeros((40, 48, 3), np.uint8))
    mask = np.zeros((40, 48), bool)
    mask[:8, :8] = True
    return image, images.save_image(folder / "m.png", mask)


@pytest.mark.parametrize("option,value", GENERATE)
def test_generate_refuses_absurd_numbers_at_once(option, value, tmp_path, capsys):
    argv = ["generate", "--class", "1", "--out", tmp_path / "o.png", *NO_MODEL, option, value]
    line = cli(capsys, argv, seconds=2)
    assert option in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option,value", EDITS)
@pytest.mark.parametrize("command", ["inpaint", "outpaint", "edit"])
def test_edits_refuse_absurd_numbers_at_once(command, option, value, picture, tmp_path, capsys):
    image, mask = picture
    extra = {"inpaint": ["--mask", mask], "outpaint": ["--left", "8"],
             "edit": ["--box", "0,0,8,8", "--class", "1"]}[command]  # fmt: skip
    argv = [command, image, *extra, "--out", tmp_path / "o.png", *NO_MODEL, option, value]
    line = cli(capsys, argv, seconds=2)
    assert option in line, line


@pytest.mark.parametrize(
    "argv",
    [
        ["outpaint", "IMAGE", "--left", str(10**6)],
        ["outpaint", "IMAGE", "--top", "-5"],
        ["edit", "IMAGE", "--box", f"0,0,{10**6},{10**6}", "--class", "1"],
    ],
)
def test_absurd_geometry_is_refused_at_once(argv, picture, tmp_path, capsys):
    argv = [picture[0] if a == "IMAGE" else a for a in argv]
    line = cli(capsys, [*argv, "--out", tmp_path / "o.png", *NO_MODEL], seconds=2)
    assert "error" in line and "model" not in line.split("error", 1)[1], line


def test_model_recommending_absurd_steps_does_not_crash(tiny_bundle_path, tmp_path, capsys):
    """A model's stored recommended steps (40000) must never reach the int16 token log."""
    model = corpus.with_recommended_steps(tmp_path, tiny_bundle_path, 40000)
    out = tmp_path / "o.png"
    argv = ["generate", "--class", "1", "--model", model, "--out", out]
    cli(capsys, argv, code=0, seconds=60)
    assert out.is_file()


def test_engine_session_refuses_the_same_numbers(tiny_bundle_path):
    """The API behind the CLI and the studio checks them too (threads, scale, feather)."""
    from maskgit_studio.engine.session import EngineSession

    for threads in (-1, 0, 1.5):
        with pytest.raises(ValueError, match="threads"):
            EngineSession(tiny_bundle_path, threads=threads)
    session = EngineSession(tiny_bundle_path, device="cpu")
    image = np.zeros((40, 48, 3), np.uint8)
    mask = np.zeros((40, 48), bool)
    mask[:8, :8] = True
    with pytest.raises(ValueError, match="scale"):
        session.inpaint(image, mask, 1, scale=1000)
    with pytest.raises(ValueError, match="feather"):
        session.inpaint(image, mask, 1, scale=1, feather=10**6)
