"""Hostile project files through the editor API: every one is refused with ProjectError, in
bounded time and memory, and the file is left as it was."""

from __future__ import annotations

import numpy as np
import pytest

from maskgit_studio.editor import Document, ProjectError, load_project, save_project

from . import corpus
from .harness import bounded, fingerprint

PROJECT_CASES = [
    "meta-list", "meta-null", "meta-string", "meta-nested-100k", "meta-not-utf8",
    "version-null", "version-list", "version-string", "version-future", "size-string",
    "mask-string", "mask-rows-of-lists", "mask-ragged", "boxes-dict", "boxes-strings",
    "box-beyond-int32", "box-float", "growth-string", "growth-million-cells", "growth-negative",
    "factor-zero", "factor-beyond-int32", "factor-string", "factor-bool", "scale-huge",
    "origin-beyond-int64", "origin-null", "blank-string", "source-number", "format-missing",
    "image-20000x20000", "image-eps", "image-garbage", "original-eps", "runs-dict",
    "runs-strings", "run-shape-billion", "run-shape-mismatch", "run-order-overflow",
    "run-token-beyond-int64", "run-request-list", "run-nested-100k", "member-zip-bomb",
    "meta-zip-bomb", "not-a-zip", "empty", "truncated-zip", "no-image",
    "fifo", "dev-zero-link", "directory",
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return corpus.hostile_projects(tmp_path_factory.mktemp("hostile-projects"))


@pytest.mark.parametrize("case", PROJECT_CASES)
def test_load_project_refuses(case, hostile):
    path = hostile[case]
    before = fingerprint(path)
    with bounded(extra_mb=1024):
        try:
            load_project(path)
        except ProjectError as exc:
            message = str(exc)
        else:
            pytest.fail("loaded")
    assert "\n" not in message and path.name in message
    assert fingerprint(path) == before


def test_many_members_are_not_read(hostile):
    """Unknown members are ignored, never read: a project with 20 000 extras still opens."""
    with bounded():
        doc = load_project(hostile["many-members"])
    assert doc.shape == (32, 48)


def test_a_saved_project_round_trips_within_the_limits(tmp_path):
    doc = Document(np.zeros((40, 56, 3), np.uint8), 8, 2)
    doc.paint([(0, 0), (2, 3)])
    save_project(doc, tmp_path / "ok.mgstudio")
    back = load_project(tmp_path / "ok.mgstudio")
    np.testing.assert_array_equal(back.mask, doc.mask)
