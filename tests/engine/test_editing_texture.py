"""Example-based detail transfer: the fill borrows the kept picture's detail, and only there."""

import numpy as np

from maskgit_studio.engine import editing_composite as ec
from maskgit_studio.engine import editing_texture as et


def _fine_energy(image: np.ndarray) -> np.ndarray:
    """(H, W) luma minus its 3x3 mean, squared."""
    y = np.asarray(image, dtype=np.float32) @ et.LUMA
    p = np.pad(y, 1, mode="edge")
    blur = sum(p[dy : dy + y.shape[0], dx : dx + y.shape[1]] for dy in range(3) for dx in range(3))
    return (y - blur / 9) ** 2


def _grainy(seed: int, size: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.full((size, size, 3), (90.0, 140.0, 70.0))  # a grass-like green
    grain = rng.normal(0, 6, (size, size, 1)) + rng.normal(0, 1, (size, size, 3))
    return np.clip(base + grain, 0, 255).astype(np.uint8)


def _box(size: int, lo: int, hi: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[lo:hi, lo:hi] = True
    return mask


def test_a_smooth_fill_borrows_the_grain_of_the_picture_around_it():
    original = _grainy(1)
    generated = np.full(original.shape, (92.0, 138.0, 71.0), dtype=np.float32)  # no detail
    fill = _box(96, 32, 64)
    kept = ~_box(96, 24, 72)  # whole cells around the fill
    out, borrowed = et.transfer_detail(
        generated, original, fill, kept, 8, 2, np.random.default_rng(0)
    )

    inner = _box(96, 34, 62)
    ratio = _fine_energy(out)[inner].mean() / _fine_energy(original)[kept].mean()
    assert 0.3 < ratio < 1.5, ratio
    assert _fine_energy(generated)[inner].mean() < 1e-6
    # The smooth content stays: only the detail band was added.
    assert abs(float(out[inner].mean() - generated[inner].mean())) < 1.5
    np.testing.assert_array_equal(out[~fill], generated[~fill])
    np.testing.assert_array_equal(borrowed, fill)
    again, _ = et.transfer_detail(generated, original, fill, kept, 8, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)


def test_a_soft_edge_in_the_fill_gets_the_crispness_of_the_edges_nearby():
    size = 96
    original = np.zeros((size, size, 3), dtype=np.uint8)
    original[:, :, :] = 60
    for x0 in (8, 40, 72):  # sharp vertical stripes, 12 px wide
        original[:, x0 : x0 + 12] = 200
    # The generated window: the same stripes, blurred the way an enlarged decode is.
    generated = et.gaussian_blur(original.astype(np.float32), 2.0)
    fill = np.zeros((size, size), dtype=bool)
    fill[32:64, 32:64] = True
    kept = np.zeros_like(fill)
    kept[:16], kept[-16:] = True, True  # rows of picture above and below the fill
    out, borrowed = et.transfer_detail(
        generated, original, fill, kept, 8, 2, np.random.default_rng(0)
    )

    def edge_step(image):  # steepest luma step across the stripe's left edge at x = 40
        y = np.asarray(image, dtype=np.float32)[40:56] @ et.LUMA
        return float(np.abs(np.diff(y, axis=1))[:, 36:44].max(axis=1).mean())

    assert edge_step(out) > 1.5 * edge_step(generated)
    assert edge_step(out) <= 1.1 * edge_step(original)
    # The edge stays where the model put it.
    row = np.asarray(out, dtype=np.float32)[48] @ et.LUMA
    assert int(np.argmax(np.diff(row[32:60]))) + 32 in (38, 39, 40)


def test_borrowed_detail_is_grey_so_colour_edges_do_not_paint_streaks():
    original = _grainy(2)
    original[::8, :] = (255, 0, 0)  # red lines in the picture
    generated = np.full(original.shape, 120.0, dtype=np.float32)
    fill = _box(96, 32, 64)
    out, borrowed = et.transfer_detail(
        generated, original, fill, ~_box(96, 24, 72), 8, 2, np.random.default_rng(0)
    )
    added = out[fill] - generated[fill]  # (N, 3)
    np.testing.assert_allclose(added[:, 0], added[:, 1], atol=1e-3)
    np.testing.assert_allclose(added[:, 1], added[:, 2], atol=1e-3)


def test_without_enough_picture_to_borrow_from_the_fill_is_unchanged():
    original = _grainy(3, 32)
    generated = np.full(original.shape, 100.0, dtype=np.float32)
    fill = np.ones((32, 32), dtype=bool)
    fill[:2] = False
    kept = ~fill
    out, borrowed = et.transfer_detail(
        generated, original, fill, kept, 8, 2, np.random.default_rng(0)
    )
    np.testing.assert_array_equal(out, generated)
    assert not borrowed.any()


def test_a_fill_with_detail_of_its_own_keeps_it():
    original = _grainy(4)
    # A decoded window with stronger fine detail than the picture's grain (fur in grass).
    rng = np.random.default_rng(5)
    generated = 110.0 + rng.normal(0, 20, (96, 96, 1)).repeat(3, axis=2).astype(np.float32)
    fill = _box(96, 32, 64)
    out, _ = et.transfer_detail(generated, original, fill, ~_box(96, 24, 72), 8, 1, rng)
    change = np.abs(out - generated)[fill].mean()
    assert change < 0.05 * np.abs(generated - 110.0)[fill].mean(), change


def test_the_seamless_composite_borrows_the_detail_and_detail_match_off_does_not():
    base = _grainy(6)
    generated = np.full(base.shape, (90, 140, 70), dtype=np.uint8)  # an enlarged, smooth fill
    region = _box(96, 32, 64)
    kept = ~_box(96, 24, 72)
    rng = np.random.default_rng(0)
    on, changed = ec.blend_window(base, generated, region, 2, kept, 8, ec.Blend(), rng, softness=2)
    off, _ = ec.blend_window(
        base, generated, region, 2, kept, 8, ec.Blend(detail_match=False), rng, softness=2
    )
    inner = _box(96, 36, 60)
    context = _fine_energy(base)[kept].mean()
    assert 0.4 < _fine_energy(on)[inner].mean() / context < 1.5
    assert _fine_energy(off)[inner].mean() / context < 0.1
    np.testing.assert_array_equal(on[~changed], base[~changed])


def _tiles(size: int, patch: int, stride: int) -> np.ndarray:
    starts = np.arange(0, size - patch + 1, stride)
    return np.stack(np.meshgrid(starts, starts, indexing="ij"), -1).reshape(-1, 2)


def test_cross_fading_unrelated_detail_patches_keeps_their_energy():
    patch, overlap = 16, 4
    corners = _tiles(112, patch, patch - overlap)
    rng = np.random.default_rng(7)
    pieces = [rng.normal(0, 5, (patch, patch)).astype(np.float32) for _ in corners]
    window = et._window(patch, overlap)
    kept, _ = et.cross_fade(pieces, corners, window, (112, 112), overlap)
    plain, _ = et.cross_fade(pieces, corners, window, (112, 112))

    inner = (slice(16, 96), slice(16, 96))
    energy = float(np.mean(np.stack(pieces) ** 2))  # 25
    assert 0.95 < float(np.mean(kept[inner] ** 2)) / energy < 1.05
    assert float(np.mean(plain[inner] ** 2)) / energy < 0.9  # what the plain mean loses


def test_cross_fading_patches_that_agree_does_not_brighten_them():
    # Neighbours cut from one map at their own places agree where they overlap (an edge two
    # neighbouring patches both borrowed): the cross-fade must give that map back, not more.
    patch, overlap = 16, 4
    corners = _tiles(112, patch, patch - overlap)
    whole = np.random.default_rng(8).normal(0, 5, (112, 112)).astype(np.float32)
    pieces = [whole[y : y + patch, x : x + patch] for y, x in corners]
    mixed, weight = et.cross_fade(pieces, corners, et._window(patch, overlap), (112, 112), overlap)
    covered = weight > 0.999
    np.testing.assert_allclose(mixed[covered], whole[covered], atol=1e-3)


def test_a_pixel_mask_fill_borrows_from_the_unpainted_pixels_of_its_own_cells():
    # The painted disc touches every cell of the window, so no cell is kept whole; the cells'
    # unpainted pixels still hold the real, grainy picture.
    size = 96
    base = _grainy(9)
    yy, xx = np.mgrid[0:size, 0:size]
    region = (yy - 48) ** 2 + (xx - 48) ** 2 <= 30**2
    generated = np.full(base.shape, (90, 140, 70), dtype=np.uint8)
    kept = np.zeros((size, size), dtype=bool)

    def fill_energy(real):
        out, _ = ec.blend_window(
            base, generated, region, 2, kept, 8, ec.Blend(), np.random.default_rng(0), None, 2, real
        )
        return _fine_energy(out)[(yy - 48) ** 2 + (xx - 48) ** 2 <= 26**2].mean()

    picture = _fine_energy(base)[~region].mean()
    assert fill_energy(~region) > 0.3 * picture
    assert fill_energy(None) < 0.05 * picture  # no kept cell to lend anything
