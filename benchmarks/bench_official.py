"""The official MaskGIT ImageNet-256 model on this CPU: import cost, 8-step generation time, and
whether the app's main thread stays responsive while a generation runs in a worker thread.

Weights are random (speed does not depend on their values) but take the real path: full-size
official flax msgpack files are written, imported with ``import_official`` in a child process
(its peak RSS is the importer's memory), and the resulting bundle is run through
``EngineSession.generate`` exactly as the app and CLI do, in a worker thread, while the main thread
runs a 5 ms ticker whose lateness is the responsiveness figure.

Targets (issue 5, item 7; 2-core CPU): a full 8-step generation (final image decoded) < 10 s;
main-thread stalls < 100 ms. Precision modes are the session's: "auto" is the session as shipped
(on CPU: whichever of fp32 and bf16 its one-time measurement found faster, see
``engine/cpu_precision.py``), "fp32" and "bf16" force one. Every mode runs at each thread count
(default 1 and 2), and the probe behind "auto" is re-run fresh at each, next to one full forward
in each precision, so the probe's verdict can be checked against the whole model.

    python benchmarks/bench_official.py [--repeats N] [--threads 1,2] [--modes auto,fp32,bf16]
        [--previews] [--keep DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from maskgit_studio.engine import cpu_precision  # noqa: E402
from maskgit_studio.engine.checkpoint import load_bundle  # noqa: E402
from maskgit_studio.engine.config import SamplerConfig  # noqa: E402
from maskgit_studio.engine.device import precision_context  # noqa: E402
from maskgit_studio.engine.importers.flax_msgpack import write_flax_msgpack  # noqa: E402
from maskgit_studio.engine.session import EngineSession  # noqa: E402
from tests.engine.official_trees import TokShape, TrShape, tokenizer_tree  # noqa: E402

RESULTS_DIR = ROOT / "benchmarks" / "results"
TARGET_GENERATION_S = 10.0
TARGET_STALL_MS = 100.0
STEPS = 8
TICK_S = 0.005


def official_transformer_tree(shape: TrShape, seed: int) -> dict:
    """Full-size transformer tree with cheap uniform weights (official names and shapes)."""
    rng = np.random.default_rng(seed)
    h, nh, m, v = shape.hidden_size, shape.num_heads, shape.intermediate_size, shape.vocab_size

    def w(*s: int, scale: float = 0.02) -> np.ndarray:
        return ((rng.random(s, dtype=np.float32) - 0.5) * (2 * scale)).astype(np.float32)

    def ln() -> dict:
        return {"scale": np.ones(h, np.float32), "bias": np.zeros(h, np.float32)}

    def dense(i: int, o: int) -> dict:
        return {"kernel": w(i, o), "bias": w(o)}

    params: dict = {
        "Embed_0": {
            "word_embeddings": {"embedding": w(v, h, scale=1.0)},
            "position_embeddings": {"embedding": w(shape.latent_size**2 + 1, h, scale=1.0)},
            "embeddings_ln": ln(),
        },
        "MlmLayer_0": {"mlm_dense": dense(h, h), "mlm_ln": ln(), "mlm_bias": {"bias": w(v)}},
    }
    for i in range(shape.num_layers):
        attn = {
            n: {"kernel": w(h, nh, h // nh), "bias": w(nh, h // nh)}
            for n in ("query", "key", "value")
        }
        attn["out"] = {"kernel": w(nh, h // nh, h), "bias": w(h)}
        params[f"TransformerLayer_{i}"] = {
            "Attention_0": {"self_attention": attn, "attention_output_ln": ln()},
            "Mlp_0": {"intermediate_output": dense(h, m), "layer_output": dense(m, h), "layer_output_ln": ln()},
        }  # fmt: skip
    return {"params": params}


def write_official_files(folder: Path) -> tuple[Path, Path, float]:
    """The two official-format files (about 0.9 GB together); returns their paths and seconds."""
    start = time.perf_counter()
    tok, tr = folder / "tokenizer_imagenet256_checkpoint", folder / "maskgit_imagenet256_checkpoint"
    if tok.is_file() and tr.is_file():  # kept from an earlier run (--keep DIR)
        return tok, tr, 0.0
    write_flax_msgpack(tok, tokenizer_tree(TokShape(), seed=0, fast=True))
    write_flax_msgpack(tr, official_transformer_tree(TrShape(), seed=1))
    return tok, tr, time.perf_counter() - start


def import_in_child(tok: Path, tr: Path, dest: Path) -> dict:
    """Run the importer in a child process; its wall time and peak RSS."""
    # VmHWM is the child's own high-water mark (ru_maxrss would include the forked parent).
    code = (
        "import sys; from maskgit_studio.engine.importers import import_official; "
        "r = import_official(sys.argv[1], sys.argv[2], 'bench-official-256', dest_dir=sys.argv[3], "
        "overwrite=True); print(r.path); "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(tok), str(tr), str(dest)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"import failed:\n{done.stderr}")
    bundle, peak_kb = done.stdout.split()[-2], int(done.stdout.split()[-1])
    inputs = tok.stat().st_size + tr.stat().st_size
    return {
        "seconds": seconds,
        "peak_rss_mb": peak_kb / 1024,
        "input_mb": inputs / 2**20,
        "peak_over_input": peak_kb * 1024 / inputs,
        "bundle": bundle,
        "bundle_mb": Path(bundle).stat().st_size / 2**20,
    }


class Ticker:
    """Main-thread heartbeat: how late each 5 ms tick fires while the worker runs."""

    def __init__(self) -> None:
        self.lateness: list[float] = []

    def run_until(self, done: threading.Event) -> None:
        next_tick = time.perf_counter() + TICK_S
        while not done.is_set():
            time.sleep(max(0.0, next_tick - time.perf_counter()))
            now = time.perf_counter()
            self.lateness.append(now - next_tick)
            next_tick = now + TICK_S


def one_generation(
    session: EngineSession, mode: str, threads: int, previews: bool, seed: int
) -> dict:
    """One 8-step generation in a worker thread (like the GUI's), with the main-thread ticker."""
    marks: list[float] = []
    result: dict = {}
    done = threading.Event()

    def work() -> None:
        torch.set_num_threads(threads)  # per-thread setting, as the GUI worker does
        try:
            start = time.perf_counter()
            run = session.generate(207, SamplerConfig(steps=STEPS, seed=seed), previews=previews)
            for _ in run:
                marks.append(time.perf_counter() - start)
            result["total"] = time.perf_counter() - start
            result["image"] = run.result.images[0] if run.result else None
        finally:
            done.set()

    ticker = Ticker()
    worker = threading.Thread(target=work, name="generation")
    worker.start()
    ticker.run_until(done)
    worker.join()
    steps = np.diff([0.0, *marks])
    late = np.array(ticker.lateness) * 1000
    return {
        "total_s": result["total"],
        "steps_s": steps.round(3).tolist(),
        "after_last_step_s": result["total"] - marks[-1],  # the final decode + composite
        "stall_max_ms": float(late.max()),
        "stall_p99_ms": float(np.percentile(late, 99)),
        "image_shape": list(result["image"].shape) if result.get("image") is not None else None,
    }


def probe_vs_forward(bundle: str, threads: int) -> dict:
    """The auto probe (fresh, not cached) against full forwards of the model, at ``threads``."""
    torch.set_num_threads(threads)
    transformer = load_bundle(Path(bundle)).transformer.eval()
    start = time.perf_counter()
    choice = cpu_precision.measure(transformer)
    probe_s = time.perf_counter() - start
    cfg = transformer.config
    ids = torch.randint(0, cfg.codebook_size, (1, cfg.seq_len), generator=torch.Generator())
    forward: dict[str, list[float]] = {"fp32": [], "bf16": []}
    with torch.inference_mode():
        for _ in range(3):
            for precision in ("fp32", "bf16"):
                t0 = time.perf_counter()
                with precision_context(torch.device("cpu"), precision):
                    transformer.image_logits(ids)
                forward[precision].append(time.perf_counter() - t0)
    best = {p: min(v[1:]) for p, v in forward.items()}  # the first round warms up
    return {
        "threads": threads,
        "probe_choice": choice.precision,
        "probe_s": probe_s,
        "probe_fp32_ms_per_layer": choice.fp32_ms,
        "probe_bf16_ms_per_layer": choice.bf16_ms,
        "forward_fp32_s": best["fp32"],
        "forward_bf16_s": best["bf16"],
        "forward_faster": "bf16" if best["bf16"] < best["fp32"] else "fp32",
    }


def bench_mode(bundle: str, mode: str, threads: int, repeats: int, previews: bool) -> dict:
    session = EngineSession(bundle, device="cpu", threads=threads, precision=mode)
    start = time.perf_counter()
    info = session.info  # load now (and, for auto, measure or read the cache), timed on its own
    load_s = time.perf_counter() - start
    runs = [one_generation(session, mode, threads, previews, seed=i) for i in range(repeats + 1)]
    timed = runs[1:] or runs
    totals = [r["total_s"] for r in timed]
    return {
        "mode": mode,
        "threads": threads,
        "precision": info.precision,
        "precision_reason": info.precision_reason,
        "previews": previews,
        "load_s": load_s,
        "first_s": runs[0]["total_s"],
        "median_s": statistics.median(totals),
        "best_s": min(totals),
        "step_median_s": statistics.median(s for r in timed for s in r["steps_s"]),
        "final_decode_s": statistics.median(r["after_last_step_s"] for r in timed),
        "stall_max_ms": max(r["stall_max_ms"] for r in runs),
        "stall_p99_ms": max(r["stall_p99_ms"] for r in runs),
        "runs": runs,
    }


def print_table(imported: dict, probes: list[dict], rows: list[dict]) -> None:
    print(
        f"\nimport: {imported['input_mb']:.0f} MB official files -> {imported['bundle_mb']:.0f} MB "
        f"bundle in {imported['seconds']:.1f} s, peak RSS {imported['peak_rss_mb']:.0f} MB "
        f"({imported['peak_over_input']:.2f}x the input)"
    )
    print("\nauto's probe (fresh, per layer) against full forwards")
    for p in probes:
        print(
            f"  {p['threads']} threads: probe {p['probe_fp32_ms_per_layer']:.1f} / "
            f"{p['probe_bf16_ms_per_layer']:.1f} ms per layer (fp32 / bf16) in {p['probe_s']:.2f} s "
            f"-> {p['probe_choice']}; forward {p['forward_fp32_s']:.3f} / "
            f"{p['forward_bf16_s']:.3f} s -> {p['forward_faster']} is faster"
        )
    print(f"\nofficial 256, {STEPS} steps, batch 1, CPU")
    head = f"{'thr':<4}{'mode':<6}{'uses':<6}{'previews':>9}{'load s':>8}{'first s':>9}{'median s':>10}{'step s':>8}{'decode s':>9}{'stall ms':>10}  target"  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in rows:
        ok = (
            "ok"
            if r["median_s"] < TARGET_GENERATION_S and r["stall_max_ms"] < TARGET_STALL_MS
            else "MISS"
        )
        print(
            f"{r['threads']:<4}{r['mode']:<6}{r['precision']:<6}{'yes' if r['previews'] else 'no':>9}{r['load_s']:>8.1f}{r['first_s']:>9.2f}"
            f"{r['median_s']:>10.2f}{r['step_median_s']:>8.2f}{r['final_decode_s']:>9.2f}"
            f"{r['stall_max_ms']:>10.0f}  {ok} (<{TARGET_GENERATION_S:.0f} s, <{TARGET_STALL_MS:.0f} ms)"
        )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2, help="timed runs after the first")
    parser.add_argument("--threads", default="1,2", help="comma list of thread counts")
    parser.add_argument(
        "--modes",
        default="auto,fp32,bf16",
        help="comma list of session precisions: auto, fp32, bf16",
    )
    parser.add_argument("--previews", action="store_true", help="also time per-step previews")
    parser.add_argument(
        "--keep", metavar="DIR", help="keep (and reuse) the official files and bundle in DIR"
    )
    parser.add_argument("--out", metavar="FILE", help="JSON output path")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    thread_counts = [int(t) for t in args.threads.split(",") if t]
    if "bf16" in modes and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        print("note: this CPU has no fast bf16; skipping bf16")
        modes.remove("bf16")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print("writing full-size official files (random weights)...")
        tok, tr, write_s = write_official_files(folder)
        print(f"  {write_s:.1f} s; importing in a child process...")
        imported = import_in_child(tok, tr, folder)
        probes, rows = [], []
        for threads in thread_counts:
            print(f"probe vs forward, {threads} threads ...")
            probes.append(probe_vs_forward(imported["bundle"], threads))
            for mode in modes:
                for previews in (False, True) if args.previews else (False,):
                    print(f"generating: {threads} threads, {mode}, previews={previews} ...")
                    rows.append(
                        bench_mode(imported["bundle"], mode, threads, args.repeats, previews)
                    )
    print_table(imported, probes, rows)

    record = {
        "benchmark": "bench_official",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "node": platform.node(),
            "cpu_count": os.cpu_count(),
            "load_avg": os.getloadavg(),
            "torch": torch.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        },
        "threads": thread_counts,
        "steps": STEPS,
        "targets": {"generation_s": TARGET_GENERATION_S, "stall_ms": TARGET_STALL_MS},
        "import": imported,
        "probe_vs_forward": probes,
        "generation": rows,
    }
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = (
        Path(args.out)
        if args.out
        else RESULTS_DIR / f"bench_official-{platform.node()}-{stamp}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
