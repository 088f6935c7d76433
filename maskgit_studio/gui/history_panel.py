"""The run history as a tree: every run a node, each branch under the run it came from.

A node shows a thumbnail, what the run did, its class, seed and iterations; its tooltip names
the parent run and step of a branch and whether a variation was kept. Clicking a node shows its
steps; "Restore" brings its result back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from maskgit_studio.editor import RunRecord

from .qimage import to_qimage

ICON = 40
EMPTY_TEXT = "Every run and branch appears here. Click one to see its steps."


class HistoryPanel(QWidget):
    """Signals: run_clicked(int run id); restore_requested(int run id)."""

    run_clicked = Signal(int)
    restore_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Run", "Class", "Seed", "Steps"])
        self.tree.setIconSize(QSize(ICON, ICON))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setToolTip("Every run of this document; a branch sits under its parent")
        header = self.tree.header()
        header.setStretchLastSection(False)
        for column, width in enumerate((160, 100, 92, 44)):  # a seed has up to 10 digits
            header.resizeSection(column, width)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #9aa0a8; font-size: 11px;")
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip(
            "Bring this run's result back into the picture (Ctrl+Z takes it out again)"
        )
        self.restore_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.empty, 1)
        row.addWidget(self.restore_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addLayout(row)
        self.items: dict[int, QTreeWidgetItem] = {}
        self.tree.itemClicked.connect(lambda item, _col: self.run_clicked.emit(_run_id(item)))
        self.tree.currentItemChanged.connect(self._current_changed)
        self.restore_button.clicked.connect(self._restore)

    def set_runs(self, runs: Sequence[RunRecord], class_label: Callable[[int | None], str]) -> None:
        """Rebuild the tree from a document's run log (the current node is kept if it still is)."""
        current = self.current_run()
        self.tree.clear()
        self.items = {}
        for record in runs:
            parent = self.items.get(record.parent) if record.parent is not None else None
            item = QTreeWidgetItem(parent) if parent is not None else QTreeWidgetItem(self.tree)
            self._fill(item, record, class_label)
            self.items[record.id] = item
        self.tree.expandAll()
        self.empty.setVisible(not runs)
        if current in self.items:
            self.select(current)
        self._current_changed(self.tree.currentItem())

    def _fill(
        self, item: QTreeWidgetItem, record: RunRecord, class_label: Callable[[int | None], str]
    ) -> None:
        item.setData(0, Qt.ItemDataRole.UserRole, record.id)
        if record.operation == "branch":
            what = "branch"
        else:
            what = record.kind.replace("_", " ")
        item.setText(0, f"{record.id} {what}")
        item.setText(1, class_label(record.class_id))
        item.setText(2, "" if record.seed is None else str(record.seed))
        item.setText(3, str(_decoded(record)))
        item.setToolTip(0, _tooltip(record))
        for column in range(1, 4):
            item.setToolTip(column, _tooltip(record))
        if record.previews is not None:
            k = record.accepted if record.accepted is not None else 0
            item.setIcon(0, QIcon(QPixmap.fromImage(to_qimage(record.previews[k]))))
        if record.accepted is not None:
            font = QFont(item.font(0))
            font.setBold(True)
            item.setFont(0, font)

    def select(self, run_id: int) -> None:
        item = self.items.get(run_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def current_run(self) -> int | None:
        item = self.tree.currentItem()
        return _run_id(item) if item is not None else None

    def _current_changed(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        self.restore_button.setEnabled(item is not None)

    def _restore(self) -> None:
        run_id = self.current_run()
        if run_id is not None:
            self.restore_requested.emit(run_id)


def _run_id(item: QTreeWidgetItem) -> int:
    return int(item.data(0, Qt.ItemDataRole.UserRole))


def _decoded(record: RunRecord) -> int:
    """How many iterations the run decoded (an edit or a branch starts a few in)."""
    committed = record.commit_order[record.commit_order >= 0]
    return int(committed.max() - committed.min() + 1) if committed.size else 0


def _tooltip(record: RunRecord) -> str:
    lines = [f"Run {record.id}: {record.kind.replace('_', ' ')}"]
    if record.parent is not None:
        request = record.request
        lines.append(
            f"Branch of run {record.parent}, variation {int(request.get('variation', 0)) + 1}, "
            f"after iteration {int(request.get('step', 0)) + 1}"
        )
    sampler = record.request.get("sampler", {})
    if sampler:
        lines.append(
            f"{_decoded(record)} of {sampler.get('steps', '?')} iterations, temperature "
            f"{sampler.get('choice_temperature', '?')}, schedule {sampler.get('schedule', '?')}"
        )
    count = record.variations
    if record.accepted is not None:
        lines.append(f"Kept: variation {record.accepted + 1} of {count}")
    else:
        lines.append(f"{count} variation{'s' if count != 1 else ''}, none kept")
    return "\n".join(lines)
