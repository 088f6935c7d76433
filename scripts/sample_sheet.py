"""Write a sample sheet of a model: one row per class, N seeded variations, recommended settings.

python scripts/sample_sheet.py --model default --out assets/default-model-samples.png
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from maskgit_studio.engine.session import EngineSession


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--out", required=True)
    parser.add_argument("--variations", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    session = EngineSession(args.model, device="cpu")
    info, base = session.info, session.recommended_sampler()
    label_w, rows = 96, []
    for class_id, name in enumerate(info.class_names):
        sampler = base.replace(seed=args.seed + class_id)
        result = session.generate(class_id, sampler, args.variations, previews=False).run_to_end()
        label = Image.new("RGB", (label_w, info.image_size), (24, 24, 28))
        ImageDraw.Draw(label).text((6, info.image_size // 2 - 6), name, fill=(230, 230, 230))
        rows.append(np.concatenate([np.asarray(label), *result.images], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out} ({base})")


if __name__ == "__main__":
    main()
