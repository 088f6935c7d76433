"""Application entry point: ``main(argv) -> int`` (``maskgit-studio [IMAGE]``)."""

from __future__ import annotations

import argparse
import logging
import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from maskgit_studio import __version__

from .theme import apply_dark_theme

log = logging.getLogger(__name__)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="maskgit-studio", description="The MaskGIT editing studio."
    )
    parser.add_argument("image", nargs="?", help="an image or a .mgstudio project to open")
    parser.add_argument(
        "--model", default=None, help="model name or .safetensors path (default: bundled)"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    return parser.parse_args(argv)


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named and themed."""
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    QCoreApplication.setOrganizationName("maskgit-studio")
    QCoreApplication.setApplicationName("maskgit-studio")
    QCoreApplication.setApplicationVersion(__version__)
    apply_dark_theme(app)
    return app  # type: ignore[return-value]


def main(argv: list[str]) -> int:
    """Run the studio; returns the process exit code.

    Args:
        argv: command-line arguments without the program name: ``[IMAGE] [--model M] [--device D]``.
    """
    args = _parse(argv)
    app = create_app()
    # imported here so ``--help`` does not pay for torch
    from maskgit_studio.engine.session import EngineSession

    from .main_window import MainWindow

    session = EngineSession(args.model, device=args.device)
    window = MainWindow(session)
    window.show()
    window.start(args.image)
    code = app.exec()
    window.controller.shutdown()
    return int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
