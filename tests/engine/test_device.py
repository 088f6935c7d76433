import numpy as np
import pytest
import torch

from maskgit_studio.engine.device import (
    available_devices,
    pick_device,
    precision_context,
)
from tests.conftest import make_tiny_models


def test_cpu_is_always_available_and_auto_resolves():
    assert available_devices()[-1] == "cpu"
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type in available_devices()
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")


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

    info = EngineSession(tiny_bundle_path, device="cpu").info
    assert (info.precision, info.precision_reason) == ("fp32", "small model")
    forced = EngineSession(tiny_bundle_path, device="cpu", precision="bf16")
    assert forced._model().precision == "bf16"
    result = forced.generate(0, forced.recommended_sampler().replace(steps=3)).run_to_end()
    assert result.images[0].dtype.name == "uint8"
    with pytest.raises(ValueError, match="unknown precision"):
        EngineSession(tiny_bundle_path, precision="fp8")


def test_strict_fp32_turns_tf32_off_on_cuda_and_restores_it():
    from maskgit_studio.engine.device import strict_fp32, tokenizer_context

    cuda = torch.device("cuda")
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    try:
        for ctx in (
            strict_fp32(cuda),
            precision_context(cuda, "fp32"),
            tokenizer_context(cuda, "fp32"),
        ):
            with ctx:
                assert not torch.backends.cuda.matmul.allow_tf32
                assert not torch.backends.cudnn.allow_tf32
                assert not torch.is_autocast_enabled("cuda")  # no bf16 tokenizer under fp32
            assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        with strict_fp32(torch.device("cpu")):  # CPU: untouched
            assert torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def test_tokenizer_stays_fp32_on_cpu_even_with_bf16_transformer():
    from maskgit_studio.engine.device import tokenizer_context

    tokenizer, _ = make_tiny_models()
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ref = tokenizer.decode_indices(tokenizer.encode_to_indices(x))
        with tokenizer_context(torch.device("cpu"), "bf16"):
            assert not torch.is_autocast_enabled("cpu")
            out = tokenizer.decode_indices(tokenizer.encode_to_indices(x))
    assert out.dtype == torch.float32 and torch.equal(out, ref)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fp32_session_on_cuda_matches_cpu(tiny_bundle_path):
    from maskgit_studio.engine.session import EngineSession

    results = []
    for device in ("cpu", "cuda"):
        session = EngineSession(tiny_bundle_path, device=device, precision="fp32")
        model = session._model()
        ids = torch.randint(0, 64, (2, model.config.seq_len), generator=torch.Generator())
        with torch.inference_mode():
            logits = model.logits_fn([64, 65], 0.0)(ids[:, 1:].to(model.device)).cpu()
            images = model.decode(ids[:, 1:].reshape(2, 8, 8))
        results.append((logits, images))
    (cpu_logits, cpu_images), (cuda_logits, cuda_images) = results
    assert (cpu_logits - cuda_logits).abs().max() < 1e-4  # TF32 would be ~1e-2
    assert np.abs(cpu_images.astype(int) - cuda_images.astype(int)).max() <= 1
