"""Engine speed on this machine: one transformer forward, one decode, and a full T=12 generation
with a decoded preview at every step, for the default model's config and the official 256 one.

Weights are random (speed does not depend on their values). The default config comes from the
bundled model's metadata if there is one, else training/configs/default.toml, else the planned
default (128 px 'fast' tokenizer, unshuffle (4, 4) -> f = 16, 8x8 tokens, codebook 1024 x 16).
A large float32 matmul in the same run gives the machine's practical GFLOP/s; each model
operation's effective GFLOP/s is printed as a fraction of it.

The default config's generation uses the model's recommended sampler settings (stored in the
bundle, else the recipe's ``export.sampler``): with classifier-free guidance every step runs the
transformer on a batch of two (conditional + null class), which is what a studio user waits for.
The session picks its CPU precision as the studio does ("auto": bf16 where it measures faster).

Targets (default config, 2-core CPU, issue 9): generation with per-step previews <= 0.5 s (floor
1.0 s); sampler work outside the forward passes <= 5% of the step time.

    python benchmarks/bench_engine.py [--configs default,official256] [--repeats N] [--threads N]

On a machine shared with other CPU-heavy jobs, measure with ``--threads 1``: with 2 torch threads
on 2 busy cores every parallel region waits for a descheduled thread, and the times grow by one
or two orders of magnitude (seen here: default-config forward 13 ms with 1 thread, 1.6-2.2 s with
2 threads, next to a training run). Times are best-of-N; medians are in the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from maskgit_studio.engine import model_store  # noqa: E402
from maskgit_studio.engine.checkpoint import read_metadata, save_bundle  # noqa: E402
from maskgit_studio.engine.config import (  # noqa: E402
    SamplerConfig,
    TokenizerConfig,
    TransformerConfig,
    config_from_dict,
)
from maskgit_studio.engine.device import precision_context, transformer_precision  # noqa: E402
from maskgit_studio.engine.sampler import decode_steps  # noqa: E402
from maskgit_studio.engine.session import EngineSession  # noqa: E402
from maskgit_studio.engine.transformer import MaskGitTransformer  # noqa: E402
from maskgit_studio.engine.vqgan import Tokenizer  # noqa: E402

RESULTS_DIR = ROOT / "benchmarks" / "results"
TARGET_GENERATION_S = 0.5
FLOOR_GENERATION_S = 1.0
TARGET_SAMPLER_FRACTION = 0.05

PLANNED_DEFAULT = (
    TokenizerConfig(
        arch="fast",
        image_size=128,
        base_channels=64,
        channel_mult=(1, 2),
        num_res_blocks=2,
        codebook_size=1024,
        code_dim=16,
        unshuffle_factors=(4, 4),
    ),
    TransformerConfig(
        codebook_size=1024,
        num_classes=12,
        has_null_class=True,
        grid_size=8,
        hidden_size=256,
        num_layers=8,
        num_heads=8,
        mlp_size=1024,
        dropout=0.0,
    ),
)
OFFICIAL_256 = (TokenizerConfig(), TransformerConfig(dropout=0.0))


def _recommended_sampler(settings: object, steps: int = 12) -> SamplerConfig:
    """The stored recommended settings (a dict), T forced to ``steps``, guidance kept."""
    names = {"schedule", "choice_temperature", "sample_temperature", "guidance_scale"}
    known = {k: v for k, v in settings.items() if k in names} if isinstance(settings, dict) else {}
    return SamplerConfig(**known).replace(steps=steps, seed=0)


def default_configs(
    model: str | None = None,
) -> tuple[TokenizerConfig, TransformerConfig, SamplerConfig, str]:
    """The default model's configs and recommended sampler (or ``model``'s, a bundle path), and
    where they came from."""
    bundled = Path(model) if model else model_store.bundled_model_path()
    if bundled is not None:
        meta = read_metadata(bundled)
        return (
            config_from_dict(TokenizerConfig, meta["tokenizer"]),
            config_from_dict(TransformerConfig, meta["transformer"]),
            _recommended_sampler(meta.get("provenance", {}).get("sampler")),
            f"bundled model {bundled.name}",
        )
    try:
        from training import procedural, recipes

        recipe = recipes.load_recipe("default")
        num_classes = len(procedural.CLASS_NAMES)
        tok = recipes.tokenizer_config(recipe)
        tr = recipes.transformer_config(recipe, num_classes)
        sampler = _recommended_sampler(recipe.get("export", {}).get("sampler"))
        return tok, tr, sampler, "training recipe 'default'"
    except (ImportError, FileNotFoundError, KeyError, TypeError, ValueError) as exc:
        print(f"note: no usable default recipe ({exc}); using the planned default")
    guided = SamplerConfig(steps=12, seed=0, guidance_scale=2.0)
    return (*PLANNED_DEFAULT, guided, "planned default (no bundled model or recipe yet)")


def timings(fn: Callable[[], object], repeats: int, warmup: int = 1) -> tuple[float, float]:
    """(best, median) wall seconds over ``repeats`` calls after ``warmup`` calls.

    The best time is the headline figure: on a machine shared with other jobs the median mostly
    measures the neighbours (both are recorded).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def count_flops(fn: Callable[[], object]) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def matmul_gflops(n: int, repeats: int) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    best, _ = timings(lambda: a @ b, repeats)
    return 2 * n**3 / best / 1e9


def bench_config(
    name: str,
    tok_cfg: TokenizerConfig,
    tr_cfg: TransformerConfig,
    sampler: SamplerConfig,
    repeats: int,
    gen_repeats: int,
    peak: float,
    gen_warmup: int = 1,
) -> dict:
    torch.manual_seed(0)
    tokenizer, transformer = Tokenizer(tok_cfg).eval(), MaskGitTransformer(tr_cfg).eval()
    g, size, steps = tok_cfg.grid_size, tok_cfg.image_size, 12
    ids = torch.randint(0, tr_cfg.codebook_size, (1, 1 + g * g))
    ids[0, 0] = tr_cfg.class_token_id(0)
    tokens = torch.randint(0, tr_cfg.codebook_size, (1, g, g))
    image = torch.rand(1, 3, size, size)
    row: dict = {
        "config": name,
        "image_size": size,
        "tokens": f"{g}x{g}",
        "f": tok_cfg.downsample_factor,
        "codebook": f"{tok_cfg.codebook_size}x{tok_cfg.code_dim}",
        "transformer_params_M": sum(p.numel() for p in transformer.parameters()) / 1e6,
        "tokenizer_params_M": sum(p.numel() for p in tokenizer.parameters()) / 1e6,
    }
    # The forward as a generation step runs it: conditional + null rows under guidance, in the
    # precision the session picks for this model here.
    batch = 2 if sampler.guidance_scale > 0 else 1
    precision = transformer_precision(torch.device("cpu"), transformer).precision
    row |= {"forward_batch": batch, "forward_precision": precision}
    step_ids = ids.repeat(batch, 1)
    with torch.inference_mode():

        def forward():  # what the sampler calls
            with precision_context(torch.device("cpu"), precision):
                return transformer.image_logits(step_ids)

        decode = lambda: tokenizer.decode_indices(tokens)  # noqa: E731
        encode = lambda: tokenizer.encode_to_indices(image)  # noqa: E731
        for key, fn in (("forward", forward), ("decode", decode), ("encode", encode)):
            flops = count_flops(fn)  # doubles as the warm-up call
            seconds, median = timings(fn, repeats, warmup=0)
            print(f"  {key}: {seconds * 1e3:.1f} ms", flush=True)
            row[f"{key}_ms"] = seconds * 1e3
            row[f"{key}_median_ms"] = median * 1e3
            row[f"{key}_gflop"] = flops / 1e9
            row[f"{key}_gflops"] = flops / seconds / 1e9
            row[f"{key}_of_peak"] = flops / seconds / 1e9 / peak
        row["sampler_ms_per_step"] = _sampler_time(tr_cfg, g, steps, repeats) / steps * 1e3
    with tempfile.TemporaryDirectory() as tmp:
        classes = [f"class {i}" for i in range(tr_cfg.num_classes)]
        path = save_bundle(Path(tmp) / f"{name}.safetensors", tokenizer, transformer, classes)
        session = EngineSession(path, device="cpu")
        row["precision"] = session.info.precision  # load outside the timing
        row["guidance"] = sampler.guidance_scale
        for previews in (True, False):
            run = lambda p=previews: session.generate(0, sampler, 1, p).run_to_end()  # noqa: E731
            key = "generate_previews_s" if previews else "generate_no_previews_s"
            row[key], row[key[:-2] + "_median_s"] = timings(run, gen_repeats, gen_warmup)
            print(f"  {key}: {row[key]:.3f} s", flush=True)
        session.close()
    step_ms = row["generate_previews_s"] / steps * 1e3
    row["step_ms"] = step_ms
    row["sampler_fraction"] = row["sampler_ms_per_step"] / step_ms
    model_ms = steps * (row["forward_ms"] + row["decode_ms"])
    row["other_fraction"] = max(0.0, row["generate_previews_s"] * 1e3 - model_ms) / (
        row["generate_previews_s"] * 1e3
    )
    return row


def _sampler_time(tr_cfg: TransformerConfig, g: int, steps: int, repeats: int) -> float:
    """decode_steps bookkeeping alone: the logits function returns precomputed logits."""
    logits = torch.randn(1, g * g, tr_cfg.codebook_size)
    start = torch.full((1, g * g), tr_cfg.mask_id, dtype=torch.long)
    config = SamplerConfig(steps=steps)

    def run() -> None:
        gen = torch.Generator().manual_seed(0)
        for _ in decode_steps(lambda _ids: logits, start, tr_cfg.mask_id, config, gen, (g, g)):
            pass

    with torch.inference_mode():
        return timings(run, repeats)[0]


def print_table(rows: list[dict], peak: float, threads: int) -> None:
    print(f"\nbest-of-N times; matmul peak: {peak:.1f} GFLOP/s (float32, {threads} threads)\n")
    header = ("", *[r["config"] for r in rows])
    lines = [
        ("image / tokens / f", lambda r: f"{r['image_size']} px / {r['tokens']} / {r['f']}"),
        (
            "params (tok + tr, M)",
            lambda r: f"{r['tokenizer_params_M']:.1f} + {r['transformer_params_M']:.1f}",
        ),
        (
            "forward ms (% fp32 peak)",
            lambda r: (
                f"{r['forward_ms']:.1f} ({100 * r['forward_of_peak']:.0f}%), "
                f"b{r['forward_batch']} {r['forward_precision']}"
            ),
        ),
        (
            "decode ms (% peak)",
            lambda r: f"{r['decode_ms']:.1f} ({100 * r['decode_of_peak']:.0f}%)",
        ),
        (
            "encode ms (% peak)",
            lambda r: f"{r['encode_ms']:.1f} ({100 * r['encode_of_peak']:.0f}%)",
        ),
        (
            "T=12 gen, previews s",
            lambda r: f"{r['generate_previews_s']:.3f} (med {r['generate_previews_median_s']:.3f})",
        ),
        ("guidance, precision", lambda r: f"{r['guidance']:g}, {r['precision']}"),
        (
            "T=12 gen, no previews s",
            lambda r: (
                f"{r['generate_no_previews_s']:.3f} (med {r['generate_no_previews_median_s']:.3f})"
            ),
        ),
        (
            "sampler ms/step (% step)",
            lambda r: f"{r['sampler_ms_per_step']:.2f} ({100 * r['sampler_fraction']:.1f}%)",
        ),
        ("other overhead (% run)", lambda r: f"{100 * r['other_fraction']:.1f}%"),
    ]
    widths = [max(len(label) for label, _ in lines)] + [22] * len(rows)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for label, fmt in lines:
        cells = [label] + [fmt(r) for r in rows]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="default,official256")
    parser.add_argument("--repeats", type=int, default=10, help="timed repeats of forward/decode")
    parser.add_argument("--gen-repeats", type=int, default=5, help="timed full generations")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--matmul-n", type=int, default=2048)
    parser.add_argument("--out", default=None, help="JSON path (default: benchmarks/results/...)")
    parser.add_argument(
        "--model", default=None, help="take the 'default' config from this bundle (a new model)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    peak = matmul_gflops(args.matmul_n, repeats=8)
    tok, tr, sampler, source = default_configs(args.model)
    official_sampler = SamplerConfig(steps=12, seed=0)  # the official models have no null class
    available = {"default": (tok, tr, sampler), "official256": (*OFFICIAL_256, official_sampler)}
    rows = []
    for name in args.configs.split(","):
        if name not in available:
            parser.error(f"unknown config {name!r}; choose from {', '.join(available)}")
        big = name == "official256"
        # The official config is ~100x the work: fewer repeats keep the run to minutes.
        repeats = max(2, args.repeats // 4) if big else args.repeats
        gen_repeats = 1 if big else args.gen_repeats
        print(f"benchmarking {name} ...", flush=True)
        gen_warmup = 0 if big else 1  # the forward/decode timings above already warmed up
        rows.append(bench_config(name, *available[name], repeats, gen_repeats, peak, gen_warmup))
    peak_after = matmul_gflops(args.matmul_n, repeats=5)
    print_table(rows, peak, threads)
    default_row = next((r for r in rows if r["config"] == "default"), None)
    checks = {}
    if default_row:
        generation = default_row["generate_previews_s"]
        checks = {
            f"generation_with_previews_s<={TARGET_GENERATION_S}": generation <= TARGET_GENERATION_S,
            f"generation_with_previews_s<={FLOOR_GENERATION_S} (floor)": generation
            <= FLOOR_GENERATION_S,
            "sampler_fraction<=0.05": default_row["sampler_fraction"] <= TARGET_SAMPLER_FRACTION,
        }
        print(f"\ndefault config from: {source}")
        for name, ok in checks.items():
            print(f"target {name}: {'PASS' if ok else 'MISS'}")
    print(f"matmul GFLOP/s before / after: {peak:.1f} / {peak_after:.1f} (load drift check)")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = (
        Path(args.out) if args.out else RESULTS_DIR / f"bench_engine-{platform.node()}-{stamp}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "bench_engine",
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "node": platform.node(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": threads,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "load_average_at_start": load_at_start,
        },
        "matmul": {"n": args.matmul_n, "gflops": peak, "gflops_after": peak_after},
        "default_config_source": source,
        "targets": checks,
        "rows": [
            {
                k: (round(v, 6) if isinstance(v, float) and math.isfinite(v) else v)
                for k, v in r.items()
            }
            for r in rows
        ],
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
