"""Project files: round trip, atomic saves, clear errors."""

from __future__ import annotations

import errno
import json
import os
import zipfile

import numpy as np
import pytest

from maskgit_studio.editor import (
    Box,
    Candidates,
    Document,
    Growth,
    ProjectError,
    RunRecord,
    load_project,
    save_project,
)


def _edited_doc():
    image = np.random.default_rng(1).integers(0, 256, (48, 70, 3), dtype=np.uint8)
    doc = Document(image, 8, 2)
    doc.add_box(Box(16, 0, 32, 16, class_id=5))
    tokens = np.arange(2 * 3 * 4, dtype=np.int32).reshape(2, 3, 4)
    order = np.full((2, 3, 4), -1, np.int16)
    order[:, 0] = [0, 1, 1, 2]
    run = doc.add_run(RunRecord(1, "inpaint", {"seed": 7, "steps": 12}, tokens, order))
    changed = np.ones((48, 70), bool)
    doc.set_pending(Candidates([image[::-1].copy()], (0, 0), changed, run.id, "inpaint"))
    doc.accept_pending()
    doc.paint([(0, 0), (2, 4)])
    doc.set_growth(Growth(right=1))
    return doc


def test_round_trip_keeps_everything_needed(tmp_path):
    doc = _edited_doc()
    path = tmp_path / "a.mgstudio"
    save_project(doc, path)
    assert doc.path == path and not doc.modified
    back = load_project(path)
    np.testing.assert_array_equal(back.image, doc.image)
    np.testing.assert_array_equal(back.original, doc.original)
    np.testing.assert_array_equal(back.mask, doc.mask)
    assert back.boxes == doc.boxes and back.growth == doc.growth
    assert (back.factor, back.scale, back.origin) == (8, 2, (0, 0))
    (run,) = back.runs
    assert run.request == {"seed": 7, "steps": 12} and run.accepted == 0
    np.testing.assert_array_equal(run.tokens, doc.runs[0].tokens)
    np.testing.assert_array_equal(run.commit_order, doc.runs[0].commit_order)
    assert len(back.history) == 0 and back.path == path
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "image.png",
            "original.png",
            "project.json",
            "runs.json",
        ]
        assert json.loads(archive.read("project.json"))["mask"][0].startswith("#.")


def test_failed_save_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    doc = _edited_doc()
    path = tmp_path / "a.mgstudio"
    save_project(doc, path)
    before = path.read_bytes()
    doc.paint([(1, 1)])

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError) as info:
        save_project(doc, path)
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mgstudio"]
    assert doc.modified  # still unsaved


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        load_project(tmp_path / "missing.mgstudio")
    junk = tmp_path / "junk.mgstudio"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ProjectError, match="not a maskgit-studio project"):
        load_project(junk)
    newer = tmp_path / "newer.mgstudio"
    save_project(_edited_doc(), newer)
    with zipfile.ZipFile(newer) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    meta = json.loads(members["project.json"])
    meta["version"] = 99
    members["project.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(newer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ProjectError, match="newer"):
        load_project(newer)
    members["image.png"] = b"\x89PNG broken"
    meta["version"] = 1
    members["project.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(newer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ProjectError, match="damaged"):
        load_project(newer)


def test_an_unedited_original_stays_one_array(tmp_path):
    doc = Document(np.zeros((16, 24, 3), np.uint8), 8)
    save_project(doc, tmp_path / "p.mgstudio")
    back = load_project(tmp_path / "p.mgstudio")
    assert back.original is back.image
    with zipfile.ZipFile(tmp_path / "p.mgstudio") as archive:
        assert "original.png" not in archive.namelist()
