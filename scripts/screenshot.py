"""Screenshot of the real studio window (offscreen by default; set QT_QPA_PLATFORM=xcb under
Xvfb to go through a real X server).

    python scripts/screenshot.py --out docs/studio.png [--model PATH] [--image PATH]
        [--scene edit|variations|running|outpaint]

Scenes: "edit" paints a mask and draws a box (nothing run); "variations" runs an inpaint with
four variations and shows them pending with the step viewer filled; "running" grabs the live
preview in the middle of a run; "outpaint" shows a pending canvas growth.
Without --model the bundled default is used; without one, a random-weight model with the
default recipe's architecture is built (its pictures are noise, but every widget is real).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def sample_scene(height: int = 384, width: int = 512) -> np.ndarray:
    """A small landscape: sky gradient, sun, hills, a lake (H, W, 3) uint8."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = yy / height
    img = np.stack([70 + 120 * t, 130 + 90 * t, 230 - 40 * t], axis=2)
    sun = (yy - 0.25 * height) ** 2 + (xx - 0.72 * width) ** 2 < (0.08 * height) ** 2
    img[sun] = (255, 214, 120)
    hill = yy > height * (0.58 - 0.12 * np.sin(xx / width * 5.5) * np.cos(xx / width * 2.1))
    img[hill] = np.stack([60 + 40 * t, 120 + 30 * t, 60 + 10 * t], axis=2)[hill]
    lake = (yy > 0.78 * height) & (
        np.abs(xx - 0.35 * width) < 0.2 * width + (yy - 0.78 * height) * 0.8
    )
    img[lake] = np.stack([40 + 30 * t, 90 + 40 * t, 150 + 30 * t], axis=2)[lake]
    return img.clip(0, 255).astype(np.uint8)


def random_model(folder: Path, recipe: str = "default") -> Path:
    """A random-weight model with the architecture of a training recipe (the default model's
    shape and compute cost, without its training)."""
    import torch

    from maskgit_studio.engine.checkpoint import save_bundle
    from maskgit_studio.engine.transformer import MaskGitTransformer
    from maskgit_studio.engine.vqgan import Tokenizer
    from training.procedural import CLASS_NAMES
    from training.recipes import load_recipe, tokenizer_config, transformer_config

    torch.manual_seed(0)
    config = load_recipe(recipe)
    tokenizer = Tokenizer(tokenizer_config(config)).eval()
    transformer = MaskGitTransformer(transformer_config(config, len(CLASS_NAMES))).eval()
    path = folder / f"random-{recipe}.safetensors"
    return save_bundle(
        path, tokenizer, transformer, list(CLASS_NAMES), {"recipe": f"{recipe} (random weights)"}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="studio.png")
    parser.add_argument("--model", default=None)
    parser.add_argument("--image", default=None)
    parser.add_argument(
        "--scene", default="variations", choices=["edit", "variations", "running", "outpaint"]
    )
    parser.add_argument("--size", default="1440x900")
    args = parser.parse_args(argv)

    import torch
    from PySide6.QtCore import QSettings, QTimer

    from maskgit_studio.engine.model_store import bundled_model_path
    from maskgit_studio.engine.session import EngineSession
    from maskgit_studio.gui.app import create_app
    from maskgit_studio.gui.main_window import MainWindow

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    scratch = Path(tempfile.mkdtemp(prefix="mgs-shot-"))
    model = args.model or bundled_model_path() or random_model(scratch)
    image = args.image
    if image is None:
        image = str(scratch / "landscape.png")
        Image.fromarray(sample_scene()).save(image)
    app = create_app()
    window = MainWindow(
        EngineSession(model), QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat), scratch
    )
    window.ask_hook = lambda kind, text: (
        "later" if kind == "recover" else ("1" if kind == "class" else "discard")
    )
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    window.start(image)
    gate = threading.Event()

    def stage() -> None:
        if window.doc is None or window.doc.source is None or window.controller.busy:
            QTimer.singleShot(50, stage)
            return
        doc = window.doc
        rows, cols = doc.grid_shape
        window.canvas.fit()
        for r in range(rows * 2 // 3, rows * 2 // 3 + 3):
            doc.paint([(r, c) for c in range(cols // 5, cols // 5 + 4)])
        if args.scene == "edit":
            from maskgit_studio.editor import Box

            c = doc.cell_size
            doc.add_box(Box(c * (cols * 3 // 5), c * 2, c * 3, c * 2, 1))
            window.set_tool("box")
            window.box_tool.select(0)
            return QTimer.singleShot(300, shoot)
        if args.scene == "outpaint":
            from maskgit_studio.editor import Growth

            window.set_tool("outpaint")
            doc.set_growth(Growth(right=max(2, cols // 4), top=1))
            window.canvas.fit()
            return QTimer.singleShot(300, shoot)
        window.params.variations.setValue(4)
        window.params.steps.setValue(12)
        window.controller.step.connect(on_step)
        window.run_current()
        if args.scene == "running":
            window.controller.job.worker.step.connect(hold)  # runs in the worker: pause mid-run
        else:
            QTimer.singleShot(200, wait_done)

    def hold(step) -> None:
        if step.index >= 6:
            gate.wait(30)

    def on_step(step) -> None:
        if args.scene == "running" and step.index >= 6 and not gate.is_set():
            QTimer.singleShot(400, shoot)

    def wait_done() -> None:
        if window.controller.busy:
            QTimer.singleShot(100, wait_done)
        else:
            window.browse(1)
            window.viewer.slider.setValue(4)
            QTimer.singleShot(300, shoot)

    def shoot() -> None:
        window.grab().save(args.out)
        print(f"wrote {args.out}")
        gate.set()
        window.controller.shutdown()
        window.files.close()
        app.quit()

    QTimer.singleShot(100, stage)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
