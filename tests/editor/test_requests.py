"""What Ctrl+Enter does, and the editor's import purity."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from maskgit_studio.editor import Box, Document, Growth, plan_request


def test_priority_growth_box_mask_generate():
    doc = Document.blank(32, 8)
    assert plan_request(doc).kind == "generate"
    doc.paint([(0, 0)])
    assert plan_request(doc).kind == "inpaint"
    doc.add_box(Box(0, 0, 8, 8))
    assert plan_request(doc, selected_box=0).kind == "edit_box"
    assert plan_request(doc, selected_box=5).kind == "inpaint"
    doc.set_growth(Growth(right=2))
    req = plan_request(doc, selected_box=0)
    assert req.kind == "outpaint" and "2 right" in req.summary


def test_generate_on_a_real_image_says_it_replaces():
    doc = Document(np.zeros((16, 16, 3), np.uint8), 8)
    assert "replaces" in plan_request(doc).summary


def test_editor_imports_neither_torch_nor_qt():
    code = (
        "import sys, maskgit_studio.editor\n"
        "bad = [m for m in ('torch', 'PySide6', 'maskgit_studio.engine') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
