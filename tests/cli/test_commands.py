"""The maskgit-studio image commands, run in-process through ``main(argv)`` (plus one real
subprocess) on the tiny random-weight bundle."""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest
from PIL import Image

from maskgit_studio import cli
from maskgit_studio.engine import images

FAST = ["--steps", "4", "--seed", "1"]


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (72, 80, 3), dtype=np.uint8)
    return images.save_image(tmp_path / "photo.png", arr), arr


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def test_generate_variations_strip_gif(tmp_path, tiny_bundle_path, capsys):
    out = tmp_path / "gen.png"
    code = cli.main(
        ["generate", "--model", str(tiny_bundle_path), "--class", "square", "--out", str(out),
         "--variations", "2", "--strip", str(tmp_path / "s.png"), "--gif", str(tmp_path / "a.gif"),
         *FAST]
    )  # fmt: skip
    assert code == 0
    for name in ("gen-1.png", "gen-2.png"):
        assert images.load_image(tmp_path / name).shape == (64, 64, 3)
    assert not out.exists()
    strip = images.load_image(tmp_path / "s.png")
    # 4 columns of 64 px with 4 px gaps; rows: (mask, image) x 2 variations.
    assert strip.shape == (4 * 64 + 3 * 4, 4 * 64 + 3 * 4, 3)
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 4
    printed = capsys.readouterr().out.split()
    assert str(tmp_path / "gen-1.png") in printed


def test_generate_is_deterministic(tmp_path, tiny_bundle_path):
    for name in ("a.png", "b.png"):
        args = ["generate", "--model", str(tiny_bundle_path), "--class", "1", "--out"]
        assert cli.main([*args, str(tmp_path / name), *FAST]) == 0
    a, b = images.load_image(tmp_path / "a.png"), images.load_image(tmp_path / "b.png")
    np.testing.assert_array_equal(a, b)


def test_inpaint_changes_only_near_mask(tmp_path, tiny_bundle_path, photo):
    path, arr = photo
    mask = np.zeros(arr.shape[:2], dtype=bool)
    mask[8:16, 8:16] = True
    mask_path = images.save_image(tmp_path / "mask.png", mask)
    out = tmp_path / "inp.png"
    code = cli.main(
        ["inpaint", str(path), "--mask", str(mask_path), "--out", str(out), "--model",
         str(tiny_bundle_path), "--scale", "1", "--strip", str(tmp_path / "s.png"), *FAST]
    )  # fmt: skip
    assert code == 0
    # 4 steps starting at round(2 * 4 / 12) = 1: three columns of the 64 px model window.
    assert images.load_image(tmp_path / "s.png").shape == (2 * 64 + 4, 3 * 64 + 2 * 4, 3)
    res = images.load_image(out)
    assert res.shape == arr.shape
    np.testing.assert_array_equal(res[40:, 40:], arr[40:, 40:])
    assert (res[8:16, 8:16] != arr[8:16, 8:16]).any()


def test_outpaint_and_edit(tmp_path, tiny_bundle_path, photo):
    path, arr = photo
    out = tmp_path / "big.png"
    model = ["--model", str(tiny_bundle_path)]
    assert (
        cli.main(
            [
                "outpaint",
                str(path),
                "--left",
                "8",
                "--bottom",
                "5",
                "--out",
                str(out),
                *model,
                *FAST,
            ]
        )
        == 0
    )
    assert images.load_image(out).shape == (72 + 8, 80 + 8, 3)
    out2 = tmp_path / "edit.jpg"
    assert (
        cli.main(
            [
                "edit",
                str(path),
                "--box",
                "10,10,20,20",
                "--class",
                "circle",
                "--out",
                str(out2),
                *model,
                *FAST,
            ]
        )
        == 0
    )
    assert images.load_image(out2).shape == arr.shape


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["inpaint", "{missing}", "--mask", "{mask}", "--out", "{out}"], "no such image"),
        (["inpaint", "{photo}", "--mask", "{badmask}", "--out", "{out}"], "same size"),
        (["edit", "{photo}", "--box", "1,2,3", "--class", "0", "--out", "{out}"], "X,Y,W,H"),
        (
            ["edit", "{photo}", "--box", "1,2,3,4", "--class", "zebra", "--out", "{out}"],
            "unknown class",
        ),
        (["generate", "--class", "9", "--out", "{out}"], "out of range"),
        (["generate", "--class", "0", "--out", "{tmp}/x.unknownext"], "format"),
        (["generate", "--class", "0", "--out", "{tmp}/nodir/x.png"], "folder"),
        (["generate", "--class", "0", "--out", "{out}", "--steps", "0"], "steps"),
        (["generate", "--class", "0", "--out", "{out}", "--schedule", "nope"], "invalid choice"),
        (["edit", "{photo}", "--box", "1,2,3,4", "--out", "{out}"], "--class"),
        (["outpaint", "{photo}", "--out", "{out}"], "--left"),
    ],
)
def test_bad_input_exit_2_one_line_no_output(
    argv, expected, tmp_path, tiny_bundle_path, photo, capsys
):
    path, arr = photo
    images.save_image(tmp_path / "mask.png", np.ones(arr.shape[:2], bool))
    images.save_image(tmp_path / "badmask.png", np.ones((5, 5), bool))
    names = {
        "missing": str(tmp_path / "missing.png"),
        "photo": str(path),
        "mask": str(tmp_path / "mask.png"),
        "badmask": str(tmp_path / "badmask.png"),
        "out": str(tmp_path / "out.png"),
        "tmp": str(tmp_path),
    }
    argv = [a.format(**names) for a in argv] + ["--model", str(tiny_bundle_path)]
    before = set(tmp_path.iterdir())
    assert cli.main(argv) == 2
    assert expected in _error_line(capsys)
    assert set(tmp_path.iterdir()) == before


def test_class_required_without_null_class(tmp_path, tiny_bundle_no_null_path, photo, capsys):
    path, arr = photo
    args = ["outpaint", str(path), "--right", "8", "--out", str(tmp_path / "o.png")]
    assert cli.main([*args, "--model", str(tiny_bundle_no_null_path), *FAST]) == 2
    assert "--class is required" in _error_line(capsys)


def test_bad_model_exit_2(tmp_path, capsys):
    bad = tmp_path / "m.safetensors"
    bad.write_bytes(b"junk")
    assert cli.main(["info", "--model", str(bad)]) == 2
    assert "m.safetensors" in _error_line(capsys)
    assert cli.main(["info", "--model", "nonexistent-model"]) == 2
    assert "not found" in _error_line(capsys)


def test_no_subcommand_launches_app(monkeypatch):
    calls = []
    fake = types.ModuleType("maskgit_studio.gui.app")
    fake.main = lambda argv: calls.append(argv) or 0
    monkeypatch.setitem(sys.modules, "maskgit_studio.gui.app", fake)
    import maskgit_studio.gui as gui_pkg

    monkeypatch.setattr(gui_pkg, "app", fake, raising=False)
    assert cli.main(["picture.png"]) == 0
    assert cli.main([]) == 0
    assert calls == [["picture.png"], []]


def test_app_unavailable_is_reported(monkeypatch, capsys):
    import maskgit_studio.gui as gui_pkg

    monkeypatch.setitem(sys.modules, "maskgit_studio.gui.app", None)  # import raises ImportError
    # An earlier test may have imported the real app: `from .gui import app` would find it as a
    # package attribute without looking at sys.modules.
    monkeypatch.delattr(gui_pkg, "app", raising=False)
    assert cli.main([]) == 1
    assert "cannot start" in capsys.readouterr().err


def test_help_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    assert "generate" in capsys.readouterr().out


def test_subprocess_generate(tmp_path, tiny_bundle_path):
    out = tmp_path / "sub.png"
    cmd = [sys.executable, "-m", "maskgit_studio", "generate", "--model", str(tiny_bundle_path),
           "--class", "0", "--out", str(out), *FAST]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert images.load_image(out).shape == (64, 64, 3)
    bad = subprocess.run(
        [*cmd[:-6], "--class", "nope", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_import_subcommand_is_registered(capsys):
    assert cli.main(["import", "--help"]) == 0
    assert "official" in capsys.readouterr().out
    assert cli.main(["import", "official", "--tokenizer", "nope"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.e2e
def test_generate_with_bundled_default_model(tmp_path):
    from maskgit_studio.engine import model_store

    if model_store.bundled_model_path() is None:
        pytest.skip("no bundled default model in this checkout")
    out = tmp_path / "default.png"
    assert cli.main(["generate", "--class", "0", "--out", str(out), "--seed", "0"]) == 0
    size = cli_info_image_size()
    assert images.load_image(out).shape == (size, size, 3)


def cli_info_image_size() -> int:
    from maskgit_studio.engine.session import EngineSession

    return EngineSession(None, "cpu").info.image_size


def test_inpaint_with_a_detail_pass(tmp_path, tiny_bundle_path, photo, capsys):
    """--detail redraws part of an enlarged edit at scale 1; outside the edit stays as it was."""
    path, arr = photo
    mask = np.zeros(arr.shape[:2], dtype=bool)
    mask[24:40, 24:48] = True
    mask_path = images.save_image(tmp_path / "mask.png", mask)
    common = ["inpaint", str(path), "--mask", str(mask_path), "--model", str(tiny_bundle_path),
              *FAST]  # fmt: skip
    base = [*common, "--scale", "2"]
    assert cli.main([*base, "--out", str(tmp_path / "plain.png")]) == 0
    assert cli.main([*base, "--out", str(tmp_path / "detail.png"), "--detail", "0.5"]) == 0
    plain, detail = (
        images.load_image(tmp_path / "plain.png"),
        images.load_image(tmp_path / "detail.png"),
    )
    assert (plain[mask] != detail[mask]).any()  # the detail pass redrew part of the fill
    far = np.ones(arr.shape[:2], dtype=bool)
    far[8:56, 8:64] = False  # the edit's cells at scale 2 (16 px) plus their feather
    np.testing.assert_array_equal(detail[far], arr[far])
    capsys.readouterr()
    at_one = [*common, "--scale", "1", "--out", str(tmp_path / "s1.png"), "--detail", "0.5"]
    assert cli.main(at_one) == 0
    assert "no detail pass" in capsys.readouterr().err
    np.testing.assert_array_equal(images.load_image(tmp_path / "s1.png")[far], arr[far])
