"""Write an inpainting sheet of a model: one row per class of held-out procedural scenes.

Each row: the original | the centre box (the middle half of the token grid) greyed out | N
inpaints of that box with the row's class and different seeds. The scenes come from indices far
beyond any training range, so the model has never seen them.

python scripts/inpaint_sheet.py --model default --out assets/default-model-inpainting.png
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from maskgit_studio.engine.session import EngineSession
from training.procedural import ProceduralScenes

SHEET_SEED = 4242  # held-out stream seed used by nothing else


def centre_box_mask(size: int) -> np.ndarray:
    """(size, size) bool: the middle half of the image along each side."""
    mask = np.zeros((size, size), dtype=bool)
    mask[size // 4 : size - size // 4, size // 4 : size - size // 4] = True
    return mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--out", required=True)
    parser.add_argument("--variations", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    session = EngineSession(args.model, device="cpu")
    info, base = session.info, session.recommended_sampler()
    size = info.image_size
    scenes = ProceduralScenes(image_size=size, seed=SHEET_SEED, length=1000, train=False)
    mask = centre_box_mask(size)
    label_w, rows = 96, []
    for class_id, name in enumerate(info.class_names):
        index = next(i for i in range(len(scenes)) if scenes.label_of(i) == class_id)
        original, _ = scenes.image(index)
        shown = original.copy()
        shown[mask] = (shown[mask] // 3 + 85).astype(np.uint8)
        sampler = base.replace(seed=args.seed + class_id)
        run = session.inpaint(original, mask, class_id, sampler, args.variations, previews=False)
        result = run.run_to_end()
        label = Image.new("RGB", (label_w, size), (24, 24, 28))
        ImageDraw.Draw(label).text((6, size // 2 - 6), name, fill=(230, 230, 230))
        rows.append(np.concatenate([np.asarray(label), original, shown, *result.images], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out} ({base})")


if __name__ == "__main__":
    main()
