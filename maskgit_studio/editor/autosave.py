"""Autosave to the state folder after every change, and recovery after a crash.

Each running app owns a session: ``<id>.mgstudio`` (the latest autosave, written atomically)
and ``<id>.lock`` (JSON: pid, the process's start time, the project path). A clean exit removes
both. On the next launch, a session whose process is gone is offered for recovery; a pid that is
alive but belongs to a process started at another time (the pid was reused after the crash) is
gone too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from ..safe_io import UnreadableFile, read_capped
from .atomic import atomic_write_bytes
from .document import Document
from .project import (
    PROJECT_SUFFIX,
    PngCache,
    ProjectSnapshot,
    load_project,
    snapshot,
    write_snapshot,
)

log = logging.getLogger(__name__)

APP_NAME = "maskgit-studio"
MAX_LOCK_BYTES = 64 * 1024
PRIVATE = 0o600  # autosaves hold the user's unsaved work: readable by the user only


def state_dir() -> Path:
    """The autosave folder (MASKGIT_STUDIO_STATE overrides the platform state dir)."""
    override = os.environ.get("MASKGIT_STUDIO_STATE")
    base = Path(override) if override else Path(platformdirs.user_state_dir(APP_NAME))
    return base / "autosave"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFO
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)
        return bool(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started, as an opaque token (None: no such process, or unknown).

    Linux: the start time in clock ticks from /proc; macOS and the BSDs: ``ps -o lstart``.
    """
    with contextlib.suppress(OSError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return f"ticks:{fields[19]}"
    if os.name == "posix" and not Path("/proc/self/stat").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                ["ps", "-o", "lstart=", "-p", str(pid)],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
            return f"lstart:{out}" if out else None
    return None


def _session_alive(pid: int, started: object) -> bool:
    """True while the session that wrote a lock may still be running."""
    if not _pid_alive(pid):
        return False
    if not isinstance(started, str):  # an old lock: the pid is all we know
        return True
    now = _process_start(pid)
    return now is None or now == started  # another start time: the pid was reused


class Autosaver:
    """This process's autosave session.

    Args:
        folder: where sessions live (default: ``state_dir()``).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else state_dir()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.session = f"{os.getpid()}-{int(time.time() * 1000)}"
        self.path = self.folder / f"{self.session}{PROJECT_SUFFIX}"
        self.lock = self.folder / f"{self.session}.lock"
        self._cache = PngCache()
        self._saved: tuple[int, int] | None = None  # (id(doc), version) last written
        self._write_lock(None, None)

    def _write_lock(self, project: Path | None, source: Path | None) -> None:
        info = {
            "pid": os.getpid(),
            "process_start": _own_process_start(),
            "started": time.time(),
            "project": project and str(project),
            "source": source and str(source),
        }
        atomic_write_bytes(self.lock, json.dumps(info).encode(), mode=PRIVATE)

    def save(self, doc: Document) -> bool:
        """Write ``doc`` unless this exact version was written already; True if written.

        Raises:
            OSError: the write failed (disk full, ...); the previous autosave is intact.
        """
        key = (id(doc), doc.version)
        if key == self._saved:
            return False
        self.write(snapshot(doc))
        self._saved = key
        return True

    def write(self, snap: ProjectSnapshot) -> None:
        """Write a snapshot taken in the GUI thread (call from one background thread at a time).

        Raises:
            OSError: the write failed; the previous autosave is intact.
        """
        write_snapshot(snap, self.path, compress_level=1, cache=self._cache, mode=PRIVATE)
        self._write_lock(snap.project, snap.source)

    def close(self) -> None:
        """Clean exit: nothing to recover from this session."""
        for path in (self.path, self.lock):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@dataclass(frozen=True)
class Recovery:
    """An autosave left behind by a session that did not exit cleanly."""

    path: Path
    lock: Path
    saved_at: float
    project: Path | None
    source: Path | None = None

    @property
    def title(self) -> str:
        if self.project is not None:
            name = self.project.name
        elif self.source is not None:
            name = f"your edit of {self.source.name} (never saved)"
        else:
            name = "an unsaved document"
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        return f"{name} (autosaved {stamp})"

    def load(self) -> Document:
        """The recovered document, marked as modified (it is not saved anywhere yet)."""
        doc = load_project(self.path)
        doc.path = self.project
        doc.saved_version = -1
        return doc

    def discard(self) -> None:
        for path in (self.path, self.lock):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def find_recoverable(folder: Path | None = None) -> list[Recovery]:
    """Autosaves of sessions whose process is gone, newest first."""
    folder = Path(folder) if folder is not None else state_dir()
    if not folder.is_dir():
        return []
    found: list[Recovery] = []
    for save in folder.glob(f"*{PROJECT_SUFFIX}"):
        lock = save.with_suffix(".lock")
        project = source = None
        try:
            info = json.loads(read_capped(lock, MAX_LOCK_BYTES, "autosave lock"))
            if not isinstance(info, dict) or type(info.get("pid")) is not int or info["pid"] < 1:
                raise ValueError("not a lock written by the studio")
            if _session_alive(info["pid"], info.get("process_start")):
                continue
            project = _path_or_none(info.get("project"))
            source = _path_or_none(info.get("source"))
        except UnreadableFile as exc:
            if lock.exists() or lock.is_symlink():
                log.warning("ignoring unreadable autosave lock %s: %s", lock, exc)
            # else: the lock went first on a clean exit that was cut short: still recoverable
        except (ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
            log.warning("ignoring unreadable autosave lock %s: %s", lock, exc)
        if not save.is_file():
            continue
        found.append(Recovery(save, lock, save.stat().st_mtime, project, source))
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def _path_or_none(value: object) -> Path | None:
    return Path(value) if isinstance(value, str) and value and len(value) < 4096 else None


_own_start: dict[int, str | None] = {}


def _own_process_start() -> str | None:
    pid = os.getpid()  # per pid: a forked child is another process
    if pid not in _own_start:
        _own_start[pid] = _process_start(pid)
    return _own_start[pid]
