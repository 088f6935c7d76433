"""Atomic file writes: a temp file in the same folder, fsync, rename over the target.

Either the old file or the complete new one is on disk at every moment; a failed write (disk
full, permission denied) leaves the old file untouched and no temp file behind. The new file
keeps the mode of the one it replaces and honours the umask (``maskgit_studio.safe_io``, shared with
image and model outputs).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO

from ..safe_io import atomic_write as _atomic_write


def atomic_write(
    path: str | os.PathLike, write: Callable[[BinaryIO], None], *, mode: int | None = None
) -> None:
    """Call ``write(file)`` on a temp file, then move it over ``path`` (``mode``: the new
    file's permission bits, default: the replaced file's, else the umask's).

    Raises:
        OSError: from the file system (errno ENOSPC for a full disk); ``path`` is unchanged.
    """
    _atomic_write(path, write, mode=mode)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda handle: handle.write(data), mode=mode)
