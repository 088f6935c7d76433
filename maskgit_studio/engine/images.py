"""Image and mask files for the engine's users (CLI, GUI): see :mod:`maskgit_studio.image_io`.

The one safe opener, the one mask reader and the atomic image writer live in ``image_io`` (no
torch), so the editor reads masks and project images with exactly the same code.
"""

from __future__ import annotations

from .. import image_io
from ..image_io import *  # noqa: F403 - this module is image_io under the engine's name

__all__ = list(image_io.__all__)
