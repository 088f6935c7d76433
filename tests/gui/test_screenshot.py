"""The real-window smoke check: ``scripts/screenshot.py`` opens the studio in a real X server
(Xvfb), where there is one, and the picture it takes shows the whole window."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
XVFB_RUN = shutil.which("xvfb-run")

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(XVFB_RUN is None, reason="no Xvfb here (apt-get install xvfb)"),
]


def test_the_studio_window_under_xvfb(tiny_bundle_path, tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, OMP_NUM_THREADS="1", MASKGIT_STUDIO_STATE=str(tmp_path / "state"))
    env.pop("QT_QPA_PLATFORM", None)
    command = [
        XVFB_RUN, "-a", "-s", "-screen 0 1600x1000x24",
        sys.executable, str(ROOT / "scripts" / "screenshot.py"), "--platform", "xcb",
        "--scene", "edit", "--model", str(tiny_bundle_path), "--out", str(out),
        "--size", "1280x720", "--timeout", "240",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    picture = np.asarray(Image.open(out).convert("RGB"))
    assert picture.shape[:2] == (720, 1280)  # the whole window, at the size asked for
    colours = np.unique(picture.reshape(-1, 3), axis=0)
    assert len(colours) > 500  # the photo, the panels and their text: not a blank window
