"""The seamless-edit options of the CLI (window context, blend, pixel mask, strength) and the
refine / remove commands, on the tiny random-weight bundle."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio import cli
from maskgit_studio.cli import parser
from maskgit_studio.engine import editing_composite, images
from maskgit_studio.engine.edit_options import REFINE_ORDERS
from maskgit_studio.engine.editing_composite import feather_changed

FAST = ["--steps", "4", "--seed", "1"]


@pytest.fixture
def photo_and_mask(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (72, 80, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:72, 0:80]
    mask = (yy - 36) ** 2 + (xx - 40) ** 2 <= 7**2  # a round brush dab
    path = images.save_image(tmp_path / "photo.png", arr)
    return path, arr, images.save_image(tmp_path / "mask.png", mask), mask


def test_choices_match_the_engine():
    assert parser.BLEND_MODES == editing_composite.BLEND_MODES
    assert parser.REFINE_ORDERS == REFINE_ORDERS


def test_pixel_mask_by_default_and_snap_to_cells(tmp_path, tiny_bundle_path, photo_and_mask):
    path, arr, mask_path, mask = photo_and_mask
    base = ["inpaint", str(path), "--mask", str(mask_path), "--model", str(tiny_bundle_path)]
    out = tmp_path / "px.png"
    assert cli.main([*base, "--out", str(out), "--scale", "1", "--feather", "2", *FAST]) == 0
    res = images.load_image(out)
    keep = ~feather_changed(mask, 2)
    np.testing.assert_array_equal(res[keep], arr[keep])  # touched cells keep their corners
    cells = tmp_path / "cells.png"
    code = cli.main(
        [*base, "--out", str(cells), "--scale", "1", "--feather", "0", "--snap-to-cells",
         "--blend", "alpha", "--no-colour-match", "--no-detail-match", *FAST]
    )  # fmt: skip
    assert code == 0
    whole = images.load_image(cells)
    corner = np.zeros_like(mask)
    corner[29:32, 33:36] = True  # in a touched 8 px cell, outside the disc
    assert not (mask & corner).any()
    assert (whole[corner] != arr[corner]).any()


def test_context_picks_the_scale(tmp_path, tiny_bundle_path, photo_and_mask, capsys):
    path, _, mask_path, _ = photo_and_mask
    out = tmp_path / "ctx.png"
    code = cli.main(
        ["inpaint", str(path), "--mask", str(mask_path), "--model", str(tiny_bundle_path),
         "--out", str(out), "--context", "0", *FAST]
    )  # fmt: skip
    assert code == 0
    assert cli.main(["inpaint", str(path), "--mask", str(mask_path), "--context", "-1",
                     "--out", str(out)]) == 2  # fmt: skip
    assert "context" in capsys.readouterr().err


def test_refine_and_remove_commands(tmp_path, tiny_bundle_path, photo_and_mask, capsys):
    path, arr, mask_path, mask = photo_and_mask
    model = ["--model", str(tiny_bundle_path)]
    out = tmp_path / "refined.png"
    code = cli.main(
        ["refine", str(path), "--mask", str(mask_path), "--strength", "0.3", "--order", "random",
         "--out", str(out), *model, *FAST]
    )  # fmt: skip
    assert code == 0
    res = images.load_image(out)
    far = ~feather_changed(mask, 16)
    np.testing.assert_array_equal(res[far], arr[far])
    removed = tmp_path / "removed.png"
    assert (
        cli.main(
            ["remove", str(path), "--mask", str(mask_path), "--out", str(removed), *model, *FAST]
        )
        == 0
    )
    assert images.load_image(removed).shape == arr.shape
    assert cli.main(["refine", str(path), "--mask", str(mask_path), "--strength", "0",
                     "--out", str(out)]) == 2  # fmt: skip
    assert cli.main(["remove", str(path), "--mask", str(mask_path), "--class", "square",
                     "--out", str(removed), *model]) == 2  # fmt: skip
    assert "class" in capsys.readouterr().err
