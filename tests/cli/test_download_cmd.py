"""``maskgit-studio download``: real transfers from a loopback server, through ``cli.main``."""

from __future__ import annotations

import io

import pytest

from maskgit_studio import cli
from maskgit_studio.cli.download_cmd import ProgressMeter, bar_line
from maskgit_studio.engine import model_store
from maskgit_studio.engine.importers.official_download import DownloadProgress
from tests.loopback import (
    OFFICIAL_TEST_FILES,
    closed_port_url,
    isolate,
    official_test_files,
    serve,
)

TOK, TR = OFFICIAL_TEST_FILES


@pytest.fixture(scope="module")
def files():
    return official_test_files(seed=3)


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    return isolate(tmp_path, monkeypatch)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "Traceback" not in "\n".join(err)
    return err[-1]


def test_download_installs_with_quiet_lines(files, dirs, capsys):
    models, work = dirs
    with serve(files) as served:
        rc = cli.main(["download", "imagenet256", "--base-url", served.url])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "installed 'imagenet256'" in captured.out and "--model imagenet256" in captured.out
    assert model_store.resolve_model("imagenet256") == models / "imagenet256.safetensors"
    lines = captured.err.splitlines()
    assert lines[0].startswith("downloading ImageNet 256 (866 MB) from http://127.0.0.1:")
    percents = [line for line in lines if line.startswith("download:")]
    assert percents[-1].startswith("download: 100% (2/2 MB")  # stderr is no terminal
    assert "\r" not in captured.err and any(line.startswith("converting") for line in lines)
    assert not work.exists()


def test_keep_and_force(files, dirs, capsys):
    models, work = dirs
    with serve(files) as served:
        assert cli.main(["download", "imagenet256", "--base-url", served.url]) == 0
        assert cli.main(["download", "imagenet256", "--base-url", served.url]) == 2
        assert "already exists" in one_error_line(capsys)
        argv = ["download", "imagenet256", "--base-url", served.url, "--force", "--keep"]
        assert cli.main(argv) == 0
    assert (work / TR).read_bytes() == files[TR]
    assert str(work) in capsys.readouterr().out


@pytest.mark.parametrize("case", ["404", "refused", "corrupt", "truncated"])
def test_failures_exit_2_with_one_line_and_install_nothing(files, dirs, capsys, case):
    models, work = dirs
    served_files = dict(files)
    if case == "404":
        del served_files[TR]
    elif case == "corrupt":
        served_files[TR] = b"\xc1" * len(files[TR])
    elif case == "truncated":
        served_files[TR] = files[TR][:-500]
    with serve(served_files) as served:
        url = closed_port_url() if case == "refused" else served.url
        rc = cli.main(["download", "imagenet256", "--base-url", url])
    assert rc == 2
    line = one_error_line(capsys)
    assert line.startswith("maskgit-studio download: error: ")
    expected = {"404": "HTTP 404", "refused": "refused", "corrupt": TR, "truncated": "truncated"}
    assert expected[case] in line
    assert not models.exists() or not list(models.iterdir())
    assert not work.exists() or not [p for p in work.iterdir() if not p.name.endswith(".part")]


def test_terminal_gets_a_redrawn_bar():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    meter = ProgressMeter(stream)
    total = 866 * 2**20
    for done in (0, total // 2, total):
        meter(DownloadProgress("download", TR, done, total, 12.5 * 2**20, (total - done) / 12.5 / 2**20))  # fmt: skip
    meter(DownloadProgress("convert", "imagenet256", total, total))
    text = stream.getvalue()
    assert text.count("\r") == 3
    assert "[##############..............]   433/866 MB   12.5 MB/s  ETA 0:35" in text
    assert "[############################]   866/866 MB   12.5 MB/s  ETA 0:00\nconverting" in text
    assert bar_line(DownloadProgress("download", TR, 3 * 2**20, None, 2**20)).split() == ["3.0", "MB", "1.0", "MB/s"]  # fmt: skip
