"""A dark theme in the spirit of photo editors (Fusion style + palette + a short stylesheet)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor(74, 158, 255)
MASK_COLOR = QColor(255, 64, 96)
RING_COLOR = QColor(255, 176, 32)
GROWTH_COLOR = QColor(64, 200, 255)
FEATHER_COLOR = QColor(255, 236, 200)  # the band an edit blends, around the selection
CANVAS_BACKGROUND = QColor(30, 30, 32)

_STYLESHEET = """
QToolBar { spacing: 2px; border: none; padding: 2px; }
QToolButton { padding: 4px 6px; border-radius: 4px; }
QToolButton:checked { background: #2d5d9c; }
QToolButton:hover { background: #3a3d42; }
QDockWidget::title { padding: 4px 6px; background: #2b2d30; }
QGroupBox { border: 1px solid #3a3d42; border-radius: 4px; margin-top: 10px; padding-top: 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; color: #aab; }
QStatusBar QLabel { padding: 0 6px; }
QProgressBar { border: 1px solid #3a3d42; border-radius: 3px; text-align: center; height: 14px; }
QProgressBar::chunk { background: #4a9eff; }
QSlider::groove:horizontal { height: 4px; background: #3a3d42; border-radius: 2px; }
QSlider::handle:horizontal { width: 12px; margin: -5px 0; border-radius: 6px; background: #bfc4cc; }
"""


def with_alpha(color: QColor, alpha: int) -> QColor:
    out = QColor(color)
    out.setAlpha(alpha)
    return out


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style with a dark palette."""
    app.setStyle("Fusion")
    palette = QPalette()
    base, window, text = QColor(35, 36, 39), QColor(43, 45, 48), QColor(220, 222, 226)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.ToolTipBase: window,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(52, 54, 58),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.PlaceholderText: QColor(130, 134, 140),
    }
    for role, color in roles.items():
        palette.setColor(role, color)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(110, 112, 118))
    app.setPalette(palette)
    app.setStyleSheet(_STYLESHEET)
