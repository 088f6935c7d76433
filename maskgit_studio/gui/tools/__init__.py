"""Canvas tools: brush, eraser, box, outpaint."""

from .base import Tool
from .box import BoxTool
from .brush import BrushSize, BrushTool, EraserTool
from .outpaint import OutpaintTool

__all__ = ["BoxTool", "BrushSize", "BrushTool", "EraserTool", "OutpaintTool", "Tool"]
