"""Reconstruction sheet: held-out procedural scenes and what each model's tokenizer makes of them.

One row per scene: the original, then each model's encode-decode, side by side and enlarged
(nearest neighbour, so blur and grid artifacts show as they are). Used to compare a decoder
before and after the decoder stage:

    python scripts/reconstruction_sheet.py --model runs/x/model-plain.safetensors \
        --model runs/x/model.safetensors --label plain --label sharpened --out sheet.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from maskgit_studio.engine.checkpoint import load_bundle  # noqa: E402
from training.procedural import ProceduralScenes  # noqa: E402

FIRST_INDEX = 20_000_000  # held-out scenes beyond every training and evaluation stream


def reconstructions(path: Path, images: torch.Tensor) -> torch.Tensor:
    """(N, 3, S, S) in [0, 1] -> the bundle's tokenizer's encode-decode, same shape."""
    tokenizer = load_bundle(path).tokenizer.float().eval()
    with torch.no_grad():
        return tokenizer.decode_indices(tokenizer.encode_to_indices(images))


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, action="append", required=True)
    parser.add_argument("--label", action="append", default=None)
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--zoom", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    labels = args.label or [p.stem for p in args.model]
    if len(labels) != len(args.model):
        parser.error("give one --label per --model (or none)")
    size = load_bundle(args.model[0]).image_size
    scenes = ProceduralScenes(image_size=size, train=False, length=2**31 - 1)
    images = torch.stack(
        [
            torch.from_numpy(scenes.render(FIRST_INDEX + i)[0]).permute(2, 0, 1).float() / 255
            for i in range(args.scenes)
        ]
    )
    columns = [images] + [reconstructions(p, images) for p in args.model]
    tile, header = size * args.zoom, 22
    sheet = Image.new(
        "RGB", (len(columns) * (tile + 4) + 4, header + args.scenes * (tile + 4)), (32, 32, 36)
    )
    draw = ImageDraw.Draw(sheet)
    for col, title in enumerate(["original", *labels]):
        draw.text((4 + col * (tile + 4) + 4, 5), title, fill=(235, 235, 235))
    for row in range(args.scenes):
        for col, batch in enumerate(columns):
            part = Image.fromarray(to_uint8(batch[row])).resize(
                (tile, tile), Image.Resampling.NEAREST
            )
            sheet.paste(part, (4 + col * (tile + 4), header + row * (tile + 4)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
