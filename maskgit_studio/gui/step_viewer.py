"""Step-through viewer: every iteration of the current run as a timeline, like the paper's
Figure 2 (token masks above decoded images), with scrubbing, play, per-step confidence and
commit-order maps, branching and export."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import step_render as render
from .qimage import to_qimage

TILE, GAP = 64, 6


class TimelineStrip(QWidget):
    """Columns of (token mask, image) tiles, one per step; click a column to select it."""

    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: list[tuple[QImage, QImage | None]] = []
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
            painter.drawText(
                QRectF(x, 3 * GAP + 2 * TILE - 4, TILE, 16),
                Qt.AlignmentFlag.AlignCenter,
                str(i + 1),
            )
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
        self._columns: dict[tuple[int, int], tuple[QImage, QImage | None]] = {}
        self.title = QLabel("No run yet: press Ctrl+Enter to generate.")
        self.play_button = QToolButton(text="▶", toolTip="Play the steps")
        self.play_button.setCheckable(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.step_label = QLabel("")
        self.step_label.setMinimumWidth(90)
        self.variation = QSpinBox(prefix="Variation ", minimum=1, maximum=1)
        self.branch_button = QPushButton("Branch from here…")
        self.branch_button.setToolTip(
            "Re-decode from this step with a new seed, temperature or class"
        )
        self.png_button = QPushButton("PNG strip")
        self.gif_button = QPushButton("GIF")
        self.strip = TimelineStrip()
        scroll = QScrollArea()
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(False)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setFixedHeight(self.strip.minimumHeight() + 18)
        self.scroll = scroll
        self.detail = {name: QLabel() for name in ("image", "confidence", "order")}
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
        self.png_button.clicked.connect(lambda: self.export_requested.emit("png"))
        self.gif_button.clicked.connect(lambda: self.export_requested.emit("gif"))
        self._update_buttons(finished=False)

    def _build(self) -> None:
        controls = QHBoxLayout()
        for widget in (self.play_button, self.slider, self.step_label, self.variation):
            controls.addWidget(widget, 1 if widget is self.slider else 0)
        for widget in (self.branch_button, self.png_button, self.gif_button):
            controls.addWidget(widget)
        details = QHBoxLayout()
        captions = {"image": "Image", "confidence": "Confidence", "order": "Commit order"}
        for name, label in self.detail.items():
            column = QVBoxLayout()
            label.setFixedSize(128, 128)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("background: #1c1d20;")
            caption = QLabel(captions[name])
            caption.setStyleSheet("color: #9aa0a8; font-size: 11px;")
            column.addWidget(caption)
            column.addWidget(label)
            details.addLayout(column)
        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addLayout(controls)
        left.addWidget(self.scroll)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(left, 1)
        layout.addLayout(details)

    # -- feeding ---------------------------------------------------------------------------
    def start_run(self, title: str, total: int = 0) -> None:
        self.play_button.setChecked(False)
        self.steps, self.total, self._columns = [], total, {}
        self.title.setText(title)
        self.variation.setMaximum(1)
        self.slider.setRange(0, 0)
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
        self._update_buttons(finished and bool(self.steps))

    def _update_buttons(self, finished: bool) -> None:
        self.branch_button.setEnabled(finished)
        for button in (self.png_button, self.gif_button):
            button.setEnabled(bool(self.steps))

    # -- viewing ---------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self.slider.value()

    def select(self, position: int) -> None:
        if self.steps:
            self.slider.setValue(position)
            self._refresh()

    def _toggle_play(self, on: bool) -> None:
        self.play_button.setText("⏸" if on else "▶")
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
            return
        step = self.steps[self.position]
        text = f"Step {self.position + 1} / {max(self.total, len(self.steps))}"
        if step.pass_count > 1:
            text += f"  (pass {step.pass_index + 1}/{step.pass_count})"
        self.step_label.setText(text)

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
