"""The guard against PySide6 6.12.0's None refcount bug keeps long sessions alive."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from maskgit_studio.gui._pyside_fix import needs_guard


def test_guard_applies_only_to_the_affected_combination():
    assert needs_guard("6.12.0", (3, 11, 7))
    assert not needs_guard("6.11.3", (3, 11, 7))
    assert not needs_guard("6.12.0", (3, 12, 0))


def test_many_qt_calls_do_not_kill_the_process():
    code = textwrap.dedent(
        """
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        import maskgit_studio.gui  # applies the guard where needed
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        for _ in range(20000):
            app.processEvents()
        print("alive")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "alive" in out.stdout, out.stderr[-500:]
