"""The PySide6 studio: a thin view over the editor's Document, driving the engine's session.

Entry point: ``maskgit_studio.gui.app.main(argv) -> int``.
"""

from ._pyside_fix import protect_singletons

protect_singletons()
