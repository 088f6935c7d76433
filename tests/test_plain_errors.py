"""Failures in plain words: never an exception's class name (issue 11, item 6; issue 13)."""

from __future__ import annotations

import errno
import re

import pytest
from PIL import Image, UnidentifiedImageError

from maskgit_studio.plain_errors import plain_reason, plain_text

CLASS_NAME = re.compile(r"[A-Z][a-z]+[A-Z]\w*(Error|Exception)")


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (UnidentifiedImageError("cannot identify image file 'x.png'"), "not a picture"),
        (Image.DecompressionBombError("Image size (9 pixels) exceeds limit"), "too large"),
        (MemoryError(), "not enough memory"),
        (EOFError(), "cut short"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk is full"),
        (PermissionError(errno.EACCES, "Permission denied"), "no permission"),
        (KeyError("x"), "damaged"),
        (ValueError("ValueError: the mask selects nothing"), "the mask selects nothing"),
    ],
)
def test_reasons_are_plain_words(exc, words):
    reason = plain_reason(exc)
    assert words in reason and not CLASS_NAME.search(reason)


def test_class_names_are_taken_out_of_messages():
    text = (
        "cannot read a.png as an image (UnidentifiedImageError: cannot identify image file 'a.png')"
    )
    assert plain_text(text) == (
        "cannot read a.png as an image (it is not a picture this app can read, or it is damaged)"
    )
    assert plain_text("cannot read b.png as an image (DecompressionBombError)") == (
        "cannot read b.png as an image"
    )
