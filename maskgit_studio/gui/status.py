"""The status bar: messages, what Ctrl+Enter will do, cursor cell, zoom and run progress."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from maskgit_studio.editor import Document


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.request = QLabel()
        self.request.setStyleSheet("color: #8fc1ff;")
        self.cursor = QLabel()
        self.cursor.setMinimumWidth(170)
        self.zoom = QLabel("100 %")
        self.zoom.setMinimumWidth(60)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(200)
        self.progress.setFormat("Step %v / %m")
        self.progress.setVisible(False)
        self.addWidget(self.text, 1)
        self.addPermanentWidget(self.request)
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.cursor)
        self.addPermanentWidget(self.zoom)

    def show_text(self, text: str) -> None:
        self.text.setText(text)

    def set_request(self, text: str) -> None:
        self.request.setText(text)

    def set_cursor(self, pos: tuple[float, float] | tuple[()], doc: Document | None) -> None:
        """The document pixel and token cell under the mouse (``()``: the mouse left)."""
        if not pos or doc is None:
            self.cursor.setText("")
            return
        x, y = math.floor(pos[0]), math.floor(pos[1])
        c = doc.cell_size
        self.cursor.setText(f"{x}, {y} px · cell {y // c}, {x // c}")

    def set_zoom(self, zoom: float) -> None:
        self.zoom.setText(f"{zoom * 100:.0f} %")

    def set_progress(self, done: int, total: int) -> None:
        """Exact iteration count of the running job; hidden when total is 0."""
        self.progress.setVisible(total > 0)
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
