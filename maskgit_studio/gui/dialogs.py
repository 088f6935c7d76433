"""Messages a person understands: errors, unsaved changes, crash recovery."""

from __future__ import annotations

import errno
import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from maskgit_studio.editor import ProjectError
from maskgit_studio.engine.checkpoint import CheckpointError
from maskgit_studio.plain_errors import plain_reason, plain_text

log = logging.getLogger(__name__)

_KEEP = "Nothing was lost: your document is unchanged and still open."


def describe_error(exc: BaseException, action: str) -> tuple[str, str]:
    """(title, text) for a failure while trying to ``action`` ("open the image", "save", ...),
    in plain words (``plain_errors``: never an exception's class name)."""
    if isinstance(exc, CheckpointError):
        return (
            "Invalid model file",
            f"This file cannot be used as a model:\n{plain_text(str(exc))}\n\n"
            "Pick another model in the Model box (the bundled one always works).",
        )
    if isinstance(exc, ProjectError):
        return "Cannot open the project", plain_text(str(exc))
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return (
            "Out of memory",
            f"There was not enough memory to {action}.\n\nTry fewer variations, a smaller "
            f"working scale or a smaller selection, or close other programs. {_KEEP}",
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return (
            "Disk full",
            f"Could not {action}: the disk is full.\n\n{_KEEP} Free some space, or save to "
            "another drive with File > Save As.",
        )
    if isinstance(exc, PermissionError):
        return "Permission denied", f"Could not {action}: no permission to use {exc.filename}."
    if isinstance(exc, FileNotFoundError):
        name = exc.filename or str(exc)
        return "File not found", f"Could not {action}: {name} does not exist."
    if isinstance(exc, ValueError) and not isinstance(exc, UnicodeDecodeError):
        return f"Could not {action}", plain_text(str(exc))
    title = f"Could not {action}" if isinstance(exc, OSError) else "Something went wrong"
    return title, f"Could not {action}: {plain_reason(exc)}.\n\n{_KEEP}"


def show_error(parent: QWidget | None, exc: BaseException, action: str) -> None:
    title, text = describe_error(exc, action)
    log.warning("%s: %s", title, text.splitlines()[0])
    QMessageBox.critical(parent, title, text)


def ask_save_changes(parent: QWidget | None, name: str) -> str:
    """ "save", "discard" or "cancel"."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        "Unsaved changes",
        f"Save the changes to {name}?",
        buttons.Save | buttons.Discard | buttons.Cancel,
        buttons.Save,
    )
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")


def ask_recover(parent: QWidget | None, title: str) -> str:
    """ "recover", "discard" or "later" for an autosave left by a crash."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Recover your work?")
    box.setText("maskgit-studio did not close properly last time.")
    box.setInformativeText(f"Recover {title}?")
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(recover)
    box.exec()
    clicked = box.clickedButton()
    return "recover" if clicked is recover else "discard" if clicked is discard else "later"


def ask_replace_canvas(parent: QWidget | None, name: str) -> str:
    """ "replace" or "cancel": a generation would replace the whole picture."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Replace the picture?")
    box.setText(f"Generate a new picture in place of {name}?")
    box.setInformativeText(
        "Nothing is selected, so the run makes a whole new picture. Ctrl+Z brings yours back. "
        "To redraw part of it, paint a mask or draw a box first."
    )
    replace = box.addButton("Generate", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return "replace" if box.clickedButton() is replace else "cancel"
