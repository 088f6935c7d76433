"""Image and mask files for the engine's users (CLI, GUI): see :mod:`maskgit_studio.image_io`.

The one safe opener, the one mask reader and the atomic image writer live in ``image_io`` (no
torch), so the editor reads masks and project images with exactly the same code.
"""

from __future__ import annotations

from ..image_io import (
    DECODE_ERRORS,
    FORMAT_NAMES,
    MAX_FILE_BYTES,
    MAX_PIXELS,
    SUPPORTED_FORMATS,
    frames_writer,
    image_writer,
    load_image,
    load_mask,
    mask_from_image,
    open_image,
    save_frames,
    save_image,
    to_rgb_array,
)

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
