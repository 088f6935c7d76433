import math

import pytest
import torch

from maskgit_studio.engine.config import SCHEDULES
from maskgit_studio.engine.mask_schedule import mask_ratio, num_masked_for_training


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_endpoints_and_monotone(name):
    r = torch.linspace(0, 1, 101)
    g = mask_ratio(name, r, 256)
    # exp starts at 1 - 1/N by its official formula; every other schedule at exactly 1.
    assert g[0] == pytest.approx(1.0, abs=1 / 256 if name == "exp" else 1e-5)
    assert g[-1] <= 1e-3
    assert (g >= 1e-6).all() and (g <= 1).all()
    assert (g[1:] <= g[:-1] + 1e-6).all()


def test_schedule_formulas():
    r = 0.3
    assert mask_ratio("cosine", r).item() == pytest.approx(math.cos(math.pi / 2 * r), rel=1e-6)
    assert mask_ratio("linear", r).item() == pytest.approx(0.7, rel=1e-6)
    assert mask_ratio("square", r).item() == pytest.approx(1 - 0.09, rel=1e-6)
    assert mask_ratio("cubic", r).item() == pytest.approx(1 - 0.027, rel=1e-6)
    assert mask_ratio("sqrt", r).item() == pytest.approx(1 - math.sqrt(r), rel=1e-6)
    assert mask_ratio("log", r, 256).item() == pytest.approx(-math.log2(r) / 8, rel=1e-6)
    assert mask_ratio("exp", r, 256).item() == pytest.approx(1 - 2 ** (-8 * 0.7), rel=1e-6)
    assert mask_ratio("arccos", r).item() == pytest.approx(math.acos(r) / (math.pi / 2), rel=1e-6)
    with pytest.raises(ValueError, match="unknown schedule"):
        mask_ratio("bogus", r)


def test_training_mask_counts_follow_the_schedule():
    g = torch.Generator().manual_seed(0)
    counts = num_masked_for_training("cosine", 64, 20000, g)
    assert counts.min() >= 1 and counts.max() <= 64
    # E[cos(pi/2 r)] = 2/pi for r ~ U(0,1): the mean masked fraction.
    assert (counts.float().mean() / 64).item() == pytest.approx(2 / math.pi, abs=0.02)
