"""EngineSession on a tiny random-weight bundle (64 px, f = 8, 8x8 tokens): generation, runs,
cancellation, determinism, model/device handling."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.engine.checkpoint import CheckpointError
from maskgit_studio.engine.config import SamplerConfig
from maskgit_studio.engine.session import EngineSession

FAST = SamplerConfig(steps=6, seed=3)


@pytest.fixture
def session(tiny_bundle_path):
    s = EngineSession(tiny_bundle_path, device="cpu")
    yield s
    s.close()


def test_info_and_geometry(session):
    info = session.info
    assert info.image_size == 64 and info.grid_size == 8 and info.downsample_factor == 8
    assert info.class_names == ("circle", "square", "triangle")
    assert info.supports_guidance and info.device == "cpu" and info.parameters > 0
    assert info.name == "tiny"
    assert session.cell_size(3) == 24
    assert session.default_scale(300, 200) == 3
    with pytest.raises(ValueError):
        session.cell_size(0)


def test_generate_yields_exact_steps_and_result(session):
    run = session.generate(1, SamplerConfig(steps=12, seed=1), variations=2)
    assert run.total_steps == 12
    steps = list(run)
    assert len(steps) == 12 and run.result is not None
    assert [s.index for s in steps] == list(range(12))
    first, last = steps[0], steps[-1]
    assert first.ids.shape == (2, 8, 8) and first.ids.dtype == np.int32
    assert first.preview.shape == (2, 64, 64, 3) and first.preview.dtype == np.uint8
    assert first.masked.any() and not last.masked.any()
    # Every token is revealed exactly once.
    revealed = np.sum([s.revealed for s in steps], axis=0)
    np.testing.assert_array_equal(revealed, 1)
    result = run.result
    assert len(result.images) == 2 and result.images[0].shape == (64, 64, 3)
    np.testing.assert_array_equal(result.tokens, last.ids)
    assert result.commit_order.min() == 0 and result.commit_order.max() == 11
    # The final image is the decode of the final tokens (the last preview).
    np.testing.assert_array_equal(result.images[1], last.preview[1])
    assert result.request["operation"] == "generate" and result.request["seed"] == 1


def test_same_seed_same_output_new_seed_differs(tiny_bundle_path):
    a = EngineSession(tiny_bundle_path, "cpu").generate(0, FAST, previews=False).run_to_end()
    b = EngineSession(tiny_bundle_path, "cpu").generate(0, FAST, previews=False).run_to_end()
    c = EngineSession(tiny_bundle_path, "cpu").generate(0, FAST.replace(seed=4)).run_to_end()
    np.testing.assert_array_equal(a.tokens, b.tokens)
    np.testing.assert_array_equal(a.images[0], b.images[0])
    assert (a.tokens != c.tokens).any()


def test_cancel_between_steps(session):
    run = session.generate(0, FAST)
    next(run)
    next(run)
    run.close()
    assert run.cancelled and run.result is None
    assert list(run) == []


def test_null_class_and_refusals(session, tiny_bundle_no_null_path):
    session.generate(None, FAST).run_to_end()  # tiny has a null class
    other = EngineSession(tiny_bundle_no_null_path, "cpu")
    assert not other.info.supports_guidance
    with pytest.raises(ValueError, match="null"):
        other.generate(None, FAST)
    with pytest.raises(ValueError, match="guidance"):
        other.generate(0, FAST.replace(guidance_scale=1.0))
    with pytest.raises(ValueError, match="out of range"):
        session.generate(7, FAST)
    with pytest.raises(ValueError, match="variations"):
        session.generate(0, FAST, variations=0)


def test_guidance_runs_on_null_class_model(session):
    result = session.generate(2, FAST.replace(guidance_scale=2.0), previews=False).run_to_end()
    assert result.images[0].shape == (64, 64, 3)


def test_branch_from_generate_keeps_committed_tokens(session):
    run = session.generate(0, SamplerConfig(steps=8, seed=5), variations=2)
    steps = list(run)
    step = steps[3]
    branch = session.branch(
        run.result, step, variation=1, class_id=2, sampler=SamplerConfig(steps=8, seed=9)
    )
    assert branch.total_steps == 4
    tail = list(branch)
    assert [s.index for s in tail] == [4, 5, 6, 7]
    result = branch.result
    assert len(result.images) == 1
    committed = step.ids[1] != session.info.codebook_size + 3 + 1  # mask id = vocab - 1
    np.testing.assert_array_equal(result.tokens[0][committed], step.ids[1][committed])
    assert result.request["operation"] == "branch" and result.request["step"] == 3
    with pytest.raises(ValueError, match="last"):
        session.branch(run.result, steps[-1], 0, None, SamplerConfig(steps=8))


def test_load_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 4)
    with pytest.raises(CheckpointError):
        EngineSession(None, "cpu").load(bad)
    with pytest.raises(FileNotFoundError):
        EngineSession(None, "cpu").load("no-such-model")
    with pytest.raises(ValueError):
        EngineSession(None, device="tpu")


def test_devices_and_reload(session, tiny_bundle_no_null_path):
    assert session.available_devices()[-1] == "cpu"
    session.set_device("cpu")
    info = session.load(tiny_bundle_no_null_path)
    assert info.name == "tiny-nonull" and session.info.name == "tiny-nonull"
    assert isinstance(EngineSession.available_models(), list)
