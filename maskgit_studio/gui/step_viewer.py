"""Step-through viewer: every iteration of a run as a timeline, like the paper's Figure 2 (token
masks above decoded images), with scrubbing, play, per-step confidence and commit-order maps
(each with its key), branching and export.

It shows the run going on, or any run of the history (rebuilt from its token log). A branch
shows its parent's steps up to the branch point, then its own; columns are numbered by the
schedule's iteration, so an edit, which starts a few iterations in, says so.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import legends
from . import step_render as render
from .qimage import to_qimage

TILE, GAP = 64, 6
ACCENT_ALT = QColor(255, 176, 32)


class TimelineStrip(QWidget):
    """Columns of (token mask, image) tiles, one per step; click a column to select it."""

    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: list[tuple[QImage, QImage | None]] = []
        self.numbers: list[int] = []  # the iteration number under each column
        self.branch_at = 0  # columns before this one came from the parent run
        self.selected = -1
        self.setMinimumHeight(2 * TILE + 3 * GAP + 14)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(max(len(self.columns), 1) * (TILE + GAP) + GAP, 2 * TILE + 3 * GAP + 14)

    def set_columns(self, columns: list[tuple[QImage, QImage | None]]) -> None:
        self.columns = columns
        self.setFixedWidth(self.sizeHint().width())
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(28, 29, 32))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for i, (mask, image) in enumerate(self.columns):
            x = GAP + i * (TILE + GAP)
            painter.drawImage(QRectF(x, GAP, TILE, TILE), mask)
            if image is not None:
                painter.drawImage(QRectF(x, 2 * GAP + TILE, TILE, TILE), image)
            painter.setPen(QColor(150, 154, 160))
            number = self.numbers[i] if i < len(self.numbers) else i + 1
            painter.drawText(
                QRectF(x, 3 * GAP + 2 * TILE - 4, TILE, 16),
                Qt.AlignmentFlag.AlignCenter,
                str(number),
            )
            if self.branch_at and i == self.branch_at:  # where the branch leaves its parent
                painter.fillRect(QRectF(x - GAP / 2 - 1, GAP, 2, 2 * TILE + GAP), ACCENT_ALT)
            if i == self.selected:
                pen = QPen(QColor(74, 158, 255), 2)
                painter.setPen(pen)
                painter.drawRect(QRectF(x - 2, GAP - 2, TILE + 4, 2 * TILE + GAP + 4))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = int((event.position().x() - GAP / 2) // (TILE + GAP))
        if 0 <= index < len(self.columns):
            self.clicked.emit(index)


class StepViewer(QWidget):
    """Signals:
    branch_requested(int step, int variation); export_requested(str "png" | "gif").
    """

    branch_requested = Signal(int, int)
    export_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: list = []
        self.total = 0
        self.prefix = 0  # leading steps that belong to the parent of a branch
        self.live = False  # the steps of this session's latest run (branching works on them)
        self._columns: dict[tuple[int, int], tuple[QImage, QImage | None]] = {}
        self.title = QLabel("No run yet: press Ctrl+Enter to generate.")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note = QLabel("")
        self.note.setStyleSheet("color: #9aa0a8; font-size: 11px;")
        self.note.setWordWrap(True)
        self.note.setMinimumHeight(2 * self.note.fontMetrics().lineSpacing() + 2)  # two lines
        style = self.style()
        self._icons = (
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay),
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPause),
        )
        self.play_button = QToolButton(toolTip="Play the steps one after another")
        self.play_button.setIcon(self._icons[0])
        self.play_button.setCheckable(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Drag to look at any step of the run")
        self.step_label = QLabel("")
        self.step_label.setMinimumWidth(110)
        self.variation = QSpinBox(prefix="Variation ", minimum=1, maximum=1)
        self.variation.setToolTip("Which candidate of the run to show")
        self.branch_button = QPushButton("Branch…")
        self.export_button = QToolButton(text="Export")
        self.export_button.setToolTip("Save the steps as one picture (PNG) or an animation (GIF)")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        self.png_action = export_menu.addAction("Timeline as a picture (PNG)…")
        self.gif_action = export_menu.addAction("Steps as an animation (GIF)…")
        self.export_button.setMenu(export_menu)
        self.strip = TimelineStrip()
        scroll = QScrollArea()
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(False)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setFixedHeight(self.strip.minimumHeight() + 18)
        self.scroll = scroll
        self.detail = {name: QLabel() for name in ("image", "confidence", "order")}
        self.legends = {
            "mask": legends.mask_legend(),
            "confidence": legends.confidence_legend(),
            "order": legends.order_legend(),
        }
        self._build()
        self._refresh_timer = QTimer(self)  # coalesces redraws while steps stream in
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(30)
        self._refresh_timer.timeout.connect(self._refresh)
        self.timer = QTimer(self)
        self.timer.setInterval(350)
        self.timer.timeout.connect(self._advance)
        self.play_button.toggled.connect(self._toggle_play)
        self.slider.valueChanged.connect(self.select)
        self.strip.clicked.connect(self.slider.setValue)
        self.variation.valueChanged.connect(lambda _: self._refresh())
        self.branch_button.clicked.connect(
            lambda: self.branch_requested.emit(self.position, self.variation.value() - 1)
        )
        self.png_action.triggered.connect(lambda: self.export_requested.emit("png"))
        self.gif_action.triggered.connect(lambda: self.export_requested.emit("gif"))
        self._update_buttons(finished=False)

    def _build(self) -> None:
        controls = QHBoxLayout()
        for widget in (self.play_button, self.slider, self.step_label, self.variation):
            controls.addWidget(widget, 1 if widget is self.slider else 0)
        for widget in (self.branch_button, self.export_button):
            controls.addWidget(widget)
        details = QHBoxLayout()
        captions = {"image": "Image", "confidence": "Confidence", "order": "Commit order"}
        for name, label in self.detail.items():
            column = QVBoxLayout()
            column.setSpacing(2)
            label.setFixedSize(128, 128)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("background: #1c1d20;")
            caption = QLabel(captions[name])
            caption.setStyleSheet("color: #9aa0a8; font-size: 11px;")
            column.addWidget(caption)
            column.addWidget(label)
            column.addWidget(self.legends.get(name) or QLabel(""))
            column.addStretch(1)
            details.addLayout(column)
        left = QVBoxLayout()
        left.setSpacing(3)
        left.addWidget(self.title)
        left.addLayout(controls)
        left.addWidget(self.scroll)
        left.addWidget(self.legends["mask"])
        left.addWidget(self.note)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(left, 1)
        layout.addLayout(details)

    # -- feeding ---------------------------------------------------------------------------
    def start_run(self, title: str, total: int = 0, prefix: list | tuple = ()) -> None:
        """A run begins: ``prefix`` are its parent's steps up to the branch point (a branch)."""
        self.play_button.setChecked(False)
        self.steps, self.total, self._columns = list(prefix), total, {}
        self.prefix, self.live = len(prefix), True
        self.title.setText(title)
        self.variation.setMaximum(max((int(s.ids.shape[0]) for s in prefix), default=1))
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(len(self.steps) - 1, 0))
            self.slider.setValue(max(len(self.steps) - 1, 0))
        self._update_buttons(finished=False)
        self._refresh()

    def set_total(self, total: int) -> None:
        self.total = total
        self._refresh_label()

    def add_step(self, step) -> None:
        """Append a StepResult; the view follows the newest step while a run goes (drawn at
        most every 30 ms, so a fast run never queues up redraws)."""
        self.steps.append(step)
        self.variation.setMaximum(int(step.ids.shape[0]))
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, len(self.steps) - 1)
            self.slider.setValue(len(self.steps) - 1)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def end_run(self, finished: bool) -> None:
        self._refresh_timer.stop()
        self._refresh()
        self._update_buttons(finished and len(self.steps) > self.prefix)

    def show_run(
        self, title: str, steps: list, prefix: int = 0, variation: int = 0, live: bool = False
    ) -> None:
        """Show a finished run: one of the history (steps rebuilt from its token log), or this
        session's latest (``live``: its own pictures, and branching works)."""
        self.start_run(title, 0, steps[:prefix])
        self.live = live
        self.steps = list(steps)
        self.variation.setMaximum(max((int(s.ids.shape[0]) for s in steps), default=1))
        self.set_variation(variation)
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(len(self.steps) - 1, 0))
            self.slider.setValue(max(len(self.steps) - 1, 0))
        self.end_run(finished=live)

    def clear(self, title: str = "No run yet: press Ctrl+Enter to generate.") -> None:
        self.start_run(title)
        self.live = False
        self.end_run(finished=False)

    def set_variation(self, variation: int) -> None:
        """Show variation ``variation`` (0-based), e.g. the candidate being browsed."""
        self.variation.setValue(min(variation + 1, self.variation.maximum()))

    def _update_buttons(self, finished: bool) -> None:
        self.branch_button.setEnabled(finished)
        self.branch_button.setToolTip(
            "Decode again from this step with another seed, temperature or class"
            if finished
            else "Branching works on the latest run of this session, once it has finished"
        )
        self.export_button.setEnabled(bool(self.steps))

    # -- viewing ---------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self.slider.value()

    def select(self, position: int) -> None:
        if self.steps:
            self.slider.setValue(position)
            self._refresh()

    def _toggle_play(self, on: bool) -> None:
        self.play_button.setIcon(self._icons[1] if on else self._icons[0])
        self.play_button.setToolTip("Pause" if on else "Play the steps one after another")
        if on:
            if self.position >= len(self.steps) - 1:
                self.slider.setValue(0)
            self.timer.start()
        else:
            self.timer.stop()

    def _advance(self) -> None:
        if self.position >= len(self.steps) - 1:
            self.play_button.setChecked(False)
        else:
            self.slider.setValue(self.position + 1)

    def _column(self, i: int, k: int) -> tuple[QImage, QImage | None]:
        key = (i, k)
        if key not in self._columns:
            step = self.steps[i]
            k = min(k, step.ids.shape[0] - 1)
            mask = to_qimage(render.token_mask_image(step.masked[k], step.revealed[k]))
            image = to_qimage(step.preview[k]) if step.preview is not None else None
            self._columns[key] = (mask, image)
        return self._columns[key]

    def _refresh(self) -> None:
        k = self.variation.value() - 1
        self.strip.set_columns([self._column(i, k) for i in range(len(self.steps))])
        self.strip.numbers = [int(s.index) + 1 for s in self.steps]
        self.strip.branch_at = self.prefix if self.prefix < len(self.steps) else 0
        self.strip.selected = self.position if self.steps else -1
        self.strip.update()
        self._refresh_label()
        if not self.steps:
            for label in self.detail.values():
                label.clear()
            return
        i = self.position
        step = self.steps[i]
        k = min(k, step.ids.shape[0] - 1)
        self._show("image", step.preview[k] if step.preview is not None else None)
        self._show("confidence", render.confidence_image(step.confidence[k], step.editable))
        order = render.commit_order(self.steps, i, k)
        first = next(j for j, s in enumerate(self.steps) if s.pass_index == step.pass_index)
        self._show("order", render.commit_order_image(order, first, first + step.total - 1))
        x = GAP + i * (TILE + GAP)
        self.scroll.ensureVisible(x + TILE // 2, 0, TILE, 0)

    def _refresh_label(self) -> None:
        if not self.steps:
            self.step_label.setText("")
            self.note.setText("")
            return
        step = self.steps[self.position]
        text = f"Iteration {step.index + 1} of {step.total}"
        if step.pass_count > 1:
            text += f"  (pass {step.pass_index + 1}/{step.pass_count})"
        self.step_label.setText(text)
        self.note.setText(self._note())

    def _note(self) -> str:
        """Why the first column is not iteration 1, and where a branch starts."""
        first = self.steps[0]
        parts = []
        if first.index > 0:
            parts.append(
                f"Edits start at iteration {first.index + 1} of {first.total}: the picture "
                f"around the selection settles what the first {first.index} would."
            )
        if 0 < self.prefix < len(self.steps):
            parts.append(
                f"The branch starts after iteration {self.steps[self.prefix - 1].index + 1} "
                "(the orange line); the steps before it are its parent's."
            )
        return " ".join(parts)

    def _show(self, name: str, image: np.ndarray | None) -> None:
        label = self.detail[name]
        if image is None:
            label.clear()
            return
        pixmap = QPixmap.fromImage(to_qimage(render.fit(image, 128)))
        label.setPixmap(pixmap)

    # -- export ----------------------------------------------------------------------------
    def strip_image(self, variation: int | None = None) -> np.ndarray:
        """(H, W, 3) uint8 Figure-2 strip: token masks above decoded images, one column per step."""
        k = self.variation.value() - 1 if variation is None else variation
        masks, images = [], []
        for step in self.steps:
            kk = min(k, step.ids.shape[0] - 1)
            masks.append(render.token_mask_image(step.masked[kk], step.revealed[kk]))
            if step.preview is not None:
                images.append(step.preview[kk])
        return render.figure_strip([masks, images] if images else [masks])

    def gif_frames(self, variation: int | None = None, size: int = 256) -> list[np.ndarray]:
        """One frame per step: the token mask beside the decoded image."""
        k = self.variation.value() - 1 if variation is None else variation
        frames = []
        for step in self.steps:
            kk = min(k, step.ids.shape[0] - 1)
            mask = render.token_mask_image(step.masked[kk], step.revealed[kk])
            row = [mask] + ([step.preview[kk]] if step.preview is not None else [])
            frames.append(render.figure_strip([row], tile=size))
        return frames
