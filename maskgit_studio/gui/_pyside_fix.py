"""Guard against a PySide6 6.12.0 reference-count bug on CPython < 3.12.

PySide6 6.12.0 returns None/True/False from its C++ wrappers without taking a reference (fine
on 3.12+, where those objects are immortal). On 3.11 every call of a void Qt method (for
example ``processEvents()``) lowers None's count by one, and after a few thousand calls the
process aborts with "Fatal Python error: none_dealloc". PySide6 6.11 is not affected.

The guard gives the three singletons a huge reference count once, which is what 3.12 does by
making them immortal. It only runs on the affected combination.
"""

from __future__ import annotations

import ctypes
import logging
import sys

import PySide6

log = logging.getLogger(__name__)

AFFECTED = ("6.12.",)
_PIN = 1 << 40


def needs_guard(
    pyside_version: str = PySide6.__version__, python: tuple = sys.version_info
) -> bool:
    return python < (3, 12) and pyside_version.startswith(AFFECTED)


def protect_singletons() -> bool:
    """Pin None, True and False on an affected install; True if it did."""
    if not needs_guard() or sys.implementation.name != "cpython":
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object (id() is its address)
        ctypes.c_ssize_t.from_address(id(obj)).value += _PIN
    log.info("PySide6 %s on Python %d.%d: None/True/False pinned against its refcount bug",
             PySide6.__version__, *sys.version_info[:2])  # fmt: skip
    return True
