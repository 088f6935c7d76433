import pytest
import torch

from maskgit_studio.engine.device import (
    available_devices,
    pick_device,
    precision_context,
    transformer_precision,
)
from tests.conftest import make_tiny_models


def test_cpu_is_always_available_and_auto_resolves():
    assert available_devices()[-1] == "cpu"
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type in available_devices()
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")


def test_precision_policy():
    cpu = torch.device("cpu")
    assert transformer_precision(cpu, 1_000_000) == "fp32"  # small models stay fp32 on CPU
    assert transformer_precision(cpu, 10**9, "fp32") == "fp32"
    assert transformer_precision(torch.device("cuda"), 10) == "bf16"
    with pytest.raises(ValueError, match="unknown precision"):
        transformer_precision(cpu, 10, "fp8")


def test_bf16_context_changes_matmul_dtype_and_stays_close():
    _, model = make_tiny_models()
    ids = torch.randint(0, 64, (2, model.config.seq_len))
    with torch.inference_mode():
        ref = model.image_logits(ids)
        with precision_context(torch.device("cpu"), "bf16"):
            low = model.image_logits(ids)
    assert not torch.equal(low.float(), ref)  # the matmuls really ran in bf16
    assert (low.float() - ref).abs().max() < 0.05
    assert (low.float().argmax(-1) == ref.argmax(-1)).float().mean() > 0.9


def test_session_precision_option(tiny_bundle_path):
    from maskgit_studio.engine.session import EngineSession

    assert EngineSession(tiny_bundle_path, device="cpu")._model().precision == "fp32"  # tiny: fp32
    forced = EngineSession(tiny_bundle_path, device="cpu", precision="bf16")
    assert forced._model().precision == "bf16"
    result = forced.generate(0, forced.recommended_sampler().replace(steps=3)).run_to_end()
    assert result.images[0].dtype.name == "uint8"
    with pytest.raises(ValueError, match="unknown precision"):
        EngineSession(tiny_bundle_path, precision="fp8")
