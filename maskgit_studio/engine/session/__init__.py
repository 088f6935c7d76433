"""The engine's one face for the GUI and the CLI: ``EngineSession``. Numpy in, numpy out.

Inside, one job per module:
    engine_session.py  EngineSession: models, devices, geometry, the operations
    jobs.py            input checks and planning of edits and branches
    run.py             the step generators and the ``Run`` handle
    model.py           a loaded bundle as numpy-in / numpy-out helpers
"""

from ..results import ModelInfo, RunResult, StepResult
from .engine_session import EngineSession
from .jobs import MAX_VARIATIONS
from .run import Run

__all__ = ["MAX_VARIATIONS", "EngineSession", "ModelInfo", "Run", "RunResult", "StepResult"]
