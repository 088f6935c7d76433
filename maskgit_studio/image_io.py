"""Image and mask files <-> numpy arrays (Pillow), through one safe opener.

Opening: only the formats the studio supports are ever decoded (``SUPPORTED_FORMATS``: PNG,
JPEG, WebP, BMP, TIFF), whatever the file is called, so an EPS file named ``.png`` never reaches
Ghostscript. The path must be a regular file (a FIFO, a device or a symlink to ``/dev/zero`` is
refused at once) of at most ``MAX_FILE_BYTES``; images over ``MAX_PIXELS`` pixels are refused
from their header, before decoding (decompression bombs). Every failure is one ValueError.
The same opener reads images, masks, project members (bytes) and training data.

Loading honours EXIF orientation and converts every mode to 8-bit RGB:
- palette ("P") images go through RGBA so their transparency is kept until flattening;
- images with alpha ("RGBA", "LA", "PA", "RGBa") are flattened over white (MaskGIT has no alpha);
- CMYK, YCbCr, LAB, HSV use Pillow's conversion to RGB;
- 16-bit and 32-bit integer images ("I;16*", "I") are scaled 0..65535 -> 0..255, float images
  ("F") in [0, 1] are scaled to 0..255 (others clipped to 0..255), 1-bit images map to
  black/white.

Masks (:func:`load_mask`, the one reader of the CLI and the studio): white = selected. An
opaque mask (no alpha, or alpha 255 everywhere) is read by luminance. Alpha is used only when it
carries information: transparent pixels are unselected, and when every visible pixel is dark
(black paint on a transparent layer) the alpha itself is the mask.

Saving is atomic (``safe_io.atomic_write``): a temporary file in the target folder is renamed
over the target only once it is complete; it keeps the mode of the file it replaces and
honours the umask.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .plain_errors import plain_reason
from .safe_io import UnreadableFile, atomic_write, open_regular

log = logging.getLogger(__name__)

# 40 megapixels (e.g. 8000 x 5000): a few float32 copies of the working windows stay small,
# and K variations of the document (K x 120 MB at the limit) still fit a laptop's memory.
MAX_PIXELS = 40_000_000
# The largest image file read at all (a 40 MP 16-bit RGBA TIFF is 320 MB).
MAX_FILE_BYTES = 512 * 2**20
# The formats the studio opens (Pillow format ids); nothing else is ever decoded.
SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF")
FORMAT_NAMES = "PNG, JPEG, WebP, BMP or TIFF"

_SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}
# What Pillow's plugins raise on hostile data (header checks, truncation, bad tables, bombs).
DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    MemoryError,
    Image.DecompressionBombError,
)

ImageSource = str | os.PathLike | bytes


@contextmanager
def open_image(
    source: ImageSource,
    max_pixels: int = MAX_PIXELS,
    *,
    name: str | None = None,
    formats: tuple[str, ...] = SUPPORTED_FORMATS,
) -> Iterator[Image.Image]:
    """Open an image lazily (header only), refusing anything unsafe; closed on exit.

    Args:
        source: a path, or the bytes of an image file (a project member).
        max_pixels: refuse images with more pixels than this.
        name: what to call the image in messages (default: the file name).
        formats: the Pillow formats that may be decoded.

    Raises:
        ValueError: missing, not a regular file, too large, not a supported format, or too
            many pixels (one-line message).
    """
    if isinstance(source, bytes):
        label = name or "the image"
        handle = io.BytesIO(source)
    else:
        label = name or Path(source).name
        if not os.path.lexists(source):
            raise ValueError(f"no such image file: {source}")
        handle = open_regular(source, "image file", MAX_FILE_BYTES)
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # our limit is stricter; EXIF chatter is noise
                image = Image.open(handle, formats=list(formats))
        except UnidentifiedImageError:
            raise ValueError(
                f"{label} is not an image in a supported format ({FORMAT_NAMES})"
            ) from None
        except DECODE_ERRORS as exc:
            raise ValueError(f"cannot read {label} as an image ({_why(exc)})") from None
        with image:
            width, height = image.size
            if width < 1 or height < 1:
                raise ValueError(f"{label} is {width}x{height}: it has no pixels")
            if width * height > max_pixels:
                raise ValueError(
                    f"{label} is {width}x{height} = {width * height / 1e6:.1f} MP; the limit is "
                    f"{max_pixels / 1e6:.0f} MP (scale it down first)"
                )
            yield image
    finally:
        handle.close()


def _why(exc: BaseException) -> str:
    """Why decoding failed, in plain words (never the exception's class name)."""
    return plain_reason(exc)[:160]


@contextmanager
def _decoding(label: str) -> Iterator[None]:
    """Turn whatever a plugin raises while decoding into one ValueError naming the image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except UnreadableFile:
        raise
    except DECODE_ERRORS as exc:
        raise ValueError(f"cannot decode {label} ({_why(exc)})") from None


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


def load_image(
    source: ImageSource,
    max_pixels: int = MAX_PIXELS,
    *,
    name: str | None = None,
    formats: tuple[str, ...] = SUPPORTED_FORMATS,
) -> np.ndarray:
    """Read an image (a path, or an image file's bytes) as (H, W, 3) uint8 RGB.

    See the module docstring for the conversions.

    Raises:
        ValueError: unreadable, unsupported or too large (one-line message).
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "the image")
    with open_image(source, max_pixels, name=name, formats=formats) as image, _decoding(label):
        image.load()
        return to_rgb_array(image)


def load_mask(
    source: ImageSource,
    shape_hw: tuple[int, int] | None = None,
    max_pixels: int = MAX_PIXELS,
    *,
    name: str | None = None,
) -> np.ndarray:
    """Read a mask image: white = selected (see the module docstring for alpha).

    Args:
        shape_hw: the (H, W) the mask must have (the image it belongs to), or None.

    Returns:
        (H, W) bool.

    Raises:
        ValueError: unreadable, unsupported, too large, or not ``shape_hw``.
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "the mask")
    with open_image(source, max_pixels, name=name) as image, _decoding(label):
        mask = mask_from_image(ImageOps.exif_transpose(image))
    if shape_hw is not None and mask.shape != tuple(shape_hw):
        raise ValueError(
            f"the mask {label} is {mask.shape[1]}x{mask.shape[0]} px but the image is "
            f"{shape_hw[1]}x{shape_hw[0]} px; they must be the same size"
        )
    return mask


def mask_from_image(image: Image.Image) -> np.ndarray:
    """(H, W) bool selection of a decoded mask image (white = selected; see the module doc)."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image).astype(np.float64)
        return values >= (32768 if mode != "F" else 128)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if not has_alpha:
        return np.asarray(image.convert("L")) >= 128
    rgba = np.asarray(image.convert("RGBA"))
    alpha = rgba[..., 3]
    bright = np.asarray(Image.fromarray(rgba[..., :3], "RGB").convert("L")) >= 128
    if alpha.min() == 255:  # opaque: the alpha channel says nothing
        return bright
    visible = alpha >= 128
    if not (bright & visible).any():  # dark paint on a transparent layer: alpha is the mask
        return visible
    return bright & visible


def image_writer(path: str | os.PathLike, array: np.ndarray) -> Callable[[BinaryIO], object]:
    """A function writing ``array`` to an open file in the format of ``path``'s suffix.

    Raises:
        ValueError: unknown suffix or bad array (at once, before anything is written).
    """
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the image format from {path.name!r}; use .png or .jpg")
    image = _array_to_image(array)
    return lambda handle: image.save(handle, fmt, **_SAVE_OPTIONS.get(fmt, {}))


def frames_writer(frames: list[np.ndarray], duration_ms: int = 400) -> Callable[[BinaryIO], object]:
    """A function writing an animated GIF of (H, W, 3) uint8 frames (loops forever)."""
    if not frames:
        raise ValueError("no frames to write")
    images = [_array_to_image(f) for f in frames]
    return lambda handle: images[0].save(
        handle, "GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0
    )


def save_image(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 RGB or (H, W) bool/uint8 array atomically.

    The format follows the suffix (PNG, JPEG, WebP, BMP, TIFF, GIF...). Nothing is left at
    ``path`` if writing fails; a replaced file keeps its mode, a new one honours the umask.

    Raises:
        ValueError: unknown suffix or bad array.
        OSError: the write failed (disk full...); ``path`` is unchanged.
    """
    write = image_writer(path, array)
    _check_folder(Path(path))
    return atomic_write(path, write)


def save_frames(path: str | os.PathLike, frames: list[np.ndarray], duration_ms: int = 400) -> Path:
    """Write an animated GIF of (H, W, 3) uint8 frames atomically (loops forever)."""
    write = frames_writer(frames, duration_ms)
    _check_folder(Path(path))
    return atomic_write(path, write)


def _check_folder(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"output folder does not exist: {folder}")


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


__all__ = [
    "DECODE_ERRORS",
    "FORMAT_NAMES",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "frames_writer",
    "image_writer",
    "load_image",
    "load_mask",
    "mask_from_image",
    "open_image",
    "save_frames",
    "save_image",
    "to_rgb_array",
]
