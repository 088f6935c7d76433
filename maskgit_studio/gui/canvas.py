"""The canvas: a QGraphicsView over the document with zoom, pan, compare and cell overlays.

Scene coordinates are document pixels. Mouse input goes to the current tool unless it pans
(middle button, or Space held). The view redraws from the Document when it changes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
)

from maskgit_studio.editor import Document, Growth
from maskgit_studio.editor import cells as cellmath

from .canvas_input import CanvasInput
from .overlays import BoxesItem, CellsItem, FrameItem, GridItem, HintItem, PreviewItem
from .qimage import to_pixmap
from .theme import (
    CANVAS_BACKGROUND,
    FEATHER_COLOR,
    GROWTH_COLOR,
    MASK_COLOR,
    RING_COLOR,
    with_alpha,
)
from .tools.base import Tool

ZOOM_MIN, ZOOM_MAX = 0.05, 64.0
KEPT_MASK_DIM = 0.35  # a mask kept from the last run is drawn fainter: the result shows through


class Canvas(CanvasInput, QGraphicsView):
    """The document view.

    Signals:
        cursor_moved(object): (x, y) document pixel under the mouse, or () when it left.

    (No signal here ever carries None: PySide6 6.12 corrupts None's refcount when it is
    emitted through a Signal(object).)
        zoom_changed(float): view scale (1.0 = 100 %).
        files_dropped(list): local file paths dropped on the canvas.
    """

    cursor_moved = Signal(object)
    zoom_changed = Signal(float)
    files_dropped = Signal(list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(CANVAS_BACKGROUND)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        # pan with Space/middle-drag like photo editors; scroll bars would only take room
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.doc: Document | None = None
        self.tool: Tool | None = None
        self.editable = True  # False while a run is going
        self.class_label: Callable[[int | None], str] = lambda c: "" if c is None else str(c)
        self.selected_box: Callable[[], int | None] = lambda: None
        self.feather_radius: Callable[[], int] = lambda: 0  # px the next edit blends over
        self.box_draft: Callable[[], tuple | None] = lambda: None
        self._space = self._panning = self._compare = False
        self.user_zoomed = False  # the view re-fits on resize until the user zooms
        self._shown_shape: tuple[int, int] | None = None
        self._pan_from = QPointF()
        self._build_items()

    def _build_items(self) -> None:
        scene = self.scene()
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.image_item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self.preview_item = PreviewItem(1)
        self.mask_item = CellsItem(with_alpha(MASK_COLOR, 255), 2)
        self.mask_opacity, self.mask_kept = 0.45, False
        self.mask_item.setOpacity(self.mask_opacity)
        self.feather_item = CellsItem(with_alpha(FEATHER_COLOR, 70), 1.5)
        self.ring_item = CellsItem(with_alpha(RING_COLOR, 110), 3)
        self.growth_item = CellsItem(with_alpha(GROWTH_COLOR, 90), 3)
        self.shade_item = CellsItem(QColor(10, 10, 14, 150), 4)
        self.grid_item = GridItem(5)
        self.frame_item = FrameItem(6)
        self.boxes_item = BoxesItem(7)
        self.hint_item = HintItem(9)
        self.cursor_item = QGraphicsRectItem()
        pen = QPen(QColor(255, 255, 255, 220), 1.5)
        pen.setCosmetic(True)
        self.cursor_item.setPen(pen)
        self.cursor_item.setZValue(8)
        self.cursor_item.setVisible(False)
        self.round_cursor_item = QGraphicsEllipseItem()  # the round (pixel) brush
        self.round_cursor_item.setPen(pen)
        self.round_cursor_item.setZValue(8)
        self.round_cursor_item.setVisible(False)
        for item in (self.image_item, self.preview_item, self.mask_item, self.ring_item):
            scene.addItem(item)
        scene.addItem(self.feather_item)
        for item in (self.growth_item, self.shade_item, self.grid_item, self.frame_item):
            scene.addItem(item)
        scene.addItem(self.boxes_item)
        scene.addItem(self.hint_item)
        scene.addItem(self.cursor_item)
        scene.addItem(self.round_cursor_item)

    # -- document binding ------------------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.unsubscribe(self._on_change)
        self.doc = doc
        if doc is not None:
            doc.subscribe(self._on_change)
        self.clear_step()
        self.refresh()
        self.fit()
        self._shown_shape = doc.shape if doc is not None else None

    def _on_change(self, aspects: set[str]) -> None:
        if aspects & {"result", "mask"}:  # a result landed: its mask stays, drawn faint
            self.mask_kept = "result" in aspects
            self.set_mask_opacity(self.mask_opacity)
        # candidates coming and going hide and show the overlays: "pending" redraws them all
        if aspects & {"image", "pending", "grid"}:
            self.refresh_image()
        if aspects & {"mask", "grid", "image", "pending"}:
            self.refresh_mask()
        if aspects & {"boxes", "grid", "image", "pending"}:
            self.refresh_boxes()
        if aspects & {"growth", "grid", "image", "pending"}:
            self.show_growth(self.doc.growth if self.doc else None)
        if self.doc is not None and self.doc.shape != self._shown_shape:
            self.fit()  # a new canvas size (a generated image, a grown canvas): show it whole

    def refresh(self) -> None:
        self.refresh_image()
        self.refresh_mask()
        self.refresh_boxes()
        self.show_growth(self.doc.growth if self.doc else None)

    def refresh_image(self) -> None:
        doc = self.doc
        if doc is None:
            self.image_item.setPixmap(to_pixmap(np.zeros((1, 1, 3), np.uint8)))
            self.hint_item.setVisible(False)
            return
        pending = doc.pending
        image, pos = doc.image, (0, 0)
        if pending is not None and not self._compare:
            image, pos = pending.current, (-pending.offset[0], -pending.offset[1])
        elif pending is None and self._compare:
            image, pos = doc.original, doc.origin
        self.image_item.setPixmap(to_pixmap(image))
        self.image_item.setPos(*pos)
        self.hint_item.setVisible(doc.is_blank and self.editable)
        self.hint_item.setPos(self.image_item.sceneBoundingRect().center())
        self.grid_item.set_grid(doc.shape, doc.cell_size)
        self._update_scene_rect()

    def _update_scene_rect(self) -> None:
        rect = self.image_item.sceneBoundingRect().united(self.frame_item.sceneBoundingRect())
        margin = max(rect.width(), rect.height(), 256)
        self.setSceneRect(rect.adjusted(-margin, -margin, margin, margin))

    def refresh_mask(self) -> None:
        doc = self.doc
        show = doc is not None and doc.pending is None and self.editable
        if doc is None or not show:
            self.mask_item.set_cells(None, 1)
        else:
            shown, unit = doc.mask_display()  # cells, or painted pixels
            self.mask_item.set_cells(shown, unit, size=(doc.shape[1], doc.shape[0]))
        self.refresh_feather()

    def refresh_feather(self) -> None:
        """The band outside the selection that the next edit blends (the box's, when one is
        selected, else the mask's)."""
        doc = self.doc
        region = self.ring_item.cells if self.ring_item.shown else None
        if region is None and doc is not None:
            region = doc.selection_cells()
        if doc is None or doc.pending is not None or not self.editable or region is None:
            self.feather_item.set_cells(None, 1)
            return
        ring, unit = cellmath.feather_ring(region, doc.shape, doc.cell_size, self.feather_radius())
        self.feather_item.set_cells(ring, unit, size=(doc.shape[1], doc.shape[0]))

    def refresh_boxes(self) -> None:
        doc = self.doc
        if doc is None:
            self.boxes_item.set_boxes((), [], None)
            self.ring_item.set_cells(None, 1)
            return
        selected, draft = self.selected_box(), self.box_draft()
        if selected is not None and selected >= len(doc.boxes):
            selected = None  # the box went away (undo, accepted edit); the tool catches up
        labels = [self.class_label(b.class_id) for b in doc.boxes]
        show = doc.pending is None and self.editable
        self.boxes_item.set_boxes(
            doc.boxes if show else (), labels, selected, draft if show else None
        )
        ring_box = draft or (doc.boxes[selected].xywh if selected is not None else None)
        ring = (
            cellmath.rect_cells(ring_box, doc.shape, doc.cell_size, ring=1)
            if ring_box and show
            else None
        )
        self.ring_item.set_cells(ring, doc.cell_size, size=(doc.shape[1], doc.shape[0]))
        self.refresh_feather()

    def show_growth(self, growth: Growth | None) -> None:
        """Show a (pending or draft) canvas growth: its frame and its new cells as masked."""
        doc = self.doc
        if doc is None or growth is None or not growth.any or doc.pending is not None:
            self.growth_item.set_cells(None, 1)
            self.frame_item.set_frame(None)
        else:
            cell = doc.cell_size
            left, top, _, _ = growth.pixels(cell)
            height, width = growth.grown_shape(doc.shape, cell)
            new_cells = growth.new_cells(doc.shape, cell)
            self.growth_item.set_cells(new_cells, cell, (-left, -top), (width, height))
            self.frame_item.set_frame(QRectF(-left, -top, width, height))
        self._update_scene_rect()

    def show_brush_cursor(self, cell: tuple[int, int] | None, size: int) -> None:
        if self.doc is None or cell is None:
            self.cursor_item.setVisible(False)
            return
        r0, c0, r1, c1 = cellmath.brush_footprint(*cell, size)
        c = self.doc.cell_size
        self.cursor_item.setRect(QRectF(c0 * c, r0 * c, (c1 - c0) * c, (r1 - r0) * c))
        self.cursor_item.setVisible(True)

    def show_round_cursor(self, centre: tuple[float, float] | None, radius: float) -> None:
        """The round brush's outline at document point ``centre`` (None hides it)."""
        if self.doc is None or centre is None:
            self.round_cursor_item.setVisible(False)
            return
        x, y = centre
        self.round_cursor_item.setRect(QRectF(x - radius, y - radius, 2 * radius, 2 * radius))
        self.round_cursor_item.setVisible(True)

    # -- live runs -------------------------------------------------------------------------
    def set_editable(self, editable: bool) -> None:
        """While a run goes, the tools rest and the overlays give way to the live preview."""
        self.editable = editable
        self.hint_item.setVisible(editable and self.doc is not None and self.doc.is_blank)
        if not editable and self.tool is not None:
            self.tool.cancel()
        self.refresh_mask()
        self.refresh_boxes()

    def show_step(self, step, offset: tuple[int, int], variation: int = 0) -> None:
        """Draw a StepResult: the decoded window over its editable cells, still-masked shaded.

        ``offset`` is the current document's position inside the run's output document.
        """
        x0, y0, x1, y1 = step.window
        rect = QRectF(x0 - offset[0], y0 - offset[1], x1 - x0, y1 - y0)
        k = min(variation, step.ids.shape[0] - 1)
        preview = step.preview[k] if step.preview is not None else None
        self.preview_item.set_preview(preview, step.editable, rect)
        cell = (x1 - x0) / step.editable.shape[1]
        size = None
        if self.doc is not None:  # cut partial cells at the edge of the run's output canvas
            out_h, out_w = self.doc.growth.grown_shape(self.doc.shape, self.doc.cell_size)
            size = (min(x1, out_w) - x0, min(y1, out_h) - y0)
        self.shade_item.set_cells(step.masked[k] & step.editable, cell, (rect.x(), rect.y()), size)

    def clear_step(self) -> None:
        self.preview_item.set_preview(None, None, QRectF())
        self.shade_item.set_cells(None, 1)

    # -- view ------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def scene_per_pixel(self) -> float:
        return 1.0 / max(self.zoom, 1e-9)

    def set_zoom(self, zoom: float) -> None:
        """The user's zoom: from now on a resize keeps it (until the next fit)."""
        self.user_zoomed = True
        self._apply_zoom(zoom)

    def _apply_zoom(self, zoom: float) -> None:
        zoom = min(max(zoom, ZOOM_MIN), ZOOM_MAX)
        self.scale(zoom / self.zoom, zoom / self.zoom)
        self.zoom_changed.emit(self.zoom)

    def fit(self) -> None:
        """Fit the document (and a pending growth) in the window; re-fits follow resizes."""
        self.user_zoomed = False
        if self.doc is not None:
            self._shown_shape = self.doc.shape
        rect = self.image_item.sceneBoundingRect().united(self.frame_item.sceneBoundingRect())
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-16, -16, 16, 16), Qt.AspectRatioMode.KeepAspectRatio)
        self._apply_zoom(self.zoom)  # clamp + notify

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if not self.user_zoomed:
            self.fit()

    def set_mask_opacity(self, opacity: float) -> None:
        self.mask_opacity = opacity
        self.mask_item.setOpacity(opacity * (KEPT_MASK_DIM if self.mask_kept else 1.0))

    def set_grid_visible(self, visible: bool) -> None:
        self.grid_item.setVisible(visible)

    def set_compare(self, on: bool) -> None:
        """Show the original (or, with candidates on show, the document before them)."""
        if on != self._compare:
            self._compare = on
            self.refresh_image()

    def set_tool(self, tool: Tool | None) -> None:
        if self.tool is not None and self.tool is not tool:
            self.tool.deactivate()
        self.tool = tool
        if tool is not None:
            self.viewport().setCursor(tool.cursor)
            tool.activate()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        super().drawBackground(painter, rect)
        # a soft shadow under the image, like a sheet on a desk
        image_rect = self.image_item.sceneBoundingRect()
        if not image_rect.isEmpty():
            shadow = image_rect.translated(3 * self.scene_per_pixel(), 3 * self.scene_per_pixel())
            painter.fillRect(shadow, QColor(0, 0, 0, 90))
