"""The MaskGIT engine: torch + numpy only. Never imports Qt, the editor, the GUI or training."""
