"""Screenshot of the real studio window (offscreen by default; under Xvfb it goes through a
real X server: ``xvfb-run -a python scripts/screenshot.py --platform xcb ...``).

    python scripts/screenshot.py --out docs/screenshot.png [--model PATH] [--image PATH]
        [--scene edit|variations|running|outpaint|history] [--gif docs/live-decode.gif]
        [--platform offscreen|xcb] [--size 1440x900]

Scenes: "edit" paints a mask and draws a box (nothing run); "variations" runs an inpaint with
four variations and shows them pending with the step viewer filled; "running" grabs the live
preview in the middle of a run; "outpaint" shows a pending canvas growth; "history" runs an
inpaint, keeps it, branches from one of its steps and runs again, so the History panel shows a
tree and the Steps panel a branch with its parent's steps; "generate" makes a picture of a class
on the blank canvas (with ``--gif``: every token appearing).
``--gif`` also records the canvas at every step of the last run (a live decode).
Without --model the bundled default is used; without one, a random-weight model with the
default recipe's architecture is built (its pictures are noise, but every widget is real).
The window's settings live in a scratch folder (never the user's); the first-run hint is left
out unless ``--hint``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

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
        "--scene",
        default="variations",
        choices=["edit", "variations", "running", "outpaint", "history", "generate"],
    )
    parser.add_argument("--size", default="1440x900")
    parser.add_argument("--gif", default=None, help="also record the last run's steps as a GIF")
    parser.add_argument("--platform", default=None, help="Qt platform (default: offscreen)")
    parser.add_argument("--hint", action="store_true", help="show the first-run hint")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many s")
    args = parser.parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = args.platform or os.environ.get("QT_QPA_PLATFORM", "offscreen")

    import torch
    from PySide6.QtCore import QSettings, Qt, QTimer

    from maskgit_studio.engine.model_store import bundled_model_path
    from maskgit_studio.engine.session import EngineSession
    from maskgit_studio.gui.app import create_app
    from maskgit_studio.gui.main_window import MainWindow
    from maskgit_studio.gui.qimage import to_array

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    scratch = Path(tempfile.mkdtemp(prefix="mgs-shot-"))
    model = args.model or bundled_model_path() or random_model(scratch)
    image = args.image
    if image is None:
        image = str(scratch / "landscape.png")
        Image.fromarray(sample_scene()).save(image)
    app = create_app()
    settings = QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("hints/first_run_shown", not args.hint)
    window = MainWindow(EngineSession(model), settings, scratch)
    window.ask_hook = lambda kind, text: {
        "recover": "later",
        "class": "1",
        "branch": "1,7,3.0",
    }.get(kind, "discard")
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    window.start(None if args.scene == "generate" else image)
    gate = threading.Event()
    frames: list[np.ndarray] = []
    paced = threading.Event()  # the worker waits for each step's frame (GIF recording)
    state = {"stage": 0, "code": 1}

    def stage() -> None:
        blank = args.scene == "generate"
        if window.doc is None or window.controller.busy or window.info is None:
            return QTimer.singleShot(50, stage)
        if window.doc.source is None and not blank:
            return QTimer.singleShot(50, stage)
        if blank:
            window.params.steps.setValue(12)
            window.params.class_picker.set_class(0)
            window.controller.step.connect(on_step)
            window.run_current()
            if args.gif:
                window.controller.job.worker.step.connect(pace, Qt.ConnectionType.DirectConnection)
            return QTimer.singleShot(200, wait_done)
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
        window.params.steps.setValue(12)
        if args.scene == "history":
            return history_stage()
        run_last()

    def history_stage() -> None:
        """An inpaint (kept), a branch from its 5th step, then the run the picture shows."""
        step = state["stage"]
        if window.controller.busy:
            return QTimer.singleShot(100, history_stage)
        state["stage"] += 1
        if step == 0:
            window.params.variations.setValue(2)
            window.run_current()
        elif step == 1:
            window.accept()
            window.viewer.slider.setValue(4)
            window.viewer.branch_button.click()
        elif step == 2:
            doc = window.doc
            rows, cols = doc.grid_shape
            doc.clear_mask()
            doc.paint([(r, c) for r in range(1, 3) for c in range(cols - 5, cols - 2)])
            return run_last()
        QTimer.singleShot(100, history_stage)

    def run_last() -> None:
        window.params.variations.setValue(4)
        window.controller.step.connect(on_step)
        window.run_current()
        worker = window.controller.job.worker
        if args.scene == "running":
            worker.step.connect(hold, Qt.ConnectionType.DirectConnection)  # pause mid-run
        else:
            if args.gif:
                worker.step.connect(pace, Qt.ConnectionType.DirectConnection)
            QTimer.singleShot(200, wait_done)

    def hold(step) -> None:  # worker thread
        if step.index >= 6:
            gate.wait(30)

    def pace(step) -> None:  # worker thread: one frame per step
        paced.clear()
        paced.wait(10)

    def on_step(step) -> None:
        if args.scene == "running" and step.index >= 6 and not gate.is_set():
            QTimer.singleShot(400, shoot)
        elif args.gif:
            QTimer.singleShot(80, record)

    def record() -> None:
        frames.append(canvas_frame())
        paced.set()

    def canvas_frame() -> np.ndarray:
        """The picture on the canvas (the live decode), at most 720 px wide."""
        canvas = window.canvas
        shown = canvas.mapFromScene(canvas.image_item.sceneBoundingRect()).boundingRect()
        area = shown.adjusted(-8, -8, 8, 8).intersected(canvas.viewport().rect())
        picture = Image.fromarray(to_array(canvas.viewport().grab(area).toImage()))
        if picture.width > 720:
            picture = picture.resize((720, round(picture.height * 720 / picture.width)))
        return np.asarray(picture)

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
        if args.gif and frames:
            frames.append(canvas_frame())
            pictures = [Image.fromarray(f).quantize(96) for f in frames]
            durations = [250] * (len(pictures) - 1) + [2000]
            pictures[0].save(
                args.gif, save_all=True, append_images=pictures[1:], duration=durations, loop=0
            )
            print(f"wrote {args.gif} ({len(frames)} frames)")
        state["code"] = 0
        finish()

    def finish() -> None:
        gate.set()
        paced.set()
        window.controller.shutdown()
        window.files.close()
        app.quit()

    def give_up() -> None:
        print(f"gave up after {args.timeout:.0f} s", file=sys.stderr)
        finish()

    QTimer.singleShot(100, stage)
    QTimer.singleShot(int(args.timeout * 1000), give_up)
    app.exec()
    return state["code"]


if __name__ == "__main__":
    sys.exit(main())
