"""The measured "auto" CPU precision: a real measurement on a tiny model, cached, re-measured."""

from __future__ import annotations

import json

import pytest
import torch

from maskgit_studio.engine import cpu_precision
from maskgit_studio.engine.config import TransformerConfig
from maskgit_studio.engine.device import transformer_precision
from maskgit_studio.engine.transformer import MaskGitTransformer
from tests.conftest import make_tiny_models


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MASKGIT_STUDIO_CACHE", str(tmp_path))
    monkeypatch.setattr(cpu_precision, "machine_busy", lambda: False)  # an idle machine
    return tmp_path


@pytest.fixture
def measured_calls(monkeypatch):
    """Counts real measurements (the real function runs)."""
    calls = []
    real = cpu_precision.measure

    def counting(transformer):
        calls.append(transformer)
        return real(transformer)

    monkeypatch.setattr(cpu_precision, "measure", counting)
    return calls


def test_small_models_and_cpus_without_bf16_stay_fp32_unmeasured(cache_dir, measured_calls):
    _, model = make_tiny_models()
    choice = cpu_precision.auto_cpu_precision(model, has_native_bf16=True)
    assert (choice.precision, choice.reason) == ("fp32", "small model")
    assert not measured_calls and not (cache_dir / cpu_precision.CACHE_FILE).exists()


def test_large_model_is_measured_once_then_cached(cache_dir, measured_calls, monkeypatch):
    monkeypatch.setattr(cpu_precision, "MEASURE_MIN_WORK", 0)  # the tiny model counts
    _, model = make_tiny_models()
    first = cpu_precision.auto_cpu_precision(model, has_native_bf16=True)
    assert first.precision in ("fp32", "bf16") and first.reason.startswith("measured:")
    assert first.fp32_ms > 0 and first.bf16_ms > 0
    assert (first.precision == "bf16") == (first.fp32_ms > 1.1 * first.bf16_ms)
    data = json.loads((cache_dir / cpu_precision.CACHE_FILE).read_text())
    (entry,) = data.values()
    assert entry["precision"] == first.precision and entry["torch"] == torch.__version__
    assert entry["size"] == "h32-m64-t65"

    again = cpu_precision.auto_cpu_precision(model, has_native_bf16=True)
    assert again == first and len(measured_calls) == 1  # from the cache

    # Another thread count (or torch, or CPU) is another key: measured again.
    threads = torch.get_num_threads()
    torch.set_num_threads(threads + 1)
    try:
        cpu_precision.auto_cpu_precision(model, has_native_bf16=True)
    finally:
        torch.set_num_threads(threads)
    assert len(measured_calls) == 2
    assert len(json.loads((cache_dir / cpu_precision.CACHE_FILE).read_text())) == 2


def test_a_choice_measured_on_a_busy_machine_is_not_cached(cache_dir, measured_calls, monkeypatch):
    monkeypatch.setattr(cpu_precision, "MEASURE_MIN_WORK", 0)
    monkeypatch.setattr(cpu_precision, "machine_busy", lambda: True)
    _, model = make_tiny_models()
    first = cpu_precision.auto_cpu_precision(model, has_native_bf16=True)
    assert first.reason.startswith("measured:")
    assert not (cache_dir / cpu_precision.CACHE_FILE).exists()
    cpu_precision.auto_cpu_precision(model, has_native_bf16=True)
    assert len(measured_calls) == 2  # measured again: nothing was kept
    monkeypatch.setattr(cpu_precision, "machine_busy", lambda: False)
    cpu_precision.auto_cpu_precision(model, has_native_bf16=True)
    assert (cache_dir / cpu_precision.CACHE_FILE).exists() and len(measured_calls) == 3


def test_machine_busy_reads_the_load_against_the_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.getloadavg", lambda: (3.1, 1.0, 1.0))
    assert cpu_precision.machine_busy()
    monkeypatch.setattr("os.getloadavg", lambda: (1.2, 1.0, 1.0))
    assert not cpu_precision.machine_busy()


def test_cached_choice_is_what_auto_uses(cache_dir, monkeypatch):
    monkeypatch.setattr(cpu_precision, "MEASURE_MIN_WORK", 0)
    _, model = make_tiny_models()
    key = cpu_precision.cache_key(model)
    entry = {"precision": "bf16", "reason": "measured: planted", "fp32_ms": 2.0, "bf16_ms": 1.0}
    (cache_dir / cpu_precision.CACHE_FILE).write_text(json.dumps({key: entry}))
    cpu = torch.device("cpu")
    choice = transformer_precision(cpu, model)
    if choice.reason == "CPU without native bf16":
        pytest.skip("this CPU has no native bf16")
    assert choice.precision == "bf16" and choice.reason == "measured: planted"
    assert transformer_precision(cpu, model, "fp32").precision == "fp32"


def test_damaged_cache_is_measured_again(cache_dir, monkeypatch):
    monkeypatch.setattr(cpu_precision, "MEASURE_MIN_WORK", 0)
    (cache_dir / cpu_precision.CACHE_FILE).write_text("{not json")
    _, model = make_tiny_models()
    choice = cpu_precision.auto_cpu_precision(model, has_native_bf16=True)
    assert choice.reason.startswith("measured:")
    assert json.loads((cache_dir / cpu_precision.CACHE_FILE).read_text())


def test_choice_on_other_devices():
    _, model = make_tiny_models()
    assert transformer_precision(torch.device("cuda"), model).precision == "bf16"
    assert transformer_precision(torch.device("mps"), model).precision == "fp32"
    with pytest.raises(ValueError, match="unknown precision"):
        transformer_precision(torch.device("cpu"), model, "fp8")


def test_the_16x16_default_shape_is_measured_and_the_8x8_one_is_not():
    """The work threshold splits the two bundled shapes: same transformer, 65 vs 257 tokens."""

    def work(grid: int) -> int:
        cfg = TransformerConfig(
            codebook_size=1024, num_classes=12, has_null_class=True, grid_size=grid,
            hidden_size=256, num_layers=6, num_heads=8, mlp_size=1024,
        )  # fmt: skip
        return cpu_precision.forward_work(MaskGitTransformer(cfg))

    assert work(8) < cpu_precision.MEASURE_MIN_WORK < work(16)
