"""The one exception every importer raises for a file it cannot use."""

from __future__ import annotations


class WeightsImportError(ValueError):
    """A weights file is unreadable, truncated, hostile or does not match the expected model.

    The message names the file (when known) and says what is wrong in words a user can act on.
    """


__all__ = ["WeightsImportError"]
