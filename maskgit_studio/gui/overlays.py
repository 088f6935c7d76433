"""Canvas overlay items. Scene coordinates are document pixels of the current document.

Cell overlays draw a (rows, cols) bool grid as a tiny image scaled up without smoothing, so
what is shown is exactly the cells, at any zoom, at the cost of one drawImage.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from maskgit_studio.editor import Box

from .qimage import cells_image, to_qimage


class CellsItem(QGraphicsItem):
    """A cell grid shaded in one colour (mask, box ring, new outpaint cells, still-masked)."""

    def __init__(self, color: QColor, z: float) -> None:
        super().__init__()
        self._color = color
        self.cells: np.ndarray | None = None  # what is shown, for the view's readers
        self.origin: tuple[float, float] = (0, 0)
        self._image: QImage | None = None
        self._rect = self._source = QRectF()
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_cells(
        self,
        cells: np.ndarray | None,
        cell: float,
        origin: tuple[float, float] = (0, 0),
        size: tuple[float, float] | None = None,
    ) -> None:
        """Show ``cells`` ((rows, cols) bool) of ``cell`` px with the top-left at ``origin``,
        cut to ``size`` (width, height) where the last row/column of cells is partial."""
        self.prepareGeometryChange()
        self.cells, self.origin = (cells.copy() if cells is not None else None), origin
        if cells is None or not cells.any():
            self._image, self._rect, self._source = None, QRectF(), QRectF()
        else:
            rows, cols = cells.shape
            width, height = size or (cols * cell, rows * cell)
            self._image = cells_image(cells, self._color)
            self._rect = QRectF(origin[0], origin[1], width, height)
            self._source = QRectF(0, 0, width / cell, height / cell)  # in cells
        self.update()

    @property
    def shown(self) -> bool:
        return self._image is not None

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(self._rect, self._image, self._source)


class GridItem(QGraphicsItem):
    """Token-cell grid lines over the image (hidden when cells are under 5 screen px)."""

    def __init__(self, z: float) -> None:
        super().__init__()
        self._size = (0, 0)
        self._cell = 16
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_grid(self, shape_hw: tuple[int, int], cell: int) -> None:
        self.prepareGeometryChange()
        self._size, self._cell = shape_hw, cell
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(0, 0, self._size[1], self._size[0])

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        zoom = painter.worldTransform().m11()
        if self._cell * zoom < 5:
            return
        height, width = self._size
        exposed = option.exposedRect.intersected(self.boundingRect())
        pen = QPen(QColor(255, 255, 255, 60), 0)  # cosmetic: one screen pixel
        painter.setPen(pen)
        c = self._cell
        for x in range(int(exposed.left() // c) * c, int(exposed.right()) + 1, c):
            painter.drawLine(QPointF(x, 0), QPointF(x, height))
        for y in range(int(exposed.top() // c) * c, int(exposed.bottom()) + 1, c):
            painter.drawLine(QPointF(0, y), QPointF(width, y))


class BoxesItem(QGraphicsItem):
    """Edit boxes: outline, class label, and resize handles on the selected one."""

    HANDLE_PX = 7  # screen pixels

    def __init__(self, z: float) -> None:
        super().__init__()
        self._boxes: tuple[Box, ...] = ()
        self._selected: int | None = None
        self._draft: tuple[float, float, float, float] | None = None
        self._labels: list[str] = []
        self._bounds = QRectF()
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_boxes(
        self,
        boxes: tuple[Box, ...],
        labels: list[str],
        selected: int | None,
        draft: tuple[float, float, float, float] | None = None,
    ) -> None:
        """Show ``boxes`` (with ``labels``), highlight ``selected``, and a ``draft`` x,y,w,h."""
        self.prepareGeometryChange()
        self._boxes, self._labels, self._selected, self._draft = boxes, labels, selected, draft
        rect = QRectF()
        for x, y, w, h in [b.xywh for b in boxes] + ([draft] if draft else []):
            rect = rect.united(QRectF(x, y, w, h))
        self._bounds = rect.adjusted(-400, -400, 400, 400)  # room for handles and labels
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        scale = 1.0 / max(painter.worldTransform().m11(), 1e-6)  # scene units per screen px
        font = QFont(painter.font())
        font.setPointSizeF(9)
        for i, box in enumerate(self._boxes):
            if i == self._selected and self._draft is not None:
                continue  # the draft shows where it is going
            selected = i == self._selected
            color = QColor(255, 196, 64) if selected else QColor(255, 255, 255, 200)
            painter.setPen(_cosmetic(color, 2 if selected else 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            rect = QRectF(*box.xywh)
            painter.drawRect(rect)
            self._label(
                painter, rect, self._labels[i] if i < len(self._labels) else "", scale, font
            )
            if selected:
                for handle in handle_rects(box.xywh, self.HANDLE_PX * scale).values():
                    painter.fillRect(handle, color)
        if self._draft is not None:
            painter.setPen(_cosmetic(QColor(255, 196, 64), 2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(*self._draft))

    @staticmethod
    def _label(painter: QPainter, rect: QRectF, text: str, scale: float, font: QFont) -> None:
        if not text:
            return
        painter.save()
        painter.translate(rect.topLeft())
        painter.scale(scale, scale)  # draw text in screen pixels
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
        painter.fillRect(QRectF(0, -height, width, height), QColor(0, 0, 0, 170))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(QRectF(4, -height, width, height), Qt.AlignmentFlag.AlignVCenter, text)
        painter.restore()


def _cosmetic(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, width, style)
    pen.setCosmetic(True)  # width in screen pixels at any zoom
    return pen


def handle_rects(xywh: tuple[float, float, float, float], size: float) -> dict[str, QRectF]:
    """Resize handles of a box (corners and edge midpoints), keyed "nw", "n", ..., "w"."""
    x, y, w, h = xywh
    xs = {"w": x, "c": x + w / 2, "e": x + w}
    ys = {"n": y, "c": y + h / 2, "s": y + h}
    out = {}
    for name in ("nw", "n", "ne", "e", "se", "s", "sw", "w"):
        vy = name[0] if name[0] in "ns" else "c"
        vx = name[-1] if name[-1] in "we" else "c"
        out[name] = QRectF(xs[vx] - size / 2, ys[vy] - size / 2, size, size)
    return out


class PreviewItem(QGraphicsItem):
    """The live decode of the running window, shown only over the cells being generated."""

    def __init__(self, z: float) -> None:
        super().__init__()
        self._image: QImage | None = None
        self._rect = QRectF()
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_preview(
        self, preview: np.ndarray | None, editable: np.ndarray | None, rect: QRectF
    ) -> None:
        """``preview`` (Hm, Wm, 3) uint8 decode of the window, ``editable`` (h, w) bool cells."""
        self.prepareGeometryChange()
        if preview is None or editable is None:
            self._image, self._rect = None, QRectF()
        else:
            ph, pw = preview.shape[:2]
            h, w = editable.shape
            alpha = np.repeat(np.repeat(editable, ph // h, axis=0), pw // w, axis=1)  # (Hm, Wm)
            rgba = np.concatenate([preview, (alpha * 255).astype(np.uint8)[..., None]], axis=2)
            self._image, self._rect = to_qimage(rgba), rect
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(self._rect, self._image)


class FrameItem(QGraphicsItem):
    """A dashed frame: the grown canvas of a pending outpaint."""

    def __init__(self, z: float) -> None:
        super().__init__()
        self._outer = QRectF()
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_frame(self, outer: QRectF | None) -> None:
        self.prepareGeometryChange()
        self._outer = outer or QRectF()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._outer.adjusted(-2, -2, 2, 2)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._outer.isEmpty():
            return
        painter.setPen(_cosmetic(QColor(64, 200, 255), 1.5, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self._outer)


class HintItem(QGraphicsItem):
    """A short how-to on an empty canvas, drawn at a fixed screen size around its position."""

    TEXT = (
        "Pick a class on the right and press Ctrl+Enter to generate an image,\n"
        "or open one: Ctrl+O, or drop a file here."
    )

    def __init__(self, z: float) -> None:
        super().__init__()
        self.setZValue(z)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._rect = QRectF(-300, -40, 600, 80)  # screen pixels around the position

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        font = QFont(painter.font())
        font.setPointSizeF(11)
        painter.setFont(font)
        align = Qt.AlignmentFlag.AlignCenter
        text_rect = painter.boundingRect(self._rect, align, self.TEXT)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(20, 21, 24, 210))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(text_rect.adjusted(-14, -10, 14, 10), 8, 8)
        painter.setPen(QColor(210, 214, 222))
        painter.drawText(self._rect, align, self.TEXT)
