"""Ctrl-C that a library turns into an error of its own still ends the command as interrupted.

torch does this while it builds a tensor: the KeyboardInterrupt raised inside its code comes out
as "could not determine the shape of object type ...", which the CLI would otherwise report as
bad input (exit 2).
"""

import os
import signal
import time

import pytest

import maskgit_studio
from maskgit_studio import cli
from maskgit_studio.cli import info

TORCH_S_WORDS = "could not determine the shape of object type 'torch.storage.UntypedStorage'"


def _interrupt_turned_into_an_error(args) -> int:
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the handler runs here, long before the sleep ends
    except KeyboardInterrupt:
        raise ValueError(TORCH_S_WORDS) from None
    return 0


def _plain_error(args) -> int:
    raise ValueError(TORCH_S_WORDS)


@pytest.fixture
def as_the_console_script(monkeypatch):
    """The handlers the console script has while its ``main`` runs, restored afterwards."""
    previous = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(maskgit_studio, "_interrupt_seen", False)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    maskgit_studio.quiet_start_up_interrupts(program=True)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_disguised_as_an_error_exits_130(as_the_console_script, monkeypatch, capsys):
    monkeypatch.setattr(info, "cmd_info", _interrupt_turned_into_an_error)
    assert cli.main(["info"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "could not determine" not in err


def test_the_same_error_without_ctrl_c_is_reported_as_an_error(
    as_the_console_script, monkeypatch, capsys
):
    monkeypatch.setattr(info, "cmd_info", _plain_error)
    assert cli.main(["info"]) == 2
    assert "could not determine the shape" in capsys.readouterr().err
