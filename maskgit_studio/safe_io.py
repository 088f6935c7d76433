"""Reading files that may be hostile, and writing outputs the way the user expects.

Reading: :func:`open_regular` opens a path only when it is a regular file (after symlinks) of a
bounded size. The open never blocks (``O_NONBLOCK``, then ``fstat`` on the open descriptor), so a
FIFO, a device such as ``/dev/zero`` (or a symlink to one), a socket or a folder is refused at
once instead of hanging or reading forever, and the file checked is the file read.

Writing: :func:`atomic_write` writes a temp file in the target folder, fsyncs it and renames it
over the target, so either the old or the complete new file is there at every moment. The new
file keeps the mode of the file it replaces, and a new file gets ``0666 & ~umask`` (a private
0600 image stays private; ``umask 077`` is honoured). :func:`check_writable_folder` finds an
unwritable output folder before any work, and :func:`describe_write_error` turns a full disk or
a read-only folder into one sentence.

This module is shared by images, masks, projects, models and training (no torch, no Qt).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


class UnreadableFile(ValueError):
    """A path that is missing, not a regular file, or too large; the message names it."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def open_regular(
    path: str | os.PathLike, what: str = "file", max_bytes: int | None = None
) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file of at most ``max_bytes``.

    Raises:
        UnreadableFile: missing, unreadable, a folder/FIFO/device/socket, or too large.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UnreadableFile(f"{path} does not exist") from None
    except IsADirectoryError:  # Windows cannot open folders
        raise UnreadableFile(f"{path} is a folder, not a {what}") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{path} is {_kind(info.st_mode)}, not a {what}")
        if max_bytes is not None and info.st_size > max_bytes:
            raise UnreadableFile(
                f"{path.name} is {_size(info.st_size)}; a {what} may be at most {_size(max_bytes)}"
            )
        if flags & getattr(os, "O_NONBLOCK", 0):
            import fcntl  # POSIX only, like O_NONBLOCK itself

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The whole content of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    with open_regular(path, what, max_bytes) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while we read it
        raise UnreadableFile(f"{Path(path).name} is larger than {_size(max_bytes)}")
    return data


# -- outputs ------------------------------------------------------------------------------------

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _umask_lock:  # elsewhere: set and restore (under a lock, from this module at least)
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def output_mode(path: str | os.PathLike) -> int:
    """The permission bits a file written at ``path`` should get: those of the file it
    replaces, else ``0666 & ~umask``."""
    with contextlib.suppress(OSError):
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode):
            return stat.S_IMODE(info.st_mode)
    return 0o666 & ~current_umask()


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":  # the rename is durable without it elsewhere
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: int | None = None) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success it replaces ``path`` atomically.

    Nothing is left behind if the block fails (disk full, permission denied, interrupted);
    ``path`` is then unchanged. ``mode``: the new file's permission bits (default:
    :func:`output_mode`; app-private state such as autosaves passes 0o600).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    mode = output_mode(target) if mode is None else mode
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


def atomic_write(
    path: str | os.PathLike, write: Callable[[BinaryIO], object], *, mode: int | None = None
) -> Path:
    """Call ``write(handle)`` on a temp file, then move it over ``path`` (see atomic_output).

    Raises:
        OSError: from the file system (errno ENOSPC: disk full); ``path`` is unchanged.
    """
    with atomic_output(path, mode) as tmp, open(tmp, "wb") as handle:
        write(handle)
        handle.flush()
    return Path(path)


def atomic_write_all(items: list[tuple[str | os.PathLike, Callable[[BinaryIO], object]]]) -> None:
    """Write several files all or nothing: every temp file is complete before the first rename.

    Raises:
        OSError: a write failed; no target was touched and no temp file is left.
    """
    with contextlib.ExitStack() as stack:
        for path, write in items:
            tmp = stack.enter_context(atomic_output(path))
            with open(tmp, "wb") as handle:
                write(handle)


def check_writable_folder(path: str | os.PathLike, what: str = "output") -> None:
    """Fail before any work when a file cannot be created next to ``path``.

    Raises:
        UnreadableFile: the folder is missing, not a folder, or not writable (by a real
            probe: permission bits do not tell for root or read-only mounts).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UnreadableFile(f"the {what} {target} is a folder; give a file name")
    if not folder.is_dir():
        raise UnreadableFile(f"the {what} folder does not exist: {folder}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=folder)
    except OSError as exc:
        raise UnreadableFile(
            f"cannot write the {what} in {folder}: {exc.strerror or exc}"
        ) from None
    os.close(fd)
    os.unlink(probe)


_WRITE_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file is too large for the file system (or the file size limit)",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def describe_write_error(exc: BaseException, path: str | os.PathLike | None = None) -> str:
    """One sentence for a failed write: what happened, where, and that nothing was changed."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    for number, words in _WRITE_ERRORS.items():  # wrapped errors (safetensors) keep the text
        if code == number or os.strerror(number) in text:
            reason = words
            break
    else:
        reason = getattr(exc, "strerror", None) or text or type(exc).__name__
    where = f" writing {path}" if path is not None else ""
    return f"cannot finish{where}: {reason} (nothing was changed)"


def is_write_error(exc: BaseException) -> bool:
    """True for errors that mean the disk or folder refused a write."""
    code = getattr(exc, "errno", None)
    return code in _WRITE_ERRORS or any(os.strerror(n) in str(exc) for n in _WRITE_ERRORS)


__all__ = [
    "UnreadableFile",
    "atomic_output",
    "atomic_write",
    "atomic_write_all",
    "check_writable_folder",
    "current_umask",
    "describe_write_error",
    "is_write_error",
    "open_regular",
    "output_mode",
    "read_capped",
]
