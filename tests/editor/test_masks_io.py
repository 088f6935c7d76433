"""Mask PNG import/export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from maskgit_studio.editor import export_mask, import_mask


def test_export_then_import_is_exact(tmp_path):
    cells = np.zeros((3, 5), bool)
    cells[0, 0] = cells[2, 4] = True
    path = tmp_path / "m.png"
    export_mask(path, cells, (40, 70), 16)
    pixels = np.asarray(Image.open(path))
    assert pixels.shape == (40, 70) and pixels[32:40, 64:70].min() == 255
    assert int((pixels == 255).sum()) == 16 * 16 + 8 * 6
    np.testing.assert_array_equal(import_mask(path, (40, 70), 16), cells)


def test_import_uses_alpha_and_checks_size(tmp_path):
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[20, 20, 3] = 255
    Image.fromarray(rgba).save(tmp_path / "a.png")
    assert import_mask(tmp_path / "a.png", (32, 32), 16).tolist() == [[0, 0], [0, 1]]
    with pytest.raises(ValueError, match="32x32 px but the image is 48x32"):
        import_mask(tmp_path / "a.png", (32, 48), 16)
    (tmp_path / "b.png").write_bytes(b"nope")
    with pytest.raises(ValueError, match="not an image in a supported format"):
        import_mask(tmp_path / "b.png", (32, 32), 16)
