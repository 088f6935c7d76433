"""Importers: public MaskGIT weights (official flax msgpack, PyTorch ports) -> studio bundles."""

from .errors import WeightsImportError

__all__ = ["WeightsImportError"]
