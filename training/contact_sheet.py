"""Contact sheets: a grid of dataset samples with class-name captions, saved as PNG.

`preview_data` is what `maskgit-train preview-data` calls so a person can look at the data
before spending hours training on it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from training.data import make_dataset

log = logging.getLogger(__name__)

CAPTION_HEIGHT = 14
GAP = 2
BACKGROUND = (24, 24, 28)
TEXT = (236, 236, 236)


def contact_sheet(
    images: Sequence[np.ndarray], captions: Sequence[str], columns: int | None = None
) -> Image.Image:
    """Lay images out in a grid with a caption strip under each.

    Args:
        images: N uint8 arrays (H, W, 3), all the same shape.
        captions: N strings (cut to fit the tile width).
        columns: tiles per row; default ceil(sqrt(N)) within [8, 16] (never more than N).

    Returns:
        An RGB image of rows x columns tiles.
    """
    if not images or len(images) != len(captions):
        raise ValueError(
            f"need N >= 1 images and N captions, got {len(images)} and {len(captions)}"
        )
    h, w = images[0].shape[:2]
    if any(im.shape != images[0].shape for im in images):
        raise ValueError("all images of a contact sheet must have the same shape")
    n = len(images)
    cols = columns or min(n, 16, max(8, math.ceil(math.sqrt(n))))
    rows = math.ceil(n / cols)
    tile_h = h + CAPTION_HEIGHT
    sheet = Image.new("RGB", (cols * (w + GAP) + GAP, rows * (tile_h + GAP) + GAP), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for k, (image, caption) in enumerate(zip(images, captions, strict=True)):
        x = GAP + (k % cols) * (w + GAP)
        y = GAP + (k // cols) * (tile_h + GAP)
        sheet.paste(Image.fromarray(np.ascontiguousarray(image[..., :3])), (x, y))
        text = caption
        while text and draw.textlength(text, font=font) > w - 2:
            text = text[:-1]  # cut long names to the tile width
        draw.text((x + 1, y + h + 1), text, fill=TEXT, font=font)
    return sheet


def preview_data(
    out_path: str | Path,
    dataset: str | Path = "procedural",
    count: int = 64,
    seed: int = 0,
    image_size: int = 128,
    train: bool = True,
    columns: int | None = None,
) -> Path:
    """Write a PNG contact sheet of `count` samples of a dataset, captioned with class names.

    Args:
        out_path: the PNG to write (parent folders are created).
        dataset: a `make_dataset` spec: "procedural", "procedural:SEED" or a folder path.
        count: number of samples shown.
        seed: dataset seed (also picks which folder images are shown).
        image_size: sample side in pixels.
        train: show training samples (with augmentation) or evaluation ones.
        columns: tiles per row (default: about square).

    Returns:
        The path written.

    Raises:
        ValueError: a bad count or dataset (see make_dataset).
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    data = make_dataset(dataset, image_size=image_size, train=train, seed=seed)
    n = len(data)
    if str(dataset).startswith("procedural"):
        indices = list(range(min(count, n)))  # consecutive items cover every class evenly
    else:
        order = np.random.default_rng(seed).permutation(n)
        indices = sorted(order[: min(count, n)].tolist())
    images, captions = [], []
    for i in indices:
        image, label = data.image(i)
        images.append(image)
        captions.append(data.class_names[label])
    sheet = contact_sheet(images, captions, columns=columns)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    skipped = getattr(data, "skipped", 0)
    log.info(
        "Wrote %s: %d samples of %s (%d classes%s)",
        out,
        len(images),
        dataset,
        len(data.class_names),
        f", {skipped} unreadable files skipped" if skipped else "",
    )
    return out
