"""Why something failed, in words a person understands: the one place that maps exceptions to
plain reasons, for the studio's dialogs and the command line alike.

A message never shows an exception's class name ("UnidentifiedImageError"); it says what is
wrong with the file or the machine ("the file is not a picture this app can read").
"""

from __future__ import annotations

import errno
import json
import re
import struct
import zipfile

from PIL import Image, UnidentifiedImageError

DAMAGED = "the file is damaged"

_ERRNO = {
    errno.ENOSPC: "the disk is full",
    errno.EACCES: "there is no permission to use it",
    errno.EPERM: "there is no permission to use it",
    errno.ENOENT: "it does not exist",
    errno.EISDIR: "it is a folder, not a file",
    errno.ENOTDIR: "a folder on its path is a file",
    errno.EROFS: "the drive is read-only",
    errno.ENAMETOOLONG: "its name is too long",
    errno.EMFILE: "too many files are open",
    errno.EIO: "the drive could not be read (an input/output error)",
}

# CamelCase words ending in Error/Exception/Warning: Python names, never shown to a person
_CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Warning)\b:?\s*")
# Pillow's own phrases, said plainly
_PHRASES = (
    (
        re.compile(r"cannot identify image file\s*('[^']*'|\S+)?"),
        "it is not a picture this app can read, or it is damaged",
    ),
    (
        re.compile(r"Image size \(\d+ pixels\) exceeds limit[^.]*(\.|$)( DOS attack\.)?"),
        "the picture is too large to open safely",
    ),
)


def plain_reason(exc: BaseException) -> str:
    """A short reason for ``exc`` in plain words (lower case, no full stop)."""
    if isinstance(exc, Image.DecompressionBombError):
        return "the picture is too large to open safely"
    if isinstance(exc, UnidentifiedImageError):
        return "it is not a picture this app can read, or it is damaged"
    if isinstance(exc, MemoryError):
        return "there was not enough memory"
    if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
        return "the file is cut short (damaged, or not fully downloaded)"
    if isinstance(exc, zipfile.BadZipFile):
        return "it is not a project file, or it is damaged"
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return "its contents are damaged"
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    if isinstance(
        exc, (SyntaxError, struct.error, IndexError, KeyError, TypeError, ArithmeticError)
    ):
        return DAMAGED
    return plain_text(str(exc)) or "something unexpected went wrong"


def plain_text(text: str) -> str:
    """``text`` without Python class names or library jargon, on one line."""
    text = _CLASS_NAME.sub("", text)
    for pattern, words in _PHRASES:
        text = pattern.sub(words, text)
    text = re.sub(r"\(\s*\)", "", text)  # a class name that was all there was
    return " ".join(text.split()).strip(" :")
