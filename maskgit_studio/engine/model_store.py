"""Where models live: the bundled default in the assets, imported/trained ones in the user data
dir (platformdirs). Names resolve to files; the app and CLI list both.

The assets are the top-level ``assets/`` folder of a source checkout (a fresh clone or an
editable install); the wheel build maps that folder to the package ``maskgit_studio.assets``,
so an installed wheel has them at ``maskgit_studio/assets/``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

APP_NAME = "maskgit-studio"
DEFAULT_MODEL_FILENAME = "default-model.safetensors"
MODEL_SUFFIX = ".safetensors"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    source: str  # "bundled" | "user"


PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../maskgit_studio


def assets_dir() -> Path:
    """The assets folder (class lists, sample images, the default model and its card).

    An installed wheel: ``maskgit_studio/assets/``. A source checkout: ``<repo>/assets/``.
    """
    installed = PACKAGE_DIR / "assets"
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / "assets"


def bundled_model_path() -> Path | None:
    """The embedded default model, or None if this install has none."""
    path = assets_dir() / DEFAULT_MODEL_FILENAME
    return path if path.is_file() else None


def user_models_dir(create: bool = False) -> Path:
    """Folder for imported and trained models (MASKGIT_STUDIO_MODELS overrides it)."""
    override = os.environ.get("MASKGIT_STUDIO_MODELS")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME)) / "models"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def list_models() -> list[ModelEntry]:
    """The bundled model first, then the user's models sorted by name."""
    entries: list[ModelEntry] = []
    bundled = bundled_model_path()
    if bundled is not None:
        entries.append(ModelEntry("default", bundled, "bundled"))
    user_dir = user_models_dir()
    if user_dir.is_dir():
        for path in sorted(user_dir.glob(f"*{MODEL_SUFFIX}")):
            entries.append(ModelEntry(path.stem, path, "user"))
    return entries


def resolve_model(name_or_path: str | os.PathLike | None) -> Path:
    """Turn a model name ("default", an imported model's name) or a file path into a path.

    Raises:
        FileNotFoundError: with a message listing what is available.
    """
    if name_or_path is None or str(name_or_path) == "default":
        bundled = bundled_model_path()
        if bundled is None:
            raise FileNotFoundError(
                "no default model is bundled with this install; pass --model PATH "
                "(train one with maskgit-train or import the official weights)"
            )
        return bundled
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        return candidate
    for entry in list_models():
        if entry.name == str(name_or_path):
            return entry.path
    known = ", ".join(e.name for e in list_models()) or "none"
    raise FileNotFoundError(f"model {str(name_or_path)!r} not found (known models: {known})")
