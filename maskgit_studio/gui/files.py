"""Files: open (images, projects, drops, recent), save atomically, export, masks, autosave and
crash recovery. Every failure becomes a dialog; the open document is never lost."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from maskgit_studio.editor import (
    PROJECT_SUFFIX,
    Autosaver,
    Document,
    ProjectSnapshot,
    export_mask,
    find_recoverable,
    import_mask,
    load_project,
    save_project,
    snapshot,
)
from maskgit_studio.engine.images import load_image, save_frames, save_image

if TYPE_CHECKING:
    from .step_viewer import StepViewer

log = logging.getLogger(__name__)

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"
PROJECT_FILTER = f"maskgit-studio projects (*{PROJECT_SUFFIX})"
OPEN_FILTER = (
    f"Images and projects (*{PROJECT_SUFFIX} *.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"
)
MAX_RECENT = 10
AUTOSAVE_DELAY_MS = 250  # coalesces the events of one gesture; still "after every change"


class FileHost(Protocol):
    """What the file controller needs from the window: the open document and a few replies."""

    doc: Document | None

    def new_document(self, image: np.ndarray) -> Document:
        """A document for a freshly opened image (at the model's working scale)."""

    def set_document(self, doc: Document) -> None:
        """Show ``doc`` as the open document."""

    def open_path(self, path: str) -> bool:
        """Open a file the way the user does (the window may refuse while a run is going)."""

    def update_title(self) -> None: ...

    def show_message(self, text: str) -> None: ...

    def report_error(self, exc: BaseException, action: str) -> None:
        """Tell the user that ``action`` failed."""

    def ask(self, kind: str, text: str) -> str:
        """The user's answer to a question of ``kind`` ("save_changes" or "recover")."""


class FileController(QObject):
    """Signals: recent_changed(list[str]).

    Args:
        host: the window, seen through ``FileHost``.
        settings: where the recent files and the last folder live.
        autosave_dir: the autosave folder (None: the platform state dir).
        parent: the parent of the file dialogs.
    """

    recent_changed = Signal(list)
    # emitted by the autosave thread: "" or the error (a str: PySide6 6.12 corrupts None's
    # refcount when None goes through a Signal(object))
    _autosave_done = Signal(str)

    def __init__(
        self,
        host: FileHost,
        settings: QSettings,
        autosave_dir: Path | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.host = host
        self.dialog_parent = parent
        self.settings = settings
        self.autosave_dir = autosave_dir
        self.autosaver: Autosaver | None = None
        self._autosave_failed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_DELAY_MS)
        self._timer.timeout.connect(self.autosave_now)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._writing: Future | None = None
        self._queued: ProjectSnapshot | None = None
        self._autosaved: tuple[int, int] | None = None  # (id(doc), version) last snapshotted
        self._autosave_done.connect(self._autosave_result)

    @property
    def doc(self) -> Document | None:
        return self.host.doc

    # -- opening ---------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.dialog_parent, "Open", self._last_dir(), OPEN_FILTER
        )
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open an image or a project into a new document. The file is read first: a file that
        cannot be opened never costs the question about saving the current document."""
        path = Path(path)
        try:
            if path.suffix.lower() == PROJECT_SUFFIX:
                doc = load_project(path)
            else:
                image = load_image(path)
                doc = self.host.new_document(image)
                doc.source = path
        except (ValueError, OSError) as exc:
            self.host.report_error(exc, f"open {path.name}")
            return False
        if not self.maybe_save_changes():
            return False
        self.host.set_document(doc)
        self.add_recent(path)
        return True

    def recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if p]

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        for path in self.recent():
            menu.addAction(Path(path).name, lambda p=path: self.host.open_path(p)).setToolTip(path)
        menu.setEnabled(bool(self.recent()))

    def add_recent(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent() if p != str(path)]
        self.settings.setValue("recent", items[:MAX_RECENT])
        self.settings.setValue("last_dir", str(path.parent))
        self.recent_changed.emit(self.recent())

    def _last_dir(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    # -- saving ----------------------------------------------------------------------------
    def save(self) -> bool:
        doc = self.doc
        if doc is None:
            return False
        if doc.path is None:
            return self.save_as()
        return self._save_to(doc.path)

    def save_as(self) -> bool:
        doc = self.doc
        if doc is None:
            return False
        suggestion = doc.path or Path(self._last_dir()) / f"{self._stem()}{PROJECT_SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(
            self.dialog_parent, "Save project", str(suggestion), PROJECT_FILTER
        )
        if not path:
            return False
        path = Path(path)
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_suffix(PROJECT_SUFFIX)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        assert self.doc is not None
        try:
            save_project(self.doc, path)
        except OSError as exc:
            self.host.report_error(exc, f"save {path.name}")
            return False
        self.add_recent(path)
        self.host.update_title()
        self.host.show_message(f"Saved {path.name}")
        return True

    def _stem(self) -> str:
        doc = self.doc
        if doc is not None and doc.source is not None:
            return doc.source.stem
        return "untitled"

    def export_image(self) -> None:
        if self.doc is None:
            return
        suggestion = str(Path(self._last_dir()) / f"{self._stem()}-edit.png")
        path, _ = QFileDialog.getSaveFileName(
            self.dialog_parent, "Export image", suggestion, IMAGE_FILTER
        )
        if path:
            self.export_image_to(Path(path))

    def export_image_to(self, path: Path) -> bool:
        assert self.doc is not None
        try:
            save_image(path, self.doc.image)
        except (OSError, ValueError) as exc:
            self.host.report_error(exc, f"export {path.name}")
            return False
        self.host.show_message(f"Exported {path.name}")
        return True

    def import_mask(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.dialog_parent, "Import mask", self._last_dir(), IMAGE_FILTER
        )
        if path:
            self.import_mask_from(Path(path))

    def import_mask_from(self, path: Path) -> bool:
        """Load a mask image the size of the document (one undo step)."""
        doc = self.doc
        if doc is None:
            return False
        try:
            doc.set_mask(import_mask(path, doc.shape, doc.cell_size), "Import mask")
        except (ValueError, OSError) as exc:
            self.host.report_error(exc, f"import the mask {path.name}")
            return False
        return True

    def export_mask(self) -> None:
        suggestion = str(Path(self._last_dir()) / f"{self._stem()}-mask.png")
        path, _ = QFileDialog.getSaveFileName(
            self.dialog_parent, "Export mask", suggestion, "PNG (*.png)"
        )
        if path:
            self.export_mask_to(Path(path))

    def export_mask_to(self, path: Path) -> bool:
        doc = self.doc
        if doc is None:
            return False
        try:
            export_mask(path, doc.mask, doc.shape, doc.cell_size)
        except OSError as exc:
            self.host.report_error(exc, f"export the mask {path.name}")
            return False
        return True

    def export_steps(self, kind: str, viewer: StepViewer) -> None:
        """The step viewer's Figure-2 strip as PNG ("png") or its steps as a GIF ("gif")."""
        suggestion = str(Path(self._last_dir()) / f"{self._stem()}-steps.{kind}")
        path, _ = QFileDialog.getSaveFileName(
            self.dialog_parent, "Export steps", suggestion, f"*.{kind}"
        )
        if not path:
            return
        try:
            if kind == "png":
                save_image(path, viewer.strip_image())
            else:
                save_frames(path, viewer.gif_frames())
        except (OSError, ValueError) as exc:
            self.host.report_error(exc, f"export {Path(path).name}")

    def maybe_save_changes(self) -> bool:
        """Before the document goes away: True to go on (saved or discarded), False to stop."""
        doc = self.doc
        if doc is None or not doc.modified or doc.is_blank and not doc.runs:
            return True
        name = doc.path.name if doc.path else self._stem()
        answer = self.host.ask("save_changes", name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- autosave and recovery -------------------------------------------------------------
    def watch(self, doc: Document) -> None:
        doc.subscribe(self._on_change)
        self._timer.start()

    def _on_change(self, aspects: set[str]) -> None:
        if aspects & {"history", "runs"}:
            self._timer.start()

    def autosave_now(self) -> None:
        """Snapshot the document here (fast) and write it in the background: the event loop
        never waits for PNG encoding or fsync. One write at a time; the newest snapshot wins."""
        doc = self.doc
        if doc is None or doc.is_blank and not doc.modified:
            return
        key = (id(doc), doc.version)
        if key == self._autosaved:
            return
        self._autosaved = key
        snap = snapshot(doc)
        if self._writing is not None and not self._writing.done():
            self._queued = snap  # written when the current write ends
            return
        self._submit(snap)

    def _submit(self, snap: ProjectSnapshot) -> None:
        if self.autosaver is None:
            try:
                self.autosaver = Autosaver(self.autosave_dir)
            except OSError as exc:
                self._autosave_result(exc.strerror or str(exc))
                return
        self._writing = self._pool.submit(self._write, self.autosaver, snap)

    def _write(self, saver: Autosaver, snap: ProjectSnapshot) -> None:
        # background thread: report back through a queued signal
        try:
            saver.write(snap)
        except OSError as exc:
            self._autosave_done.emit(exc.strerror or str(exc) or "write error")
        else:
            self._autosave_done.emit("")

    def _autosave_result(self, error: str) -> None:
        if error:
            log.warning("autosave failed: %s", error)
            if not self._autosave_failed:  # say it once, not after every stroke
                self.host.show_message(f"Autosave failed: {error}")
            self._autosave_failed = True
        else:
            self._autosave_failed = False
        queued, self._queued = self._queued, None
        if queued is not None:
            self._submit(queued)

    def flush_autosave(self) -> None:
        """Wait for the autosave in flight (tests, shutdown)."""
        while self._writing is not None and not self._writing.done():
            self._writing.result()
            QCoreApplication.processEvents()  # deliver the result, which may submit a queued one

    def offer_recovery(self) -> bool:
        """Ask about autosaves of crashed sessions; True if a document was recovered."""
        for found in find_recoverable(self.autosave_dir):
            answer = self.host.ask("recover", found.title)
            if answer == "recover":
                try:
                    doc = found.load()
                except (ValueError, OSError) as exc:
                    self.host.report_error(exc, "recover the autosave")
                    continue
                self.host.set_document(doc)
                self.autosave_now()  # our own session holds it now
                self.flush_autosave()
                found.discard()
                return True
            if answer == "discard":
                found.discard()
        return False

    def close(self) -> None:
        """Clean exit: the autosave is no longer needed."""
        self._timer.stop()
        self._queued = None
        self._pool.shutdown(wait=True)
        if self.autosaver is not None:
            self.autosaver.close()
