"""Image-folder datasets and the dataset factory used by the training commands.

A folder with sub-folders is a labelled dataset (one class per sub-folder, classes in sorted
name order); a folder of images only is one class named after the folder. The folder is
scanned and validated up front, so a missing, empty or too-small dataset fails with one clear
error before any training work starts; unreadable files are skipped with a warning each and
counted in `dataset.skipped`.

Every file goes through the studio's one safe opener (``maskgit_studio.image_io.open_image``):
regular files only, the image formats of ``TRAINING_FORMATS`` only (an EPS file named .png never
reaches Ghostscript), and the pixel limit applied from the header (no decompression bombs).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from maskgit_studio.image_io import DECODE_ERRORS, SUPPORTED_FORMATS, open_image
from training.procedural import ProceduralScenes, image_to_tensor

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm"}
)
# The formats a training folder may hold: the studio's, plus GIF and PBM/PGM/PPM.
TRAINING_FORMATS = (*SUPPORTED_FORMATS, "GIF", "PPM")
# Errors PIL raises on broken files (SyntaxError: some plugins' header checks); the safe opener
# turns its refusals into ValueError.
_READ_ERRORS = DECODE_ERRORS


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> 8-bit RGB; transparency is composited over white.

    Handles palette (with or without transparency), RGBA/LA, CMYK, YCbCr/LAB/HSV, 1-bit,
    grayscale, and 16/32-bit integer or float grayscale (scaled to 8 bits by range).
    """
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("P", "PA", "RGBA", "LA", "La", "RGBa"):  # P: its transparency becomes alpha
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode.startswith("I") or mode == "F":
        array = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16") or array.max(initial=0) > 255:
            array = array / 257.0  # 16-bit range -> 8-bit
        elif mode == "F" and array.max(initial=0) <= 1.0:
            array = array * 255.0  # float images in [0, 1]
        gray = np.clip(np.round(array), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    return image.convert("RGB")


def load_image(path: Path, min_side: int | None = None) -> Image.Image:
    """Open `path` as 8-bit RGB with its EXIF orientation applied.

    Args:
        path: the image file.
        min_side: lets JPEG decode at a reduced scale whose sides stay >= min_side (fast).

    Raises:
        OSError and friends (see _READ_ERRORS) when the file cannot be decoded.
    """
    with open_image(path, formats=TRAINING_FORMATS) as image:
        if min_side is not None and image.format == "JPEG":
            image.draft("RGB", (min_side, min_side))
        image = ImageOps.exif_transpose(image)  # loads; returns a new image
        return to_rgb(image)


def _scan_folder(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, sorted, hidden files left out."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _verify(path: Path) -> str | None:
    """None if the file looks like a decodable image, else the reason it is not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's EXIF/ICC chatter is not our business
            with open_image(path, formats=TRAINING_FORMATS) as image:
                image.verify()
    except _READ_ERRORS as err:
        return f"{type(err).__name__}: {err}"
    return None


class ImageFolderDataset:
    """Images from a folder, as a torch Dataset: item -> ((3, S, S) float in [0, 1], label).

    Args:
        root: a folder of class sub-folders, or a flat folder of images (one class).
        image_size: output side S in pixels.
        train: True: shorter side resized to S * (1 + U(0, scale_jitter)), random S x S crop,
            random horizontal flip; False: shorter side resized to S, centre crop.
        seed: seed of the augmentation; item i in epoch e always gets the same crop.
        min_images: fewer readable images than this is an error.
        scale_jitter: extra random zoom for training crops.

    Raises:
        ValueError: missing folder, no images, or fewer than `min_images` readable ones.

    `skipped` counts unreadable files: those found by the up-front scan, plus any that fail
    to decode later in THIS process (DataLoader worker processes keep their own count; each
    skip is logged as a warning wherever it happens).
    """

    def __init__(
        self,
        root: str | Path,
        image_size: int = 128,
        train: bool = True,
        seed: int = 0,
        min_images: int = 8,
        scale_jitter: float = 0.1,
    ):
        self.root = Path(root).expanduser()
        if image_size < 8:
            raise ValueError(f"image_size must be >= 8, got {image_size}")
        self.image_size = image_size
        self.train = train
        self.seed = seed
        self.epoch = 0
        self.scale_jitter = scale_jitter
        self.skipped = 0
        self._bad: set[int] = set()
        self.class_names, self.files, self.labels = self._scan(min_images)
        log.info(
            "%s: %d images in %d classes (%d unreadable skipped)",
            self.root,
            len(self.files),
            len(self.class_names),
            self.skipped,
        )

    def _scan(self, min_images: int) -> tuple[tuple[str, ...], list[Path], list[int]]:
        root = self.root
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "does not exist"
            raise ValueError(f"Dataset folder {root} {what}")
        subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
        per_class = [(d.name, _scan_folder(d)) for d in subdirs]
        per_class = [(name, files) for name, files in per_class if files]
        if per_class:
            loose = [
                p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            ]
            if loose:
                log.warning("%s: %d images beside the class folders are ignored", root, len(loose))
            for d in subdirs:
                if d.name not in {name for name, _ in per_class}:
                    log.warning("%s: class folder %r has no images; left out", root, d.name)
        else:
            per_class = [(root.name or "images", _scan_folder(root))]
        names, files, labels = [], [], []
        for name, paths in per_class:
            good = [p for p in paths if self._check(p)]
            if good:
                names.append(name)
                files.extend(good)
                labels.extend([len(names) - 1] * len(good))
        if len(files) < min_images:
            found = "no images" if not files else f"only {len(files)} readable images"
            raise ValueError(
                f"Dataset folder {root}: {found} (need at least {min_images}; "
                f"{self.skipped} unreadable files skipped). Put images in it, one sub-folder "
                "per class, or in the folder itself for a single class."
            )
        return tuple(names), files, labels

    def _check(self, path: Path) -> bool:
        reason = _verify(path)
        if reason is not None:
            self.skipped += 1
            log.warning("Skipping unreadable image %s (%s)", path, reason)
        return reason is None

    def set_epoch(self, epoch: int) -> None:
        """Choose the augmentation stream (call once per epoch, like DistributedSampler)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.files)

    def image(self, index: int) -> tuple[np.ndarray, int]:
        """Item `index` as (uint8 (S, S, 3), label), augmented when training.

        A file that fails to decode now (it passed the up-front check) is skipped with a
        warning and counted; the next readable item is returned instead.
        """
        n = len(self.files)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} images")
        index %= n
        for step in range(n):
            i = (index + step) % n
            if i in self._bad:
                continue
            try:
                image = load_image(self.files[i], min_side=self.image_size)
            except _READ_ERRORS as err:
                self._bad.add(i)
                self.skipped += 1
                log.warning(
                    "Skipping unreadable image %s (%s: %s)", self.files[i], type(err).__name__, err
                )
                continue
            rng = np.random.default_rng([self.seed, self.epoch, i])
            return self._crop(image, rng), self.labels[i]
        raise RuntimeError(f"Dataset folder {self.root}: no image could be read")

    def _crop(self, image: Image.Image, rng: np.random.Generator) -> np.ndarray:
        """Resize the shorter side, crop S x S (random or centre), maybe flip: -> (S, S, 3)."""
        size = self.image_size
        target = size * (1.0 + rng.uniform(0.0, self.scale_jitter)) if self.train else size
        w, h = image.size
        k = target / min(w, h)
        nw, nh = max(size, round(w * k)), max(size, round(h * k))
        image = image.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=3.0)
        if self.train:
            left, top = int(rng.integers(0, nw - size + 1)), int(rng.integers(0, nh - size + 1))
        else:
            left, top = (nw - size) // 2, (nh - size) // 2
        array = np.array(image.crop((left, top, left + size, top + size)))  # writable
        if self.train and rng.random() < 0.5:
            array = array[:, ::-1]
        return np.ascontiguousarray(array)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.image(index)
        return image_to_tensor(image), label


def make_dataset(
    spec: str | Path,
    image_size: int = 128,
    train: bool = True,
    seed: int = 0,
    **kwargs,
) -> ProceduralScenes | ImageFolderDataset:
    """Build a dataset from a command-line style spec.

    Args:
        spec: "procedural", "procedural:SEED" (SEED overrides `seed`), or a folder path.
        image_size: output side in pixels.
        train: training (augmented / training stream) or evaluation (centre crop / held-out
            stream).
        seed: dataset seed.
        **kwargs: passed on (ProceduralScenes: length; ImageFolderDataset: min_images,
            scale_jitter).

    Raises:
        ValueError: a bad spec, or a folder that does not hold a usable dataset.
    """
    text = str(spec)
    if text == "procedural" or text.startswith("procedural:"):
        if ":" in text:
            value = text.split(":", 1)[1]
            if not value.isdigit():
                raise ValueError(f"Bad dataset spec {text!r}: expected procedural:SEED, SEED >= 0")
            seed = int(value)
        return ProceduralScenes(image_size=image_size, seed=seed, train=train, **kwargs)
    return ImageFolderDataset(text, image_size=image_size, train=train, seed=seed, **kwargs)
