"""The official models seen from the session: which can be downloaded, and the download itself.

The GUI reaches these through ``EngineSession`` (its one face); the transfer and the install are
``importers.official_download``'s.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import model_store
from ..importers.official_download import (
    OFFICIAL_MODELS,
    DownloadProgress,
    OfficialModel,
    download_official,
)


def downloadable_models() -> list[OfficialModel]:
    """The official models not installed yet, smallest first (the studio offers these)."""
    installed = {entry.name for entry in model_store.list_models()}
    return [model for model in OFFICIAL_MODELS.values() if model.name not in installed]


def download_model(
    name: str,
    progress: Callable[[DownloadProgress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    base_url: str | None = None,
) -> model_store.ModelEntry:
    """Download, convert and install an official model; a cancel or a failure leaves nothing.

    Raises:
        DownloadCancelled: ``cancelled()`` said stop (partial files are deleted).
        DownloadError, WeightsImportError: ValueErrors with a one-line message.
    """
    result = download_official(
        name, base_url=base_url, progress=progress, cancelled=cancelled, discard_partial=True
    )
    return model_store.ModelEntry(result.name, result.path, "user")


__all__ = ["downloadable_models", "download_model"]
