"""Autosave to the state folder after every change, and recovery after a crash.

Each running app owns a session: ``<id>.mgstudio`` (the latest autosave, written atomically)
and ``<id>.lock`` (JSON: pid, start time, the project path). A clean exit removes both. On the
next launch, a session whose process is gone is offered for recovery.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

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


class Autosaver:
    """This process's autosave session.

    Args:
        folder: where sessions live (default: ``state_dir()``).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else state_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.session = f"{os.getpid()}-{int(time.time() * 1000)}"
        self.path = self.folder / f"{self.session}{PROJECT_SUFFIX}"
        self.lock = self.folder / f"{self.session}.lock"
        self._cache = PngCache()
        self._saved: tuple[int, int] | None = None  # (id(doc), version) last written
        self._write_lock(None, None)

    def _write_lock(self, project: Path | None, source: Path | None) -> None:
        info = {
            "pid": os.getpid(),
            "started": time.time(),
            "project": project and str(project),
            "source": source and str(source),
        }
        atomic_write_bytes(self.lock, json.dumps(info).encode())

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
        write_snapshot(snap, self.path, compress_level=1, cache=self._cache)
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
            info = json.loads(lock.read_text())
            if _pid_alive(int(info["pid"])):
                continue
            project = Path(info["project"]) if info.get("project") else None
            source = Path(info["source"]) if info.get("source") else None
        except FileNotFoundError:
            pass  # the lock went first on a clean exit that was cut short: still recoverable
        except (ValueError, KeyError, TypeError, OSError) as exc:
            log.warning("ignoring unreadable autosave lock %s: %s", lock, exc)
        found.append(Recovery(save, lock, save.stat().st_mtime, project, source))
    return sorted(found, key=lambda r: r.saved_at, reverse=True)
