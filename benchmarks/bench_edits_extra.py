"""The side studies of bench_edits: the 4000x3000 photo, context sweep, solver comparison,
remove-object settings, the judge's Frechet distance, and the gallery."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import edit_metrics as em
import numpy as np
import torch
from bench_edits_cases import edit_bbox, make_case, scenes
from PIL import Image, ImageDraw

from maskgit_studio.engine import editing
from maskgit_studio.engine.editing_blend import poisson_blend
from maskgit_studio.engine.session import EngineSession
from training.judge import JudgeSettings, cache_key, load_judge, save_judge, train_judge
from training.metrics import frechet_distance
from training.procedural import CLASS_NAMES, NO_OBJECT, ProceduralScenes, render_scene

CACHE = Path.home() / ".cache" / "maskgit-studio"


# -- the photo -------------------------------------------------------------------------------
def photo_scale(session: EngineSession, sampler) -> dict:
    """A 200x160 px inpaint on a 4000x3000 photo (a 1024 px scene enlarged, with grain)."""
    scene, _ = scenes(1024).render(20_000_000)
    rng = np.random.default_rng(0)
    photo = np.asarray(Image.fromarray(scene).resize((4000, 3000), Image.Resampling.BICUBIC))
    photo = np.clip(photo + rng.normal(0, 4, photo.shape), 0, 255).astype(np.uint8)
    mask = np.zeros(photo.shape[:2], dtype=bool)
    mask[1400:1560, 1900:2100] = True
    info = session.info
    start = time.perf_counter()
    result = session.inpaint(photo, mask, None, sampler, previews=False).run_to_end()
    seconds = time.perf_counter() - start
    # The worst case over where the box falls on the cell grid.
    f, g = info.downsample_factor, info.grid_size
    worst = max(
        editing.auto_scale(photo.shape[:2], (1900 + dx, 1400 + dy, 200, 160), f, g)
        for dx in range(0, 4 * f * 4, 7)
        for dy in range(0, 4 * f * 4, 11)
    )
    unchanged = bool((result.images[0][~result.changed] == photo[~result.changed]).all())
    return {
        "scale": result.request["scale"],
        "worst_scale": worst,
        "document_scale": session.default_scale(4000, 3000),
        "seconds": seconds,
        "outside_bit_identical": unchanged,
    }


# -- context ---------------------------------------------------------------------------------
def context_sweep(session: EngineSession, sampler, size: int, first: int, n: int = 24) -> dict:
    """Fill quality against the context cells the window holds around the region.

    Each case (a box or a blob) is edited at scales 1..4, which give the window 0-3 cells of
    context per side. Error: the fill's blurred distance to what was there (layout and colour),
    divided by that case's mean over its scales, so that easy and hard cases weigh the same.
    """
    info = session.info
    out: dict[int, list[dict]] = {}
    for i in range(n):
        case = make_case(first + 500 + i, 3 * i + (i % 2), size)  # boxes and blobs
        runs = []
        for scale in (1, 2, 3, 4):
            cells = editing.pixel_mask_to_cells(case.mask, info.downsample_factor * scale)
            r0, c0, r1, c1 = editing.cells_bbox(cells)
            context = (info.grid_size - max(r1 - r0, c1 - c0)) // 2
            if context < 0:
                continue
            run = session.inpaint(
                case.image, case.mask, None, sampler.replace(seed=i), previews=False, scale=scale
            )
            result = run.run_to_end()
            scores = em.edit_scores(result.images[0], case.image, case.fill, result.changed)
            scores["fill_error"] = fill_error(result.images[0], case.image, case.fill)
            runs.append(scores | {"scale": scale, "context": context})
        mean = np.mean([r["fill_error"] for r in runs])
        for r in runs:
            r["relative_error"] = r["fill_error"] / max(mean, 1e-6)
            out.setdefault(r["context"], []).append(r)
    table = {}
    print("\ncontext cells per side -> fill (medians; relative error: 1 = the case's mean):")
    print(
        f"  {'context':>7s} {'n':>3s} {'rel.err':>7s} {'LF err':>7s} {'texture':>8s} {'step':>6s}"
    )
    for context in sorted(out):
        rows = out[context]
        keys = ("relative_error", "fill_error", "texture_ratio", "colour_step", "scale")
        table[context] = {k: float(np.nanmedian([r[k] for r in rows])) for k in keys}
        table[context]["cases"] = len(rows)
        t = table[context]
        print(
            f"  {context:7d} {len(rows):3d} {t['relative_error']:7.2f} {t['fill_error']:7.1f} "
            f"{t['texture_ratio']:8.2f} {t['colour_step']:6.1f}"
        )
    return table


def fill_error(edited: np.ndarray, original: np.ndarray, fill: np.ndarray) -> float:
    """Mean RGB distance of the fill to what was there, both blurred (layout and colour)."""
    a, b = em.box_blur(edited, 4), em.box_blur(original, 4)
    return float(np.sqrt(((a - b) ** 2).sum(axis=-1))[fill].mean())


# -- solvers ---------------------------------------------------------------------------------
def blend_compare(size: int, first: int, n: int = 8) -> dict:
    """Own Poisson solver against OpenCV's seamlessClone on the same windows."""
    try:
        import cv2
    except ImportError:
        print("\nblend compare: OpenCV is not installed (pip install opencv-python-headless)")
        return {"opencv": None}
    rows = []
    for i in range(n):
        original = scenes(size).render(first + 900 + i)[0]
        donor = scenes(size).render(first + 950 + i)[0].astype(np.float32)
        generated = np.clip(donor * 0.8 + 30, 0, 255)  # another picture, tinted
        case = make_case(first + 900 + i, 3 * i + (i % 2), size)
        domain = em.dilate(case.mask, 4)
        t0 = time.perf_counter()
        ours = poisson_blend(original, generated, domain)
        t1 = time.perf_counter()
        ys, xs = np.nonzero(domain)
        centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
        theirs = cv2.seamlessClone(
            np.ascontiguousarray(generated.astype(np.uint8)[..., ::-1]),
            np.ascontiguousarray(original[..., ::-1]),
            domain.astype(np.uint8) * 255,
            centre,
            cv2.NORMAL_CLONE,
        )[..., ::-1].astype(np.float32)
        t2 = time.perf_counter()
        ours_u8 = np.clip(np.rint(ours), 0, 255)
        rows.append(
            {
                "ours_seconds": t1 - t0,
                "opencv_seconds": t2 - t1,
                "mean_abs_difference": float(np.abs(ours_u8 - theirs)[domain].mean()),
                "ours_step": em.colour_step(ours_u8, case.mask, domain),
                "opencv_step": em.colour_step(theirs, case.mask, domain),
                "original_step": em.colour_step(original, case.mask, domain),
                "opencv_outside_changed": float(np.abs(theirs - original)[~domain].max()),
            }
        )
    summary = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
    print("\nPoisson blend, own solver vs OpenCV seamlessClone (medians):")
    for k, v in summary.items():
        print(f"  {k:24s} {v:9.3f}")
    return {"opencv": cv2.__version__, "summary": summary, "rows": rows}


# -- remove object ---------------------------------------------------------------------------
REMOVE_VARIANTS = {
    "inpaint (null class, recommended)": None,
    "remove_object (shipped)": "remove",
    "null, temperature 1.0, choice 4.5": {"guidance_scale": 0.0},
    "null, temperature 0.5, choice 1.0": {
        "guidance_scale": 0.0,
        "sample_temperature": 0.5,
        "choice_temperature": 1.0,
    },
}


def object_scene(key: int, size: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(scene, the same scene without its main object, the object's mask, label)."""
    label = key % len(CLASS_NAMES)
    scene = render_scene(np.random.default_rng([key, 31]), size, label)
    empty = render_scene(np.random.default_rng([key, 31]), size, label, scene="empty")
    diff = np.abs(scene.astype(np.int16) - empty.astype(np.int16)).max(axis=-1) > 12
    mask = em.dilate(_largest_component(diff), 3)
    return scene, empty, mask, label


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected component (the main object; distractors may also differ)."""
    step = 4  # on a coarser grid: a python flood fill stays cheap
    small = mask[::step, ::step]
    label = np.zeros(small.shape, dtype=np.int32)
    best, best_size, current = 0, 0, 0
    for start in zip(*np.nonzero(small), strict=True):
        if label[start]:
            continue
        current += 1
        label[start] = current
        queue, count = deque([start]), 0
        while queue:
            y, x = queue.popleft()
            count += 1
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                inside = 0 <= ny < small.shape[0] and 0 <= nx < small.shape[1]
                if inside and small[ny, nx] and not label[ny, nx]:
                    label[ny, nx] = current
                    queue.append((ny, nx))
        if count > best_size:
            best, best_size = current, count
    keep = np.repeat(np.repeat(label == best, step, 0), step, 1)[: mask.shape[0], : mask.shape[1]]
    return mask & em.dilate(keep, step)


def remove_sweep(session: EngineSession, sampler, first: int, n: int = 12) -> dict:
    """Remove the main object of scenes whose object-free render is known: the fill's error
    against that render, and how often the judge still sees an object."""
    judge = bench_judge()
    no_object = judge.class_names.index(NO_OBJECT)
    table = {}
    for name, variant in REMOVE_VARIANTS.items():
        errors, gone = [], []
        for i in range(n):
            scene, empty, mask, _ = object_scene(first + 700 + i)
            seeded = sampler.replace(seed=i)
            if variant == "remove":
                run = session.remove_object(scene, mask, seeded, previews=False)
            else:
                s = seeded.replace(**variant) if variant else seeded
                run = session.inpaint(scene, mask, None, s, previews=False)
            out = run.run_to_end().images[0]
            errors.append(fill_error(out, empty, mask))
            x = torch.from_numpy(out).permute(2, 0, 1)[None]
            gone.append(int(judge.predict(x)[0]) == no_object)
        table[name] = {"fill_error": float(np.mean(errors)), "object_gone": float(np.mean(gone))}
    print("\nremove object (fill vs the object-free render; judge sees no object):")
    for name, row in table.items():
        print(f"  {name:36s} error {row['fill_error']:6.1f}   no object {row['object_gone']:5.0%}")
    return table


# -- judge -----------------------------------------------------------------------------------
def bench_judge():
    """A 64 px judge of natural and empty held-in scenes (cached)."""
    settings = JudgeSettings(train_images=3000, epochs=5, heldout_images=0)
    key = cache_key({"bench": "edits", "data": "procedural natural+empty", **settings.__dict__})
    path = CACHE / f"bench-edits-judge-{key}.safetensors"
    if path.exists():
        try:
            return load_judge(path)
        except ValueError:
            pass
    print("training the benchmark's judge (once) ...", flush=True)
    natural = ProceduralScenes(image_size=64, train=True, length=10**6)
    empty = ProceduralScenes(image_size=64, train=True, length=10**6, scenes="empty")
    half = settings.train_images // 2
    images, labels = [], []
    for ds, count in ((natural, settings.train_images - half // 4), (empty, half // 4)):
        for i in range(count):
            image, label = ds.render(i)
            images.append(torch.from_numpy(image).permute(2, 0, 1))
            labels.append(label)
    names = list(CLASS_NAMES) + [NO_OBJECT]
    judge = train_judge(torch.stack(images), torch.tensor(labels), names, settings)
    save_judge(path, judge)
    return judge


def judge_fd(cases, images: dict[str, list[np.ndarray]], changed: dict) -> dict:
    """Frechet distance of the judge's features: edited vs original images, whole and cropped."""
    judge = bench_judge()

    def feats(arrays):
        x = torch.stack([torch.from_numpy(np.array(a)).permute(2, 0, 1) for a in arrays])
        return judge.logits_and_features(x)[1].numpy()

    boxes = [edit_bbox(c.fill, c.fill, margin=48) for c in cases]

    def crops(arrays):
        return [
            np.asarray(Image.fromarray(a[y0:y1, x0:x1]).resize((64, 64), Image.Resampling.BOX))
            for a, (x0, y0, x1, y1) in zip(arrays, boxes, strict=True)
        ]

    reference = [c.reference for c in cases]
    ref_whole, ref_crops = feats(reference), feats(crops(reference))
    return {
        name: {
            "whole": frechet_distance(feats(edited), ref_whole),
            "crops": frechet_distance(feats(crops(edited)), ref_crops),
        }
        for name, edited in images.items()
    }


# -- gallery ---------------------------------------------------------------------------------
def gallery(path: Path, cases, results: dict[str, list[np.ndarray]], per_kind: int = 2):
    """Rows of (input | mask | each pipeline's composite), cropped around each edit.

    ``results`` maps a column title to the pipeline's edited image per case."""
    tile = 240
    picks = []
    for kind in ("box", "blob", "outpaint"):
        picks += [i for i, c in enumerate(cases) if c.kind == kind][:per_kind]
    header = 24
    titles = ("input", "mask", *results)
    width = len(titles) * (tile + 4) + 4
    sheet = Image.new("RGB", (width, header + len(picks) * (tile + 4)), (32, 32, 36))
    draw = ImageDraw.Draw(sheet)
    for col, title in enumerate(titles):
        draw.text((4 + col * (tile + 4) + 6, 6), title, fill=(235, 235, 235))
    for row, i in enumerate(picks):
        case = cases[i]
        x0, y0, x1, y1 = edit_bbox(case.fill, case.fill, margin=64)
        shown = case.reference.copy()
        shown[case.fill] = (shown[case.fill] * 0.35 + np.array([200, 40, 160]) * 0.65).astype(
            np.uint8
        )
        mask = np.repeat(case.fill[..., None] * 255, 3, axis=-1).astype(np.uint8)
        for col, image in enumerate((shown, mask, *(images[i] for images in results.values()))):
            part = Image.fromarray(image[y0:y1, x0:x1]).resize(
                (tile, tile), Image.Resampling.LANCZOS
            )
            sheet.paste(part, (4 + col * (tile + 4), header + row * (tile + 4)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def detail_gallery(path: Path, cases, results: dict[str, list[np.ndarray]], crop: int = 96):
    """Rows of grainy cases (a box, a blob, a strip) at 1:1 pixels enlarged 3x (nearest), each
    crop centred on the fill's border so that the fill (right) sits beside the picture (left):
    the grain and edge crispness that the whole-edit gallery's thumbnails cannot show."""
    zoom, header = 3, 24
    tile = crop * zoom
    picks = [
        next(i for i, c in enumerate(cases) if c.kind == kind and c.grainy)
        for kind in ("box", "blob", "outpaint")
    ]
    titles = ("original", *results)
    sheet = Image.new(
        "RGB", (len(titles) * (tile + 4) + 4, header + len(picks) * (tile + 4)), (32, 32, 36)
    )
    draw = ImageDraw.Draw(sheet)
    for col, title in enumerate(titles):
        draw.text((4 + col * (tile + 4) + 6, 6), title, fill=(235, 235, 235))
    for row, i in enumerate(picks):
        case = cases[i]
        y, x = _border_point(case.fill)
        height, width = case.fill.shape
        y0 = int(np.clip(y - crop // 2, 0, height - crop))
        x0 = int(np.clip(x - crop // 2, 0, width - crop))
        for col, image in enumerate((case.reference, *(images[i] for images in results.values()))):
            part = Image.fromarray(image[y0 : y0 + crop, x0 : x0 + crop])
            part = part.resize((tile, tile), Image.Resampling.NEAREST)
            sheet.paste(part, (4 + col * (tile + 4), header + row * (tile + 4)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def _border_point(fill: np.ndarray) -> tuple[int, int]:
    """(y, x) of the fill's border pixel nearest the middle of its bounding box's left side."""
    border = fill & ~em.erode(fill, 1)
    ys, xs = np.nonzero(border)
    rows = np.flatnonzero(fill.any(axis=1))
    target_y, target_x = (rows[0] + rows[-1]) / 2, np.flatnonzero(fill.any(axis=0))[0]
    k = int(np.argmin((ys - target_y) ** 2 + (xs - target_x) ** 2))
    return int(ys[k]), int(xs[k])
