"""Image-folder datasets: classes, conversions, EXIF, augmentation, bad files and folders."""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest
import torch
from PIL import Image

from training.contact_sheet import preview_data
from training.data import ImageFolderDataset, load_image, make_dataset
from training.procedural import ProceduralScenes

RED, BLUE = (230, 20, 20), (20, 20, 230)


def _save(path, colour, size=(40, 30), fmt="PNG"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format=fmt)
    return path


def _two_halves(width=48, height=32):
    """Left half red, right half blue: shows crops, flips and rotations."""
    array = np.zeros((height, width, 3), np.uint8)
    array[:, : width // 2] = RED
    array[:, width // 2 :] = BLUE
    return array


def _is(pixel, colour, tol=40):
    return np.abs(np.asarray(pixel, int) - colour).max() <= tol


@pytest.fixture
def class_folder(tmp_path):
    root = tmp_path / "pets"
    for k in range(5):
        _save(root / "dogs" / f"d{k}.png", BLUE)
        _save(root / "cats" / f"c{k}.jpg", RED, fmt="JPEG")
    return root


def test_classes_come_from_sorted_sub_folders(class_folder):
    ds = ImageFolderDataset(class_folder, image_size=16, train=False)
    assert ds.class_names == ("cats", "dogs")
    assert len(ds) == 10 and ds.skipped == 0
    for i in range(len(ds)):
        image, label = ds.image(i)
        assert image.shape == (16, 16, 3) and image.dtype == np.uint8
        assert _is(image[8, 8], RED if label == 0 else BLUE)
    tensor, label = ds[0]
    assert tensor.shape == (3, 16, 16) and tensor.dtype == torch.float32
    assert float(tensor.max()) <= 1.0


def test_flat_folder_is_one_class(tmp_path):
    root = tmp_path / "flowers"
    for k in range(8):
        _save(root / f"{k}.png", RED)
    ds = ImageFolderDataset(root, image_size=16)
    assert ds.class_names == ("flowers",)
    assert {ds.image(i)[1] for i in range(len(ds))} == {0}


def test_missing_empty_and_small_folders_are_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ImageFolderDataset(tmp_path / "nope")
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"empty.*no images"):
        ImageFolderDataset(tmp_path / "empty")
    for k in range(3):
        _save(tmp_path / "few" / f"{k}.png", RED)
    with pytest.raises(ValueError, match=r"only 3 readable images \(need at least 8"):
        ImageFolderDataset(tmp_path / "few")
    assert len(ImageFolderDataset(tmp_path / "few", min_images=3)) == 3


def test_corrupt_files_are_skipped_with_a_warning_and_counted(class_folder, caplog):
    (class_folder / "dogs" / "junk.png").write_bytes(b"this is not an image")
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    (class_folder / "cats" / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with caplog.at_level(logging.WARNING, logger="training.data"):
        ds = ImageFolderDataset(class_folder, image_size=16)
    assert ds.skipped == 2 and len(ds) == 10
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("junk.png" in m for m in warned) == 1
    assert sum("cut.png" in m for m in warned) == 1


def test_file_that_breaks_only_when_decoded_is_skipped_at_load(tmp_path, caplog):
    root = tmp_path / "set"
    for k in range(8):
        _save(root / f"{k}.png", RED)
    noise = np.random.default_rng(1).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="JPEG", quality=95)
    (root / "0_cut.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    ds = ImageFolderDataset(root, image_size=16, train=False)
    assert len(ds) == 9 and ds.skipped == 0  # the header is fine: passes the scan
    bad = [p.name for p in ds.files].index("0_cut.jpg")
    with caplog.at_level(logging.WARNING, logger="training.data"):
        image, _ = ds.image(bad)
    assert _is(image[8, 8], RED)  # the next readable image instead
    assert ds.skipped == 1 and any("0_cut.jpg" in r.getMessage() for r in caplog.records)


def test_exif_orientation_is_honoured(tmp_path):
    # stored landscape, left half red; orientation 6 = display rotated 90 degrees clockwise
    stored = Image.fromarray(_two_halves(48, 32))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, format="JPEG", quality=95, exif=exif)
    shown = load_image(path)
    assert shown.size == (32, 48)  # portrait now
    pixels = np.asarray(shown)
    assert _is(pixels[4, 16], RED) and _is(pixels[-5, 16], BLUE)  # left became top


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: Image.new("RGBA", (8, 8), (255, 0, 0, 0)), (255, 255, 255)),  # transparent
        (lambda: Image.new("RGBA", (8, 8), (0, 0, 255, 255)), (0, 0, 255)),
        (lambda: Image.new("LA", (8, 8), (0, 255)), (0, 0, 0)),
        (lambda: Image.new("CMYK", (8, 8), (0, 255, 255, 0)), (255, 0, 0)),
        (lambda: Image.new("L", (8, 8), 128), (128, 128, 128)),
        (lambda: Image.new("1", (8, 8), 1), (255, 255, 255)),
        (lambda: Image.fromarray(np.full((8, 8), 65535, np.uint16)), (255, 255, 255)),
        (lambda: Image.fromarray(np.full((8, 8), 32896, np.uint16)), (128, 128, 128)),
    ],
)
def test_modes_become_rgb(tmp_path, make, expected):
    image = make()
    path = tmp_path / ("x.tif" if image.mode == "CMYK" else "x.png")
    image.save(path)
    rgb = load_image(path)
    assert rgb.mode == "RGB"
    assert tuple(np.asarray(rgb)[4, 4]) == expected


def test_palette_with_transparency_goes_over_white(tmp_path):
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((0, 0), 0)
    path = tmp_path / "p.png"
    image.save(path, transparency=0)
    pixels = np.asarray(load_image(path))
    assert tuple(pixels[0, 0]) == (255, 255, 255) and tuple(pixels[4, 4]) == (255, 0, 0)


def test_training_crops_and_flips_vary_eval_is_centre_crop(tmp_path):
    root = tmp_path / "halves"
    root.mkdir()
    for k in range(8):
        Image.fromarray(_two_halves(48, 32)).save(root / f"{k}.png")
    train = ImageFolderDataset(root, image_size=16, train=True, seed=0)
    lefts = set()
    for epoch in range(12):
        train.set_epoch(epoch)
        image, _ = train.image(0)
        assert image.shape == (16, 16, 3)
        lefts.add("red" if _is(image[8, 0], RED) else "blue")
    assert lefts == {"red", "blue"}  # flipped sometimes
    train.set_epoch(3)
    assert np.array_equal(train.image(0)[0], train.image(0)[0])  # same epoch: same crop
    ev = ImageFolderDataset(root, image_size=16, train=False)
    image, _ = ev.image(0)  # 48x32 -> 24x16, centre 16 columns: red left, blue right
    assert _is(image[8, 1], RED) and _is(image[8, 14], BLUE)


def test_make_dataset_specs(class_folder):
    assert isinstance(make_dataset("procedural"), ProceduralScenes)
    ds = make_dataset("procedural:9", image_size=64, train=False)
    assert ds.seed == 9 and ds.image_size == 64 and ds.split == 1
    with pytest.raises(ValueError, match="procedural:SEED"):
        make_dataset("procedural:x")
    folder = make_dataset(class_folder, image_size=16)
    assert isinstance(folder, ImageFolderDataset) and folder.class_names == ("cats", "dogs")
    with pytest.raises(ValueError, match="does not exist"):
        make_dataset(class_folder / "missing")


def test_preview_of_a_folder_dataset(class_folder, tmp_path):
    out = preview_data(tmp_path / "folder.png", class_folder, count=6, image_size=32)
    sheet = np.asarray(Image.open(out))
    assert sheet.shape == (32 + 14 + 4, 6 * 34 + 2, 3)
