"""Small keys for the step viewer's pictures: the colour scales and the token-mask colours."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from . import step_render as render

_KEY_STYLE = "font-size: 10px; background: transparent;"


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))


def scale_legend(low: str, high: str, tip: str, width: int = 128) -> QFrame:
    """A colour bar of the maps' scale, ``low`` at its left end and ``high`` at its right."""
    stops = render.colormap(np.linspace(0, 1, 5)[None])[0]
    gradient = ", ".join(f"stop:{i / 4:.2f} {_hex(c)}" for i, c in enumerate(stops))
    bar = QFrame()
    bar.setObjectName("legend")
    bar.setFixedSize(width, 15)
    bar.setStyleSheet(
        f"QFrame#legend {{ background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {gradient}); "
        "border-radius: 2px; }"
    )
    bar.setToolTip(tip)
    row = QHBoxLayout(bar)
    row.setContentsMargins(3, 0, 3, 0)
    for text, colour in ((low, "#ffffff"), (high, "#101010")):
        label = QLabel(text)
        label.setStyleSheet(f"{_KEY_STYLE} color: {colour};")
        row.addWidget(label)
        if text == low:
            row.addStretch(1)
    return bar


def swatch_legend(items: list[tuple[tuple[int, int, int], str]], tip: str) -> QWidget:
    """Colour squares with their meaning, in one line."""
    widget = QWidget()
    widget.setToolTip(tip)
    row = QHBoxLayout(widget)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    for colour, text in items:
        square = QLabel()
        square.setFixedSize(10, 10)
        square.setStyleSheet(f"background: {_hex(colour)}; border: 1px solid #5a5e66;")
        row.addWidget(square)
        label = QLabel(text)
        label.setStyleSheet(f"{_KEY_STYLE} color: #9aa0a8;")
        row.addWidget(label)
        row.addSpacing(6)
    row.addStretch(1)
    return widget


def mask_legend() -> QWidget:
    """The colours of the token-mask tiles (top row of the timeline)."""
    return swatch_legend(
        [
            (render.MASKED, "still hidden"),
            (render.KNOWN, "fixed"),
            (render.REVEALED, "fixed at this step"),
        ],
        "Top row: the token grid after each step. Every cell is one token, a patch of the image.",
    )


def confidence_legend() -> QFrame:
    return scale_legend(
        "unsure",
        "sure",
        "How sure the model was of each token it picked (grey: cells kept from your image).",
    )


def order_legend() -> QFrame:
    return scale_legend(
        "early",
        "late",
        "When each token was fixed: dark ones first, bright ones last (grey: kept cells).",
    )
