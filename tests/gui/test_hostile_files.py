"""The studio's file controller on the hostile corpus (pytest-qt, offscreen): every file is
refused with one dialog, in bounded time and memory, and the open document is kept as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import EpsImagePlugin

from maskgit_studio.editor import Autosaver, Document, find_recoverable
from maskgit_studio.engine import images
from tests.hostile import corpus
from tests.hostile.harness import bounded
from tests.hostile.test_images import IMAGE_CASES
from tests.hostile.test_projects import PROJECT_CASES

from .conftest import make_window


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio-hostile")
    return corpus.hostile_projects(root / "projects"), corpus.hostile_images(root / "images")


def _refused(window, action, label) -> str | None:
    """Run ``action``; None when it was refused cleanly, else what went wrong."""
    doc, version = window.doc, window.doc.version
    window.errors.clear()
    try:
        with bounded(extra_mb=1024):
            result = action()
    except BaseException as exc:  # noqa: BLE001 - the point is to see anything that escapes
        return f"{label}: {type(exc).__name__} escaped: {str(exc)[:120]}"
    if result is not False:
        return f"{label}: accepted"
    if len(window.errors) != 1:
        return f"{label}: {len(window.errors)} dialogs"
    if window.doc is not doc or window.doc.version != version:
        return f"{label}: the open document changed"
    return None


def test_studio_refuses_hostile_projects_and_images(window, hostile, tmp_path, monkeypatch):
    projects, pictures = hostile
    bin_dir, marker = corpus.fake_ghostscript(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None, raising=False)
    window.doc.paint([(0, 0)])
    window.files.maybe_save_changes = lambda: True  # keep the edited document open
    failures = [
        f
        for case in PROJECT_CASES
        if (f := _refused(window, lambda c=case: window.files.open_path(projects[c]), case))
    ]
    failures += [
        f
        for case in IMAGE_CASES
        if (f := _refused(window, lambda c=case: window.files.open_path(pictures[c]), case))
    ]
    failures += [
        f
        for case in IMAGE_CASES
        if (f := _refused(window, lambda c=case: window.files.import_mask_from(pictures[c]), case))
    ]
    if marker.exists():
        failures.append("Ghostscript ran")
    total = len(PROJECT_CASES) + 2 * len(IMAGE_CASES)
    assert not failures, f"{len(failures)} of {total} cases:\n" + "\n".join(failures)


@pytest.mark.parametrize("case", ["meta-list", "version-null", "image-20000x20000"])
def test_start_up_with_a_hostile_project_shows_one_dialog(
    case, qtbot, session, settings, tmp_path, hostile
):
    window = make_window(qtbot, session, settings, tmp_path / "autosave")
    window.start(str(hostile[0][case]))
    qtbot.waitUntil(lambda: window.info is not None and window.doc is not None, timeout=20_000)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=20_000)
    assert len(window.errors) == 1 and window.doc.is_blank
    window.controller.shutdown()
    window.files.close()


def test_studio_mask_import_reads_masks_like_the_cli(window, tmp_path):
    doc = window.doc
    shape = doc.shape
    failures = []
    for case, (path, want) in corpus.mask_variants(tmp_path, shape).items():
        assert window.files.import_mask_from(path)
        cli_cells = images.load_mask(path, shape)
        cell = doc.cell_size
        rows, cols = doc.grid_shape
        padded = np.zeros((rows * cell, cols * cell), bool)
        padded[: shape[0], : shape[1]] = cli_cells
        expected = padded.reshape(rows, cell, cols, cell).any(axis=(1, 3))
        if not np.array_equal(doc.mask, expected) or not np.array_equal(cli_cells, want):
            failures.append(case)
    assert not failures


def _start_ticks(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_autosave_of_a_dead_session_is_offered_when_its_pid_was_reused(tmp_path):
    """The crashed session's pid now belongs to another live process: still recoverable."""
    saver = Autosaver(tmp_path)
    saver.save(Document(np.zeros((16, 16, 3), np.uint8), 8))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.05)
        info = json.loads(saver.lock.read_text())
        info["pid"] = other.pid  # as if the crashed session had had this pid
        saver.lock.write_text(json.dumps(info))
        found = find_recoverable(tmp_path)
        assert [r.path for r in found] == [saver.path]
    finally:
        other.kill()
        other.wait()
    assert find_recoverable(tmp_path) != [] and _start_ticks(os.getpid()) > 0
