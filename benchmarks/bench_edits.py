"""Do edits sit in their picture? Old composite against the seamless one, on held-out scenes.

Held-out procedural scenes (``training/procedural.py``, indices from 10,000,000 on, far beyond
any training stream) at 512 px, so the document is larger than the bundled model's 128 px
window. Three kinds of edit, in turn: a box (40-96 px), a blob (a few discs) and an outpaint
strip (the scene's right or left 64 px cut off and grown back; the full render is the truth).

Pipelines (the same sampler and seed; ``--ablation`` adds the steps in between):
- old: the document's working scale (its short side spans one window, as the studio did), the
  official alpha feather over whole cells.
- new: the region-sized window (``editing.auto_scale`` / ``outpaint_scale``), colour match,
  detail borrowed from the picture (``editing_texture``), Poisson blend, pixel-precise mask.
- new + detail pass: then ``EngineSession.add_detail`` (strength 0.5) where the fill was enlarged.
- ceiling: the truth's own tokens (the original re-encoded at the edit's scale, one token of the
  region re-drawn) through the same composite: what a perfect transformer would give with this
  tokenizer, so the texture a fill can reach at all.

Measures (``edit_metrics``): texture ratio, colour step across the border (absolute, and
over the original's on the same geometry), sharpness, the working scale, seconds per edit, and
the Frechet distance of a judge's features (``training.judge``, a small 64 px CNN trained here
and cached) between edited and original images: whole images, and crops around the edit.
Also: the scale a 200x160 px inpaint gets on a 4000x3000 photo with the bundled model.
``--gallery PATH`` writes the whole-edit sheet there and, beside it (``-detail``), the same
pipelines at 1:1 pixels enlarged 3x on three grainy cases.

    python benchmarks/bench_edits.py [--scenes 48] [--ablation] [--context] [--blend-compare]
        [--remove] [--gallery docs/edits-gallery.png] [--threads 1]

Targets: texture ratio >= 0.5, colour step <= 1.5x the original's, a 200x160 px inpaint on a
4000x3000 photo enlarged at most 4x.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_edits_extra as extra  # noqa: E402
import edit_metrics as em  # noqa: E402
from bench_edits_cases import Case, make_case  # noqa: E402

from maskgit_studio.engine.edit_options import EditOptions  # noqa: E402
from maskgit_studio.engine.editing import outpaint_scale  # noqa: E402
from maskgit_studio.engine.editing_composite import Blend  # noqa: E402
from maskgit_studio.engine.session import EngineSession  # noqa: E402

RESULTS_DIR = ROOT / "benchmarks" / "results"
FIRST_INDEX = 10_000_000
TARGET_TEXTURE = 0.5
TARGET_STEP = 1.5
TARGET_ENLARGEMENT = 4

PIPELINES = {
    "old": ("document", EditOptions.legacy()),
    "new": ("region", EditOptions()),
    "new + detail pass": ("region+detail", EditOptions()),
    # What a perfect transformer would give: the truth's own tokens through the same window,
    # decoder and composite (all but one token of the region kept as encoded).
    "ceiling: the truth's tokens": ("ceiling", EditOptions()),
}
ABLATION = {
    "region + alpha": ("region", EditOptions.legacy()),
    "region + colour + poisson": ("region", EditOptions(blend=Blend(detail_match=False))),
}


def run_case(session: EngineSession, case: Case, where: str, options: EditOptions, sampler):
    """Edit one case; returns (edited image in reference coordinates, changed, seconds, scale)."""
    if where == "ceiling":
        return _ceiling(session, case, options, sampler)
    scale = session.default_scale(case.image.shape[1], case.image.shape[0])
    scale = scale if where == "document" else None
    start = time.perf_counter()
    if case.kind == "outpaint":
        run = session.outpaint(
            case.image, *case.growth, class_id=None, sampler=sampler, previews=False,
            scale=scale, options=options,
        )  # fmt: skip
    else:
        run = session.inpaint(
            case.image, case.mask, None, sampler, previews=False, scale=scale, options=options
        )
    result = run.run_to_end()
    edited, changed = result.images[0], result.changed
    if where == "region+detail" and result.request["scale"] > 1:
        region = case.mask if case.mask is not None else _new_pixels(case, result.offset, edited)
        detail = session.add_detail(
            edited, region, result.request["scale"], sampler=sampler, previews=False,
            options=options,
        ).run_to_end()  # fmt: skip
        edited, changed = detail.images[0], changed | detail.changed
    seconds = time.perf_counter() - start
    if case.kind == "outpaint":  # crop the grown canvas to the reference frame
        dx, dy = result.offset
        x0, y0 = dx - case.origin[0], dy - case.origin[1]
        h, w = case.reference.shape[:2]
        edited, changed = edited[y0 : y0 + h, x0 : x0 + w], changed[y0 : y0 + h, x0 : x0 + w]
    return edited, changed, seconds, result.request["scale"]


def _ceiling(session: EngineSession, case: Case, options: EditOptions, sampler):
    """The truth re-encoded and decoded over the fill at the edit's scale (an outpaint's: the
    scale ``outpaint_scale`` gives its cut canvas), composited like an edit."""
    scale = None
    if case.kind == "outpaint":
        info = session.info
        scale = outpaint_scale(
            case.image.shape[:2], case.growth, info.downsample_factor, info.grid_size
        )
    start = time.perf_counter()
    run = session.refine(
        case.reference, case.fill, 1e-9, "random", None, sampler, previews=False, scale=scale,
        options=options,
    )  # fmt: skip
    result = run.run_to_end()
    seconds = time.perf_counter() - start
    return result.images[0], result.changed, seconds, result.request["scale"]


def _new_pixels(case: Case, offset: tuple[int, int], canvas: np.ndarray) -> np.ndarray:
    """(H', W') bool the grown canvas's new pixels (an outpaint's region)."""
    new = np.ones(canvas.shape[:2], dtype=bool)
    h, w = case.image.shape[:2]
    new[offset[1] : offset[1] + h, offset[0] : offset[0] + w] = False
    return new


def evaluate(session, cases, pipelines, sampler) -> dict:
    rows: dict[str, list[dict]] = {name: [] for name in pipelines}
    images: dict[str, list[np.ndarray]] = {name: [] for name in pipelines}
    changes: dict[str, list[np.ndarray]] = {name: [] for name in pipelines}
    for i, case in enumerate(cases):
        for name, (where, options) in pipelines.items():
            edited, changed, seconds, scale = run_case(
                session, case, where, options, sampler.replace(seed=i)
            )
            scores = em.edit_scores(edited, case.reference, case.fill, changed)
            row = {"kind": case.kind, "grainy": case.grainy, "scale": scale, "seconds": seconds}
            rows[name].append(row | scores)
            images[name].append(edited)
            changes[name].append(changed)
        print(f"  case {i + 1}/{len(cases)} ({case.kind})", flush=True)
    return {"rows": rows, "images": images, "changed": changes}


def summarise(rows: list[dict]) -> dict:
    def med(key):
        vals = [r[key] for r in rows if np.isfinite(r[key])]
        return float(np.median(vals)) if vals else float("nan")

    steps = [
        r for r in rows if np.isfinite(r["colour_step"]) and np.isfinite(r["colour_step_original"])
    ]
    step = float(np.mean([r["colour_step"] for r in steps])) if steps else float("nan")
    step_o = float(np.mean([r["colour_step_original"] for r in steps])) if steps else float("nan")
    return {
        "cases": len(rows),
        "texture_ratio": med("texture_ratio"),
        "texture_ratio_original": med("texture_ratio_original"),
        "colour_step": step,
        "colour_step_original": step_o,
        "colour_step_ratio": step / max(step_o, 1e-6),
        "sharpness": med("sharpness"),
        "scale": med("scale"),
        "seconds": med("seconds"),
    }


def print_table(summary: dict, fd: dict | None) -> None:
    head = (
        f"{'pipeline':26s} {'edit':9s} {'n':>3s} {'scale':>5s} {'texture':>8s} {'(orig)':>7s} "
        f"{'step':>6s} {'(orig)':>7s} {'ratio':>6s} {'sharp':>6s} {'s/edit':>7s}"
    )
    print(head)
    print("-" * len(head))
    for name, kinds in summary.items():
        for kind, s in kinds.items():
            print(
                f"{name:26s} {kind:9s} {s['cases']:3d} {s['scale']:5.1f} {s['texture_ratio']:8.2f} "
                f"{s['texture_ratio_original']:7.2f} {s['colour_step']:6.1f} "
                f"{s['colour_step_original']:7.1f} {s['colour_step_ratio']:6.2f} "
                f"{s['sharpness']:6.2f} {s['seconds']:7.2f}"
            )
    if fd:
        print("\njudge Frechet distance to the originals (lower = closer):")
        for name, v in fd.items():
            print(
                f"  {name:26s} whole images {v['whole']:8.2f}   crops around the edit {v['crops']:8.2f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=48)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--model", default=None, help="model name or path (default: bundled)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ablation", action="store_true", help="also the steps in between")
    parser.add_argument("--context", action="store_true", help="fill quality vs context cells")
    parser.add_argument("--blend-compare", action="store_true", help="own solver vs OpenCV")
    parser.add_argument("--remove", action="store_true", help="remove-object settings")
    parser.add_argument("--no-judge", action="store_true", help="skip the judge's FD")
    parser.add_argument("--gallery", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    session = EngineSession(args.model, device="cpu")
    info = session.info
    sampler = session.recommended_sampler()
    report: dict = {
        "benchmark": "bench_edits",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": platform.node(),
        "model": {"name": info.name, "grid": info.grid_size, "f": info.downsample_factor},
        "sampler": sampler.__dict__ if hasattr(sampler, "__dict__") else str(sampler),
        "scenes": args.scenes,
        "size": args.size,
    }
    report["photo_4000x3000"] = extra.photo_scale(session, sampler)
    print(
        f"4000x3000 photo, 200x160 px inpaint: scale {report['photo_4000x3000']['scale']} "
        f"(document scale {report['photo_4000x3000']['document_scale']}), "
        f"{report['photo_4000x3000']['seconds']:.1f} s"
    )
    if args.context:
        report["context"] = extra.context_sweep(session, sampler, args.size, FIRST_INDEX)
    if args.blend_compare:
        report["blend_compare"] = extra.blend_compare(args.size, FIRST_INDEX)
    if args.remove:
        report["remove"] = extra.remove_sweep(session, sampler, FIRST_INDEX)
    cases = [make_case(FIRST_INDEX + i, i, args.size) for i in range(args.scenes)]
    pipelines = PIPELINES | (ABLATION if args.ablation else {})
    print(f"{len(cases)} cases x {len(pipelines)} pipelines ...")
    done = evaluate(session, cases, pipelines, sampler)
    summary = {}
    for name, rows in done["rows"].items():
        groups = {k: [r for r in rows if r["kind"] == k] for k in ("box", "blob", "outpaint")}
        groups["clean"] = [r for r in rows if not r["grainy"]]
        groups["grainy"] = [r for r in rows if r["grainy"]]
        groups["all"] = rows
        summary[name] = {k: summarise(v) for k, v in groups.items() if v}
    report["summary"] = summary
    report["cases"] = done["rows"]
    fd = None
    if not args.no_judge:
        fd = extra.judge_fd(cases, done["images"], done["changed"])
        report["judge_fd"] = fd
    print()
    print_table(summary, fd)
    photo = report["photo_4000x3000"]
    report["targets"] = {}
    for name in ("new", "new + detail pass"):
        new = summary[name]["all"]
        targets = {
            "texture_ratio": [new["texture_ratio"], TARGET_TEXTURE, ">="],
            "colour_step_ratio": [new["colour_step_ratio"], TARGET_STEP, "<="],
            "photo_enlargement": [photo["scale"], TARGET_ENLARGEMENT, "<="],
        }
        for row in targets.values():
            value, target, op = row
            row[2] = bool(value >= target if op == ">=" else value <= target)
        report["targets"][name] = targets
        print(f"\ntargets ({name}):")
        for key, (value, target, met) in targets.items():
            print(f"  {key:20s} {value:6.2f}  target {target:4}  {'met' if met else 'NOT met'}")
    if args.gallery:
        columns = {
            "old composite": "old",
            "new composite": "new",
            "+ detail pass": "new + detail pass",
            "truth's tokens": "ceiling: the truth's tokens",
        }
        extra.gallery(args.gallery, cases, {t: done["images"][k] for t, k in columns.items()})
        zoomed = args.gallery.with_name(f"{args.gallery.stem}-detail{args.gallery.suffix}")
        extra.detail_gallery(
            zoomed,
            cases,
            {t: done["images"][k] for t, k in columns.items() if t != "+ detail pass"},
        )
        print(f"gallery: {args.gallery}, {zoomed}")
    out = (
        args.out
        or RESULTS_DIR / f"bench_edits-{platform.node()}-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=float))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
