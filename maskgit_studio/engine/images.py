"""Image and mask files <-> numpy arrays (Pillow).

Loading honours EXIF orientation and converts every mode to 8-bit RGB:
- palette ("P") images go through RGBA so their transparency is kept until flattening;
- images with alpha ("RGBA", "LA", "PA", "RGBa") are flattened over white (MaskGIT has no alpha);
- CMYK, YCbCr, LAB, HSV use Pillow's conversion to RGB;
- 16-bit and 32-bit integer images ("I;16*", "I") are scaled 0..65535 -> 0..255, float images
  ("F") in [0, 1] are scaled to 0..255 (others clipped to 0..255), 1-bit images map to
  black/white.
Images over ``MAX_PIXELS`` pixels are refused before decoding (a clear ValueError), which also
guards against decompression bombs. Saving is atomic: a temporary file in the target folder is
renamed over the target only once it is complete.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

# 40 megapixels (e.g. 8000 x 5000): a few float32 copies of the working windows stay small,
# and K variations of the document (K x 120 MB at the limit) still fit a laptop's memory.
MAX_PIXELS = 40_000_000

_SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}


def open_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open an image lazily, refusing unreadable files and ones over ``max_pixels``.

    Raises:
        ValueError: missing/unreadable file or too many pixels (one-line message).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such image file: {path}")
    try:
        with warnings.catch_warnings():
            # Our own limit is stricter; Pillow's bomb warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        raise ValueError(f"cannot read {path} as an image ({exc.__class__.__name__})") from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ValueError(
            f"{path.name} is {width}x{height} = {width * height / 1e6:.1f} MP; the limit is "
            f"{max_pixels / 1e6:.0f} MP (scale it down first)"
        )
    return image


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Convert a Pillow image of any mode (after EXIF orientation) to (H, W, 3) uint8 RGB."""
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image, dtype=np.uint8).copy()
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image).astype(np.float64)
        gray = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        if values.size and values.max() <= 1.0:  # float images are usually stored in [0, 1]
            values = values * 255.0
        gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.uint8).copy()
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def load_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB (see the module docstring for conversions).

    Raises:
        ValueError: unreadable, unsupported or too large (one-line message).
    """
    image = open_image(path, max_pixels)
    try:
        with image:
            image.load()
            return to_rgb_array(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ValueError(f"cannot decode {Path(path)}: {exc}") from exc


def load_mask(
    path: str | os.PathLike, shape_hw: tuple[int, int] | None = None, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Read a mask image: white (luminance >= 128 after flattening over black) = selected.

    Transparent pixels count as unselected (a mask painted on a transparent layer works).

    Args:
        shape_hw: the (H, W) the mask must have (the image it belongs to), or None.

    Returns:
        (H, W) bool.
    """
    image = open_image(path, max_pixels)
    with image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ("P", "PA", "RGBA", "LA", "RGBa", "La"):
            rgba = image.convert("RGBA")
            black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            image = Image.alpha_composite(black, rgba)
        if image.mode.startswith("I;16") or image.mode in ("I", "F"):
            values = np.asarray(image).astype(np.float64)
            mask = values >= (32768 if image.mode != "F" else 128)
        else:
            mask = np.asarray(image.convert("L")) >= 128
    if shape_hw is not None and mask.shape != tuple(shape_hw):
        raise ValueError(
            f"mask is {mask.shape[1]}x{mask.shape[0]} but the image is "
            f"{shape_hw[1]}x{shape_hw[0]}; they must be the same size"
        )
    return mask


def save_image(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 RGB or (H, W) bool/uint8 array atomically.

    The format follows the suffix (PNG, JPEG, WebP, BMP, TIFF, GIF...). Nothing is left at
    ``path`` if writing fails.

    Raises:
        ValueError: unknown suffix or bad array.
    """
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the image format from {path.name!r}; use .png or .jpg")
    image = _array_to_image(array)
    return _atomic_write(path, lambda handle: image.save(handle, fmt, **_SAVE_OPTIONS.get(fmt, {})))


def save_frames(path: str | os.PathLike, frames: list[np.ndarray], duration_ms: int = 400) -> Path:
    """Write an animated GIF of (H, W, 3) uint8 frames atomically (loops forever)."""
    if not frames:
        raise ValueError("no frames to write")
    images = [_array_to_image(f) for f in frames]

    def write(handle):
        images[0].save(
            handle, "GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0
        )

    return _atomic_write(Path(path), write)


def _array_to_image(array: np.ndarray) -> Image.Image:
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if (
        array.dtype != np.uint8
        or array.ndim not in (2, 3)
        or (array.ndim == 3 and array.shape[2] != 3)
    ):
        raise ValueError(f"expected (H, W, 3) or (H, W) uint8, got {array.shape} {array.dtype}")
    return Image.fromarray(array)


def _atomic_write(path: Path, write) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"output folder does not exist: {folder}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a saved image is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.debug("wrote %s", path)
    return path


__all__ = [
    "MAX_PIXELS",
    "load_image",
    "load_mask",
    "open_image",
    "save_frames",
    "save_image",
    "to_rgb_array",
]
