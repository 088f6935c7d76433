"""Image/mask files: modes, EXIF orientation, size limit, atomic saves."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from maskgit_studio.engine import images


def _save(tmp_path, image: Image.Image, name: str, **kw):
    path = tmp_path / name
    image.save(path, **kw)
    return path


def test_rgb_png_roundtrip(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    path = images.save_image(tmp_path / "a.png", arr)
    np.testing.assert_array_equal(images.load_image(path), arr)
    assert not list(tmp_path.glob(".*tmp"))


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((4, 6, 3), dtype=np.uint8)
    arr[0, 0] = (255, 0, 0)  # red top-left
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = _save(tmp_path, img, "rot.png", exif=exif)
    out = images.load_image(path)
    assert out.shape == (6, 4, 3)
    assert out[0, -1, 0] > 200 and out[0, -1, 1] < 60  # red moved to the top-right


def test_palette_with_transparency_flattens_over_white(tmp_path):
    img = Image.new("P", (4, 4), 0)
    img.putpalette([0, 0, 255] + [0, 0, 0] * 255)
    img.info["transparency"] = 0
    path = _save(tmp_path, img, "p.png", transparency=0)
    np.testing.assert_array_equal(images.load_image(path), np.full((4, 4, 3), 255, np.uint8))


def test_rgba_alpha_blends_over_white(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 128
    path = _save(tmp_path, Image.fromarray(rgba, "RGBA"), "a.png")
    out = images.load_image(path)
    assert out[0, 0, 0] == 255 and 120 <= out[0, 0, 1] <= 135


def test_cmyk_and_16bit_are_converted(tmp_path):
    cmyk = _save(tmp_path, Image.new("CMYK", (3, 3), (0, 255, 255, 0)), "c.tif")
    out = images.load_image(cmyk)
    assert out.shape == (3, 3, 3) and out[0, 0, 0] == 255 and out[0, 0, 1] == 0
    gray16 = Image.fromarray(np.full((3, 3), 65535, dtype=np.uint16))
    path = _save(tmp_path, gray16, "g16.png")
    np.testing.assert_array_equal(images.load_image(path), np.full((3, 3, 3), 255, np.uint8))


def test_float_images_in_unit_range_are_scaled(tmp_path):
    path = _save(tmp_path, Image.fromarray(np.full((2, 3), 0.5, dtype=np.float32)), "f.tif")
    np.testing.assert_array_equal(images.load_image(path), np.full((2, 3, 3), 128, np.uint8))


def test_too_many_pixels_refused_with_clear_message(tmp_path):
    path = _save(tmp_path, Image.new("RGB", (100, 100)), "big.png")
    with pytest.raises(ValueError, match="limit"):
        images.load_image(path, max_pixels=5000)


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="not an image in a supported format"):
        images.load_image(bad)
    with pytest.raises(ValueError, match="no such"):
        images.load_image(tmp_path / "missing.png")


def test_mask_white_selects_and_size_is_checked(tmp_path):
    m = np.zeros((5, 6), dtype=np.uint8)
    m[1:3, 2:4] = 255
    path = _save(tmp_path, Image.fromarray(m), "m.png")
    mask = images.load_mask(path, (5, 6))
    assert mask.dtype == bool and mask.sum() == 4 and mask[1, 2]
    with pytest.raises(ValueError, match="same size"):
        images.load_mask(path, (6, 6))


def test_mask_transparent_pixels_are_unselected(tmp_path):
    rgba = np.full((2, 2, 4), 255, dtype=np.uint8)
    rgba[0, 0, 3] = 0
    path = _save(tmp_path, Image.fromarray(rgba, "RGBA"), "m.png")
    mask = images.load_mask(path)
    assert not mask[0, 0] and mask[1, 1]


def test_save_failure_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        images.save_image(tmp_path / "out.png", np.zeros((2, 2, 4), np.float32))
    with pytest.raises(ValueError, match="format"):
        images.save_image(tmp_path / "out.xyz", np.zeros((2, 2, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_gif_frames(tmp_path):
    frames = [np.full((4, 4, 3), v, np.uint8) for v in (0, 128, 255)]
    path = images.save_frames(tmp_path / "a.gif", frames)
    with Image.open(path) as gif:
        assert gif.n_frames == 3
