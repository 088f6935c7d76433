"""Hostile image and mask files through the CLI, the engine and the editor's mask import.

Every file must be refused with exit 2 and one line (CLI) or a ValueError (API), in bounded
time and memory, without running Ghostscript and without touching the user's files.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import EpsImagePlugin

from maskgit_studio.editor import import_mask
from maskgit_studio.engine import images

from . import corpus
from .harness import bounded, cli, fingerprint

IMAGE_CASES = [
    "empty", "garbage", "eps-named-png", "ppm-named-png", "gif", "ico", "truncated-png",
    "bad-crc-png", "truncated-jpeg", "png-20000x20000", "png-1x2e9", "bmp-30000x30000",
    "tiff-bomb", "webp-garbage", "fifo", "dev-zero-link", "directory", "missing",
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return corpus.hostile_images(tmp_path_factory.mktemp("hostile-images"))


@pytest.fixture
def no_ghostscript(tmp_path, monkeypatch):
    """Put a recording ``gs`` first on PATH: a test fails if anything runs it."""
    bin_dir, marker = corpus.fake_ghostscript(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None, raising=False)
    yield
    assert not marker.exists(), f"Ghostscript ran: {marker.read_text()}"


@pytest.fixture
def good(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    mask = np.zeros((40, 48), bool)
    mask[:16, :16] = True
    return images.save_image(tmp_path / "good.png", image), images.save_image(
        tmp_path / "mask.png", mask
    )


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_engine_refuses_hostile_image(case, hostile, no_ghostscript):
    before = fingerprint(hostile[case]) if hostile[case].exists() else {}
    with bounded(), pytest.raises(ValueError):
        images.load_image(hostile[case])
    with bounded(), pytest.raises(ValueError):
        images.load_mask(hostile[case])
    assert (fingerprint(hostile[case]) if hostile[case].exists() else {}) == before


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_cli_inpaint_refuses_hostile_image(case, hostile, good, tmp_path, capsys, tiny_bundle_path, no_ghostscript):  # fmt: skip
    image, mask = good
    out = tmp_path / "out"
    out.mkdir()
    before = fingerprint(image, mask)
    line = cli(capsys, ["inpaint", hostile[case], "--mask", mask, "--out", out / "r.png",
                        "--model", tiny_bundle_path, "--steps", "2"])  # fmt: skip
    assert "error" in line
    line = cli(capsys, ["inpaint", image, "--mask", hostile[case], "--out", out / "r.png",
                        "--model", tiny_bundle_path, "--steps", "2"])  # fmt: skip
    assert "error" in line
    assert list(out.iterdir()) == [] and fingerprint(image, mask) == before


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_editor_mask_import_refuses_hostile_file(case, hostile, no_ghostscript):
    with bounded(), pytest.raises(ValueError):
        import_mask(hostile[case], (40, 48), 8)


def test_only_supported_formats_open(tmp_path, no_ghostscript):
    """PNG, JPEG, WebP, BMP and TIFF open whatever their name; other formats never do."""
    array = np.full((8, 8, 3), 77, np.uint8)
    for fmt in ("PNG", "JPEG", "WEBP", "BMP", "TIFF"):
        path = tmp_path / f"picture-{fmt}.img.png"
        path.write_bytes(corpus.encode(array, fmt))
        assert images.load_image(path).shape == (8, 8, 3)
    for fmt in ("GIF", "PPM", "TGA", "PCX", "ICO"):
        path = tmp_path / f"picture-{fmt}.png"
        path.write_bytes(corpus.encode(np.zeros((16, 16, 3), np.uint8), fmt))
        with pytest.raises(ValueError, match="not a supported image|PNG, JPEG"):
            images.load_image(path)


# -- one shared mask reader --------------------------------------------------------------------


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    return corpus.mask_variants(tmp_path_factory.mktemp("masks"), (40, 48))


@pytest.mark.parametrize(
    "case",
    ["grey", "rgb", "opaque-rgba", "opaque-la", "strokes-on-transparent", "alpha-only",
     "opaque-rgba-transparent-column"],
)  # fmt: skip
def test_cli_and_editor_read_masks_alike(case, variants):
    """The CLI's reader and the studio's mask import select the same pixels (cells)."""
    path, want = variants[case]
    np.testing.assert_array_equal(images.load_mask(path, (40, 48)), want)
    cells = import_mask(path, (40, 48), 8)
    expected = want.reshape(5, 8, 6, 8).any(axis=(1, 3))
    np.testing.assert_array_equal(cells, expected)
