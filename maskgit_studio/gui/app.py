"""Application entry point: ``main(argv) -> int`` (``maskgit-studio [IMAGE]``)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from PySide6.QtCore import QCoreApplication, QTimer
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
    """Run the studio; returns the process exit code (130 after Ctrl-C in the terminal).

    Args:
        argv: command-line arguments without the program name: ``[IMAGE] [--model M] [--device D]``.
    """
    args = _parse(argv)
    app = create_app()
    ctrl_c = CtrlC(app)  # before the slow imports: Ctrl-C during start-up quits cleanly too
    # imported here so ``--help`` does not pay for torch
    from maskgit_studio.engine.session import EngineSession

    from .main_window import MainWindow

    if ctrl_c.pressed:
        return ctrl_c.report()
    session = EngineSession(args.model, device=args.device)
    window = MainWindow(session)
    window.show()
    window.start(args.image)
    code = ctrl_c.exec()
    window.controller.shutdown()
    return ctrl_c.report() if code == CtrlC.EXIT_CODE else int(code)


class CtrlC:
    """Ctrl-C in the terminal quits the app with exit code 130 and one line, at any moment of
    start-up or later (the autosave stays, so the document is offered for recovery next time).

    The handler only sets a flag and asks the event loop to stop, so it never interrupts an
    import or a slot half-way; Python sees signals only between bytecodes, so a timer wakes
    it while Qt's event loop runs.
    """

    EXIT_CODE = 130

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.pressed = False
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # nohup / background job
            signal.signal(signal.SIGINT, self._handle)

    def _handle(self, *_: object) -> None:
        self.pressed = True
        self.app.exit(self.EXIT_CODE)  # no effect before exec(): exec() checks the flag

    def exec(self) -> int:
        wake = QTimer()
        wake.timeout.connect(self._check)
        wake.start(200)
        QTimer.singleShot(0, self._check)  # pressed between the last check and exec()
        try:
            return int(self.app.exec())
        finally:
            wake.stop()

    def _check(self) -> None:
        if self.pressed:
            self.app.exit(self.EXIT_CODE)

    def report(self) -> int:
        print("maskgit-studio: interrupted", file=sys.stderr)
        return self.EXIT_CODE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
