"""Importers: public MaskGIT weights -> studio .safetensors bundles.

- :mod:`.flax_msgpack`: a validated reader (and a writer for tests) of flax msgpack files.
- :mod:`.official`: the strict official-layout -> engine converter (config inference included).
- :mod:`.torch_ports`: PyTorch ports (hmorimitsu/maskgit-torch) mapped back to the official layout.
- :mod:`.install`: convert once into the user model folder (``import_official``,
  ``import_torch_port``).
"""

from .errors import WeightsImportError
from .install import ImportResult, imagenet_class_names, import_official, import_torch_port

__all__ = [
    "ImportResult",
    "WeightsImportError",
    "imagenet_class_names",
    "import_official",
    "import_torch_port",
]
