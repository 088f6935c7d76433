"""The selected edit box and the class picker, kept in step; the box commands (Delete, Class)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from maskgit_studio.editor import Document

from .params_panel import ParamsPanel
from .tools import BoxTool

AskClass = Callable[[int | None], tuple[bool, int | None]]


class BoxCommands(QObject):
    """Selecting a box shows its class in the picker; picking a class sets the selected box's.

    Args:
        box_tool: the Box tool (it holds the selection).
        params: the parameters panel (its class picker).
        doc: returns the open document.
        ask_class: asks for a class: (accepted, class id or None).
        changed: called when the selection changes (the window updates its actions).
    """

    def __init__(
        self,
        box_tool: BoxTool,
        params: ParamsPanel,
        doc: Callable[[], Document | None],
        ask_class: AskClass,
        changed: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.box_tool, self.params, self.doc, self.ask_class = box_tool, params, doc, ask_class
        self.changed = changed
        params.class_picker.class_changed.connect(self._class_changed)
        box_tool.selection_changed.connect(self._selected)

    def delete(self) -> None:
        doc, selected = self.doc(), self.box_tool.selected
        if doc is not None and selected is not None:
            self.box_tool.select(None)
            doc.remove_box(selected)

    def choose_class(self) -> None:
        doc, selected = self.doc(), self.box_tool.selected
        if doc is None or selected is None:
            return
        accepted, class_id = self.ask_class(doc.boxes[selected].class_id)
        if accepted:
            doc.set_box(selected, doc.boxes[selected].with_class(class_id), "Change box class")

    def forget_gone(self) -> None:
        """Drop the selection when its box went away (undo, delete)."""
        doc, selected = self.doc(), self.box_tool.selected
        if doc is not None and selected is not None and selected >= len(doc.boxes):
            self.box_tool.select(None)

    def _class_changed(self, picked: int) -> None:
        class_id = None if picked < 0 else picked
        doc, selected = self.doc(), self.box_tool.selected
        if doc is not None and selected is not None and doc.boxes[selected].class_id != class_id:
            doc.set_box(selected, doc.boxes[selected].with_class(class_id), "Change box class")

    def _selected(self, index: int) -> None:
        doc = self.doc()
        if doc is not None and index >= 0:
            self.params.class_picker.set_class(doc.boxes[index].class_id)
        self.changed()
