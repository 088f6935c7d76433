"""Device and precision choice: CUDA, then MPS, then CPU; bf16 autocast or strict fp32."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import torch

from .cpu_precision import PrecisionChoice, auto_cpu_precision

log = logging.getLogger(__name__)

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """Devices this machine can run on, best first (always ends with "cpu")."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def pick_device(preference: str = "auto") -> torch.device:
    """Resolve "auto"/"cpu"/"cuda"/"mps" (or "cuda:1") to an available torch.device."""
    if preference == "auto":
        return torch.device(available_devices()[0])
    kind = preference.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {preference!r}; choose from {', '.join(DEVICE_CHOICES)}")
    if kind not in available_devices():
        raise ValueError(f"device {preference!r} is not available on this machine")
    return torch.device(preference)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for accelerator out-of-memory errors (CUDA or MPS)."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def release_cached_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


def cpu_has_native_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def transformer_precision(
    device: torch.device, transformer: torch.nn.Module, preference: str = "auto"
) -> PrecisionChoice:
    """The precision of the transformer's forward passes ("fp32" or "bf16") and why.

    auto: bf16 on CUDA; on CPU, whichever of fp32 and bf16 a one-time measurement of this
    model's layers found faster on this machine (see ``cpu_precision``); fp32 elsewhere.
    """
    if preference in ("fp32", "bf16"):
        return PrecisionChoice(preference, "chosen")
    if preference != "auto":
        raise ValueError(f"unknown precision {preference!r}; choose auto, fp32 or bf16")
    if device.type == "cuda":
        return PrecisionChoice("bf16", "auto on CUDA")
    if device.type == "cpu":
        return auto_cpu_precision(transformer, cpu_has_native_bf16())
    return PrecisionChoice("fp32", f"auto on {device.type}")


@contextlib.contextmanager
def strict_fp32(device: torch.device) -> Iterator[None]:
    """On CUDA, TF32 off for matmuls and convolutions (cuDNN allows it by default) while inside,
    restored after; elsewhere a no-op. fp32 then means fp32 end to end."""
    if device.type != "cuda":
        yield
        return
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn


@contextlib.contextmanager
def precision_context(device: torch.device, precision: str) -> Iterator[None]:
    """bf16 autocast when ``precision == "bf16"`` (CPU or CUDA); strict fp32 (no TF32) for
    "fp32" on CUDA; a no-op otherwise."""
    if precision == "bf16" and device.type in ("cpu", "cuda"):
        with torch.autocast(device.type, dtype=torch.bfloat16):
            yield
    else:
        with strict_fp32(device):
            yield


def tokenizer_context(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The tokenizer's context: it follows the transformer's precision on CUDA (bf16 autocast,
    or strict fp32) and always runs in fp32 on the CPU, so edited pixels stay exact there."""
    return precision_context(device, precision if device.type == "cuda" else "fp32")
