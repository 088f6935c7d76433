"""Seamless composite: colour match, Poisson blend, detail match, the window blend."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.engine import editing_blend as eb
from maskgit_studio.engine import editing_composite as ec


def _direct_membrane(values: np.ndarray, domain: np.ndarray) -> np.ndarray:
    """Dense solve of the 5-point Laplace equation (Neumann at the array edge)."""
    height, width = domain.shape
    index = -np.ones((height, width), dtype=int)
    points = np.argwhere(domain)
    index[domain] = np.arange(len(points))
    a = np.zeros((len(points), len(points)))
    b = np.zeros((len(points), values.shape[2]))
    for k, (y, x) in enumerate(points):
        for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            yy, xx = y + dy, x + dx
            if 0 <= yy < height and 0 <= xx < width:
                a[k, k] += 1
                if domain[yy, xx]:
                    a[k, index[yy, xx]] -= 1
                else:
                    b[k] += values[yy, xx]
    out = values.astype(np.float64).copy()
    out[domain] = np.linalg.solve(a, b)
    return out


def _scene(seed: int = 0, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = np.stack([80 + xx, 120 + yy // 2, 60 + (xx + yy) // 3], axis=-1).astype(np.float32)
    return np.clip(base + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)


def test_membrane_matches_a_direct_solve():
    rng = np.random.default_rng(1)
    values = rng.normal(0, 30, (36, 44, 3)).astype(np.float32)
    domain = np.zeros((36, 44), dtype=bool)
    domain[4:30, 6:40] = True
    domain[0:8, 18:26] = True  # reaches the array's edge: a Neumann border there
    got = eb.solve_membrane(values, domain, tolerance=1e-3)
    want = _direct_membrane(values, domain)
    assert np.abs(got - want).max() < 0.05
    np.testing.assert_array_equal(got[~domain], values[~domain])


def test_colour_match_removes_a_constructed_offset():
    original = _scene()
    generated = original.astype(np.float32) * 0.9 + np.array([25.0, -15.0, 10.0])
    kept = np.ones(original.shape[:2], dtype=np.float32)
    kept[20:40, 20:40] = 0  # the fill: not part of the fit
    matched, gain, offset = eb.colour_match(generated, original, kept)
    assert np.abs(matched - original).max() < 1.0  # inside the fill too
    np.testing.assert_allclose(gain, 1 / 0.9, rtol=0.02)
    # Nothing to fit: unchanged.
    same, gain, _ = eb.colour_match(generated, original, np.zeros_like(kept))
    np.testing.assert_array_equal(same, generated.astype(np.float32))
    np.testing.assert_array_equal(gain, 1.0)


def _border_step(image: np.ndarray, domain: np.ndarray) -> float:
    """Mean absolute difference across the domain's border (pairs of 4-neighbours)."""
    x = image.astype(np.float32)
    steps = []
    for axis in (0, 1):
        a, b = np.swapaxes(domain, 0, axis), np.swapaxes(x, 0, axis)
        cross = a[1:] != a[:-1]
        steps.append(np.abs(b[1:] - b[:-1])[cross].mean())
    return float(np.mean(steps))


def test_poisson_blend_removes_a_border_step_and_keeps_the_fill_gradients():
    original = _scene(2).astype(np.float32)
    domain = np.zeros(original.shape[:2], dtype=bool)
    domain[16:48, 12:52] = True
    rng = np.random.default_rng(3)
    generated = np.clip(original + 60 + rng.normal(0, 6, original.shape), 0, 255)
    pasted = np.where(domain[..., None], generated, original)
    blended = eb.poisson_blend(original, generated, domain)
    assert _border_step(pasted, domain) > 3 * _border_step(original, domain)
    assert _border_step(blended, domain) < 1.3 * _border_step(original, domain)
    np.testing.assert_array_equal(blended[~domain], original[~domain])
    inner = domain.copy()
    inner[[16, 47], :] = False
    inner[:, [12, 51]] = False
    # Inside, the generated image's gradients survive: the correction is smooth.
    dx_gen = np.diff(generated, axis=1)[inner[:, 1:] & inner[:, :-1]]
    dx_out = np.diff(blended, axis=1)[inner[:, 1:] & inner[:, :-1]]
    assert np.abs(dx_gen - dx_out).mean() < 1.0


def test_poisson_blend_on_a_coarse_grid_for_large_domains():
    original = _scene(4, size=96).astype(np.float32)
    domain = np.zeros(original.shape[:2], dtype=bool)
    domain[10:86, 10:86] = True
    generated = original + 40.0
    fine = eb.poisson_blend(original, generated, domain)
    coarse = eb.poisson_blend(original, generated, domain, max_side=24)
    # A constant offset is removed either way (the coarse grid is exact for it).
    assert np.abs(fine - original)[domain].mean() < 1.0
    assert np.abs(coarse - original)[domain].mean() < 2.0
    np.testing.assert_array_equal(coarse[~domain], original[~domain])


def test_detail_match_gives_a_smooth_fill_the_context_grain():
    original = _scene(5)
    generated = np.full(original.shape, 128.0, dtype=np.float32)  # no detail at all
    fill = np.zeros(original.shape[:2], dtype=bool)
    fill[16:48, 16:48] = True
    kept = ~fill
    out = eb.detail_match(generated, original, fill, kept, 8, np.random.default_rng(0))
    energy = (eb.detail_layer(out) ** 2).mean(axis=-1)
    context = (eb.detail_layer(original) ** 2).mean(axis=-1)
    inner = np.zeros_like(fill)
    inner[20:44, 20:44] = True
    ratio = energy[inner].mean() / context[kept].mean()
    assert 0.6 < ratio < 1.6
    np.testing.assert_array_equal(out[~fill], generated[~fill])
    again = eb.detail_match(generated, original, fill, kept, 8, np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)


@pytest.mark.parametrize("mode", ["poisson", "alpha"])
def test_blend_window_changes_only_the_feathered_region(mode):
    base = _scene(6)
    generated = np.clip(base.astype(np.int16) + 50, 0, 255).astype(np.uint8)
    region = np.zeros(base.shape[:2], dtype=bool)
    region[20:30, 25:41] = True
    kept = np.ones_like(region)
    kept[16:32, 24:48] = False
    blend = ec.Blend(mode)
    out, changed = ec.blend_window(
        base, generated, region, 3, kept, 8, blend, np.random.default_rng(0)
    )
    np.testing.assert_array_equal(changed, ec.feather_changed(region, 3))
    np.testing.assert_array_equal(out[~changed], base[~changed])
    assert (out[region] != base[region]).any()
    with pytest.raises(ValueError, match="blend mode"):
        ec.Blend("median")


def test_seamless_feather_is_a_quarter_cell():
    assert ec.seamless_feather(16) == 4
    assert ec.seamless_feather(64) == 16
    assert ec.seamless_feather(2) == 1
