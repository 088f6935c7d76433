"""The Qt-free, torch-free document model: image, token-cell mask, boxes, canvas growth,
run log, undo/redo as data, project files, autosave and recovery (numpy + PIL + json)."""

from .autosave import Autosaver, Recovery, find_recoverable, state_dir
from .document import Document
from .history import Command, ImageDelta, UndoStack
from .masks_io import export_mask, import_mask
from .project import (
    PROJECT_SUFFIX,
    ProjectError,
    ProjectSnapshot,
    load_project,
    save_project,
    snapshot,
    write_snapshot,
)
from .requests import EditRequest, plan_request
from .runs import RunRecord
from .shapes import Box, Growth
from .variations import Candidates

__all__ = [
    "PROJECT_SUFFIX",
    "Autosaver",
    "Box",
    "Candidates",
    "Command",
    "Document",
    "EditRequest",
    "Growth",
    "ImageDelta",
    "ProjectError",
    "ProjectSnapshot",
    "Recovery",
    "RunRecord",
    "UndoStack",
    "export_mask",
    "find_recoverable",
    "import_mask",
    "load_project",
    "plan_request",
    "save_project",
    "snapshot",
    "state_dir",
    "write_snapshot",
]
