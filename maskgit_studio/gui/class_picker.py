"""A searchable class picker: a filter box over the model's class names."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, QStringListModel, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QListView, QVBoxLayout, QWidget

NONE_LABEL = "(unconditional)"


class ClassPicker(QWidget):
    """Type to filter; the highlighted row is the current class.

    ``allow_none`` adds an "(unconditional)" row (class None) for models with a null class.

    Signals:
        class_changed(int): the class id, or -1 for unconditional (None never goes through a
            signal: PySide6 6.12 corrupts None's refcount when emitting it).
    """

    class_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ids: list[int | None] = []
        self.search = QLineEdit(placeholderText="Search classes…")
        self.search.setClearButtonEnabled(True)
        self.model = QStringListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)
        self.view.setMinimumHeight(90)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.view)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._pick_first)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

    def set_classes(self, names: list[str] | tuple[str, ...], allow_none: bool) -> None:
        """Replace the list; the current class becomes None (if allowed) or the first class."""
        self._ids = ([None] if allow_none else []) + list(range(len(names)))
        labels = ([NONE_LABEL] if allow_none else []) + [f"{i}: {n}" for i, n in enumerate(names)]
        self.model.setStringList(labels)
        self.search.clear()
        self.set_class(self._ids[0] if self._ids else None)

    def current_class(self) -> int | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return self._ids[0] if self._ids else None
        return self._ids[self.proxy.mapToSource(index).row()]

    def set_class(self, class_id: int | None) -> None:
        if class_id not in self._ids:
            return
        source = self.model.index(self._ids.index(class_id), 0)
        index = self.proxy.mapFromSource(source)
        if not index.isValid():  # filtered out: clear the filter
            self.search.clear()
            index = self.proxy.mapFromSource(source)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        if self.proxy.rowCount() and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    def _pick_first(self) -> None:
        if self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    def _current_changed(self, current, previous) -> None:
        if current.isValid():
            class_id = self._ids[self.proxy.mapToSource(current).row()]
            self.class_changed.emit(-1 if class_id is None else class_id)


def pick_class(
    parent: QWidget, names: tuple[str, ...], allow_none: bool, current: int | None
) -> tuple[bool, int | None]:
    """A modal searchable picker; returns (accepted, class id)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Choose a class")
    picker = ClassPicker(dialog)
    picker.set_classes(names, allow_none)
    picker.set_class(current)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    picker.view.doubleClicked.connect(dialog.accept)
    layout = QVBoxLayout(dialog)
    layout.addWidget(picker)
    layout.addWidget(buttons)
    dialog.resize(360, 420)
    picker.search.setFocus()
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    return accepted, picker.current_class()
