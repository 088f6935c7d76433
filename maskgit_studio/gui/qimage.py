"""numpy <-> QImage conversions (GUI thread only; every QImage owns its pixels)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage, QPixmap


def to_qimage(array: np.ndarray) -> QImage:
    """(H, W, 3) RGB or (H, W, 4) RGBA uint8 -> a QImage holding its own copy."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected (H, W, 3|4) uint8, got {array.shape}")
    height, width, channels = array.shape
    fmt = QImage.Format.Format_RGB888 if channels == 3 else QImage.Format.Format_RGBA8888
    # QImage borrows the buffer; copy() detaches it before the array can go away.
    return QImage(array.data, width, height, channels * width, fmt).copy()


def to_pixmap(array: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(array))


def to_array(image: QImage) -> np.ndarray:
    """A QImage -> (H, W, 3) uint8 RGB copy."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.bytesPerLine() * height)
    return (
        data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3).copy()
    )


def cells_image(cells: np.ndarray, color: QColor) -> QImage:
    """(rows, cols) bool -> a cols x rows RGBA image, ``color`` where True, clear elsewhere."""
    rgba = np.zeros((*cells.shape, 4), dtype=np.uint8)
    rgba[cells] = (color.red(), color.green(), color.blue(), color.alpha())
    return to_qimage(rgba)
