"""Autosave after changes and recovery after a real crashed process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from maskgit_studio.editor import Autosaver, Document, find_recoverable, save_project


def test_autosave_writes_only_new_versions_and_clean_exit_leaves_nothing(tmp_path):
    saver = Autosaver(tmp_path)
    doc = Document(np.zeros((32, 32, 3), np.uint8), 8)
    assert saver.save(doc)
    assert not saver.save(doc)  # same version
    doc.paint([(1, 1)])
    assert saver.save(doc)
    assert find_recoverable(tmp_path) == []  # our own session is alive
    saver.close()
    assert list(tmp_path.iterdir()) == []


CRASHING_APP = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    from maskgit_studio.editor import Autosaver, Box, Document
    saver = Autosaver(sys.argv[1])
    doc = Document(np.full((40, 48, 3), 99, np.uint8), 8)
    doc.path = None
    doc.paint([(0, 0), (4, 5)])
    saver.save(doc)
    doc.add_box(Box(8, 8, 16, 16, 2))
    saver.save(doc)
    os._exit(3)  # a crash: no clean-up runs
    """
)


def test_recovery_after_a_crash(tmp_path):
    proc = subprocess.run([sys.executable, "-c", CRASHING_APP, str(tmp_path)], timeout=60)
    assert proc.returncode == 3
    (found,) = find_recoverable(tmp_path)
    assert "unsaved document" in found.title
    doc = found.load()
    assert doc.modified and doc.path is None
    assert (doc.image == 99).all() and doc.mask.sum() == 2 and doc.mask[4, 5]
    assert [b.xywh for b in doc.boxes] == [(8, 8, 16, 16)] and doc.boxes[0].class_id == 2
    found.discard()
    assert find_recoverable(tmp_path) == []


def test_recovery_remembers_the_project_path(tmp_path):
    project = tmp_path / "work.mgstudio"
    doc = Document(np.zeros((16, 16, 3), np.uint8), 8)
    save_project(doc, project)
    saver = Autosaver(tmp_path / "state")
    doc.paint([(0, 0)])
    saver.save(doc)
    # pretend the process died: rewrite the lock with a pid that cannot exist
    lock = saver.lock.read_text().replace(f'"pid": {__import__("os").getpid()}', '"pid": 999999999')
    saver.lock.write_text(lock)
    (found,) = find_recoverable(tmp_path / "state")
    assert found.project == project and "work.mgstudio" in found.title
    assert found.load().path == project
