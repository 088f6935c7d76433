"""The engine's one face for the GUI and the CLI: ``EngineSession``. Numpy in, numpy out.

Inside, one job per module:
    engine_session.py  EngineSession: models, devices, geometry, the operations
    jobs.py            input checks and planning of edits and branches
    run.py             the step generators and the ``Run`` handle
    model.py           a loaded bundle as numpy-in / numpy-out helpers
    downloads.py       the official models to download, and the download
"""

from ..edit_options import REFINE_ORDERS, EditOptions
from ..editing import default_context
from ..editing_composite import BLEND_MODES, Blend
from ..importers.download import DownloadCancelled, DownloadError
from ..importers.official_download import DownloadProgress, OfficialModel
from ..results import ModelInfo, RunResult, StepResult
from .engine_session import EngineSession
from .jobs import MAX_VARIATIONS
from .run import Run

__all__ = [
    "BLEND_MODES",
    "MAX_VARIATIONS",
    "REFINE_ORDERS",
    "Blend",
    "EditOptions",
    "default_context",
    "DownloadCancelled",
    "DownloadError",
    "DownloadProgress",
    "EngineSession",
    "ModelInfo",
    "OfficialModel",
    "Run",
    "RunResult",
    "StepResult",
]
