"""Outputs: an existing file keeps its mode, new files honour the umask, unwritable folders are
found before the run, and a full disk is one clear line with the user's files intact."""

from __future__ import annotations

import contextlib
import os
import stat

import numpy as np
import pytest

from maskgit_studio.editor import Document, export_mask, save_project
from maskgit_studio.engine import images

from .harness import cli, fingerprint, run_py

FAST = ["--steps", "2", "--seed", "1", "--class", "1"]


@contextlib.contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder nobody may write to (root ignores permission bits, so root gets /sys)."""
    if os.geteuid() != 0:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    try:
        (open("/sys/.probe", "wb")).close()
    except OSError:
        yield __import__("pathlib").Path("/sys")
        return
    pytest.skip("no read-only folder available")


def test_cli_output_keeps_the_mode_of_the_file_it_replaces(tmp_path, tiny_bundle_path, capsys):
    out = tmp_path / "private.png"
    images.save_image(out, np.zeros((4, 4, 3), np.uint8))
    out.chmod(0o600)
    cli(capsys, ["generate", "--model", tiny_bundle_path, "--out", out, *FAST], code=0, seconds=60)
    assert mode(out) == 0o600


def test_cli_output_honours_the_umask(tmp_path, tiny_bundle_path, capsys):
    out = tmp_path / "new.png"
    with umask(0o077):
        cli(capsys, ["generate", "--model", tiny_bundle_path, "--out", out, *FAST], code=0, seconds=60)  # fmt: skip
    assert mode(out) == 0o600
    with umask(0o022):
        images.save_image(tmp_path / "b.png", np.zeros((4, 4, 3), np.uint8))
    assert mode(tmp_path / "b.png") == 0o644


def test_projects_and_masks_keep_modes_and_honour_the_umask(tmp_path):
    doc = Document(np.zeros((32, 32, 3), np.uint8), 8)
    with umask(0o022):
        save_project(doc, tmp_path / "a.mgstudio")
        export_mask(tmp_path / "m.png", doc.mask, doc.shape, doc.cell_size)
    assert mode(tmp_path / "a.mgstudio") == 0o644 and mode(tmp_path / "m.png") == 0o644
    (tmp_path / "a.mgstudio").chmod(0o640)
    (tmp_path / "m.png").chmod(0o600)
    with umask(0o022):
        save_project(doc, tmp_path / "a.mgstudio")
        export_mask(tmp_path / "m.png", doc.mask, doc.shape, doc.cell_size)
    assert mode(tmp_path / "a.mgstudio") == 0o640 and mode(tmp_path / "m.png") == 0o600


def test_imported_model_honours_the_umask(tmp_path, capsys):
    from maskgit_studio.engine.importers.flax_msgpack import write_flax_msgpack
    from tests.engine.official_trees import tokenizer_tree, transformer_tree
    from tests.engine.test_importer_cli import TOK, TR

    write_flax_msgpack(tmp_path / "tok", tokenizer_tree(TOK, seed=1))
    write_flax_msgpack(tmp_path / "tr", transformer_tree(TR, seed=2))
    with umask(0o077):
        cli(capsys, ["import", "official", "--tokenizer", tmp_path / "tok", "--transformer",
                     tmp_path / "tr", "--dest", tmp_path / "models", "--name", "m"], code=0, seconds=60)  # fmt: skip
    assert mode(tmp_path / "models" / "m.safetensors") == 0o600


def test_unwritable_output_folder_is_found_before_the_run(readonly_dir, capsys):
    argv = ["generate", "--model", "/nonexistent/model.safetensors", "--out",
            readonly_dir / "o.png", *FAST]  # fmt: skip
    line = cli(capsys, argv, seconds=2)
    assert str(readonly_dir) in line and "model" not in line, line


def test_output_that_is_a_folder_is_refused_before_the_run(tmp_path, capsys):
    (tmp_path / "o.png").mkdir()
    argv = ["generate", "--model", "/nonexistent/model.safetensors", "--out", tmp_path / "o.png", *FAST]  # fmt: skip
    line = cli(capsys, argv, seconds=2)
    assert "o.png" in line and "model" not in line, line


def test_full_disk_on_output_is_one_line_and_keeps_the_old_file(tmp_path, tiny_bundle_path):
    out = tmp_path / "out" / "o.png"
    out.parent.mkdir()
    out.write_bytes(b"the user's previous result")
    before = fingerprint(out.parent)
    argv = ["generate", "--model", tiny_bundle_path, "--out", out, "--steps", "2", "--class", "1"]
    proc = run_py("maskgit_studio.cli:main", argv, tmp_path, fsize=4000)
    assert proc.code == 2, proc.err[-2000:]
    assert "Traceback" not in proc.err and len(proc.err.strip().splitlines()) == 1, proc.err
    assert fingerprint(out.parent) == before


def test_full_disk_on_import_is_one_line_and_leaves_nothing(tmp_path):
    from maskgit_studio.engine.importers.flax_msgpack import write_flax_msgpack
    from tests.engine.official_trees import tokenizer_tree, transformer_tree
    from tests.engine.test_importer_cli import TOK, TR

    write_flax_msgpack(tmp_path / "tok", tokenizer_tree(TOK, seed=1))
    write_flax_msgpack(tmp_path / "tr", transformer_tree(TR, seed=2))
    dest = tmp_path / "models"
    dest.mkdir()
    argv = ["import", "official", "--tokenizer", tmp_path / "tok", "--transformer",
            tmp_path / "tr", "--dest", dest, "--name", "m"]  # fmt: skip
    proc = run_py("maskgit_studio.cli:main", argv, tmp_path, fsize=20_000)
    assert proc.code == 2, proc.err[-2000:]
    err = [line for line in proc.err.strip().splitlines() if not line.startswith("converting")]
    assert "Traceback" not in proc.err and len(err) == 1, proc.err
    assert list(dest.iterdir()) == []


def test_autosaves_stay_private_whatever_the_umask(tmp_path):
    """Unsaved work in the state folder is readable by its owner only."""
    from maskgit_studio.editor import Autosaver

    with umask(0o022):
        saver = Autosaver(tmp_path / "autosave")
        saver.save(Document(np.zeros((16, 16, 3), np.uint8), 8))
    assert mode(saver.path) == 0o600 and mode(saver.lock) == 0o600
    assert mode(tmp_path / "autosave") == 0o700
    saver.close()
