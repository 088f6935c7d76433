"""The "auto" CPU precision of large transformers: measured once per machine, not assumed.

bf16 matmuls are 2.2x faster than fp32 on one of this project's CPUs and 1.75x slower on another
that also reports AVX512-BF16 (``docs``/CALIBRATION: the same official-256 forward, 0.40 s fp32
against 0.70 s bf16), so "auto" times both on the actual model the first time it meets a machine:
one of the model's own layers on a real-length sequence, each precision entered the way the
session enters it per step (autocast casts the weights on every entry, and that cost counts).

The choice is cached in the user cache folder (``MASKGIT_STUDIO_CACHE`` overrides it), keyed by
torch version, CPU model and flags, thread count and the model's size class, so it is re-measured
when any of those changes and costs nothing afterwards. A choice measured while the machine is
busy (load above its core count) is used but not cached.

Models whose forward is under ``MEASURE_MIN_WORK`` multiply-adds (about parameters x sequence
length) stay fp32 without measuring: their forward takes a few milliseconds (the old 8x8 bundled
model: 5 M parameters x 65 tokens, 5 ms), so no bf16 gain could be felt and fp32 is exact. The
16x16 default (5 M x 257 tokens, 40 ms fp32) is measured: on this project's CPU bf16 ran its
forward in 30 ms against 44 ms. The measurement costs 8 layer forwards, once per machine. CPUs
without native bf16 stay fp32 (emulated bf16 is always slower).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs
import torch

from .model_store import APP_NAME

log = logging.getLogger(__name__)

# About 10 ms of fp32 forward on one core: below it bf16 could save at most a few ms a step.
MEASURE_MIN_WORK = 1_000_000_000
# bf16 must beat fp32 by this factor to be chosen: fp32 is exact, so a tie goes to fp32.
BF16_MIN_SPEEDUP = 1.1
CACHE_FILE = "cpu-precision.json"
# One layer, best of three after a warm-up: 8 layer forwards in all, a third of one forward of
# the model whatever the machine's load (0.2-0.3 s for the official 256 model on an idle CPU).
LAYERS_TIMED = 1
REPEATS = 3


@dataclass(frozen=True)
class PrecisionChoice:
    """The transformer precision in use and why (shown by ``info`` and in the studio).

    Attributes:
        precision: "fp32" or "bf16".
        reason: a short phrase, e.g. "measured: fp32 16.1 ms vs bf16 29.4 ms per layer".
        fp32_ms / bf16_ms: the measured time of one layer (measured choices only).
    """

    precision: str
    reason: str
    fp32_ms: float | None = None
    bf16_ms: float | None = None

    @property
    def label(self) -> str:
        return f"{self.precision} ({self.reason})"


def machine_busy() -> bool:
    """More runnable work than cores (1-minute load average): a measurement taken now says more
    about the neighbours than about the CPU (seen here: bf16 "5x slower" next to a training run
    with 2 threads each), so it is used but not cached."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on this OS: nothing to go by
        return False
    return load > (os.cpu_count() or 1)


def cache_path() -> Path:
    override = os.environ.get("MASKGIT_STUDIO_CACHE")
    folder = Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))
    return folder / CACHE_FILE


def cpu_fingerprint() -> dict[str, str]:
    """What the bf16/fp32 ratio depends on: torch, the CPU model and flags, the thread count."""
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())  # the first CPU's lines
                if "model name" in info and ("flags" in info or "Features" in info):
                    break
    except OSError:
        pass  # not Linux: the processor name and torch's capability stand in for the flags
    model = info.get("model name") or platform.processor() or platform.machine()
    flags = info.get("flags") or info.get("Features") or ""
    return {
        "torch": torch.__version__,
        "cpu": model,
        "flags": hashlib.sha256(flags.encode()).hexdigest()[:16],
        "capability": torch.backends.cpu.get_cpu_capability(),
        "threads": str(torch.get_num_threads()),
    }


def forward_work(transformer: torch.nn.Module) -> int:
    """Multiply-adds of one forward, roughly: parameters x sequence length (attention's
    T^2 term is small beside the matmuls at these widths)."""
    parameters = sum(p.numel() for p in transformer.parameters())
    return parameters * transformer.config.seq_len


def size_class(transformer: torch.nn.Module) -> str:
    """The shape that sets the cost of a layer: width, MLP width and sequence length."""
    c = transformer.config
    return f"h{c.hidden_size}-m{c.mlp_size}-t{c.seq_len}"


def cache_key(transformer: torch.nn.Module) -> str:
    parts = {**cpu_fingerprint(), "size": size_class(transformer)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, key: str, entry: dict) -> None:
    data = _read_cache(path)
    data[key] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache only costs a re-measurement next time
        log.warning("cannot cache the CPU precision choice in %s: %s", path, exc)


@torch.inference_mode()
def measure(transformer: torch.nn.Module) -> PrecisionChoice:
    """Time ``LAYERS_TIMED`` of the model's layers on a full-length sequence in fp32 and in
    bf16 autocast, alternating, best of ``REPEATS`` after a warm-up; choose the faster.

    The layers are identical in shape, so their ratio is the whole forward's (checked against
    full forwards by ``benchmarks/bench_official.py``). Costs
    ``2 * (REPEATS + 1) * LAYERS_TIMED`` layer forwards.
    """
    from .device import precision_context  # device imports this module

    cfg = transformer.config
    device = torch.device("cpu")
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg.codebook_size, (1, cfg.seq_len), generator=g)
    positions = torch.arange(cfg.seq_len)
    x = transformer.embeddings_ln(
        transformer.word_embeddings(ids) + transformer.position_embeddings(positions)[None]
    )  # (1, T, H)
    layers = list(transformer.layers)[:LAYERS_TIMED]

    def run(precision: str) -> float:
        start = time.perf_counter()
        with precision_context(device, precision):
            h = x
            for layer in layers:
                h = layer(h)
        return time.perf_counter() - start

    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for rep in range(REPEATS + 1):
        for precision in ("fp32", "bf16") if rep % 2 else ("bf16", "fp32"):
            seconds = run(precision)
            if rep:  # the first round warms oneDNN's kernels and caches
                times[precision].append(seconds)
    per_layer = {p: min(t) / len(layers) * 1000 for p, t in times.items()}
    fp32_ms, bf16_ms = per_layer["fp32"], per_layer["bf16"]
    choice = "bf16" if fp32_ms > BF16_MIN_SPEEDUP * bf16_ms else "fp32"
    reason = f"measured: fp32 {fp32_ms:.1f} ms vs bf16 {bf16_ms:.1f} ms per layer"
    return PrecisionChoice(choice, reason, fp32_ms, bf16_ms)


def auto_cpu_precision(transformer: torch.nn.Module, has_native_bf16: bool) -> PrecisionChoice:
    """The "auto" precision for ``transformer`` on this CPU (measured once, then cached)."""
    if forward_work(transformer) < MEASURE_MIN_WORK:
        return PrecisionChoice("fp32", "small model")
    if not has_native_bf16:
        return PrecisionChoice("fp32", "CPU without native bf16")
    path, key = cache_path(), cache_key(transformer)
    cached = _read_cache(path).get(key)
    if isinstance(cached, dict) and cached.get("precision") in ("fp32", "bf16"):
        fields = {k: cached.get(k) for k in ("precision", "reason", "fp32_ms", "bf16_ms")}
        return PrecisionChoice(**fields)
    start = time.perf_counter()
    choice = measure(transformer)
    log.info("CPU precision %s in %.2f s", choice.label, time.perf_counter() - start)
    if machine_busy():
        log.warning("the CPU is busy: the precision choice is used now and measured again later")
        return choice
    entry = {**asdict(choice), **cpu_fingerprint(), "size": size_class(transformer)}
    entry["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    _write_cache(path, key, entry)
    return choice


__all__ = [
    "PrecisionChoice",
    "auto_cpu_precision",
    "cache_path",
    "cpu_fingerprint",
    "forward_work",
    "machine_busy",
    "measure",
]
