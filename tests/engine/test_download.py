"""Downloading the official weights, against a loopback HTTP server: the real transfer code,
real files in the official format, the real importer."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from maskgit_studio.engine import model_store
from maskgit_studio.engine.checkpoint import read_metadata
from maskgit_studio.engine.importers.download import (
    DownloadCancelled,
    DownloadError,
    fetch,
    part_path,
)
from maskgit_studio.engine.importers.errors import WeightsImportError
from maskgit_studio.engine.importers.official_download import (
    OFFICIAL_MODELS,
    download_official,
)
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
    return official_test_files()


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    models, _ = isolate(tmp_path, monkeypatch)
    return models, tmp_path / "downloads"


def get(served, work, **kw):
    return download_official("imagenet256", base_url=served.url, work_dir=work, backoff_s=0, **kw)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_nothing_installed(models):
    assert not models.exists() or not list(models.iterdir())


def test_download_converts_registers_and_cleans_up(files, dirs):
    models, work = dirs
    seen = []
    with serve(files) as served:
        result = get(served, work, progress=seen.append)
    assert result.name == "imagenet256" and result.path == models / "imagenet256.safetensors"
    assert model_store.resolve_model("imagenet256") == result.path
    assert not work.exists()  # raw files deleted
    # The bundle was made from exactly the served bytes.
    prov = read_metadata(result.path)["provenance"]
    assert prov["files"]["tokenizer"]["sha256"] == sha(files[TOK])
    assert prov["files"]["transformer"]["sha256"] == sha(files[TR])
    total = len(files[TOK]) + len(files[TR])
    downloads = [p for p in seen if p.phase == "download"]
    assert downloads[-1].done == total and all(p.total == total for p in downloads)
    assert [p.done for p in downloads] == sorted(p.done for p in downloads)
    assert seen[-1].phase == "convert"
    # HEAD both files first (a 404 fails before any transfer), then one GET each.
    assert [m for m, _, _ in served.log] == ["HEAD", "HEAD", "GET", "GET"]

    from maskgit_studio.engine.session import EngineSession

    session = EngineSession("imagenet256", device="cpu")
    assert session.info.class_names[207] == "golden retriever"
    result = session.generate(207, session.recommended_sampler().replace(steps=3)).run_to_end()
    assert result.images[0].shape == (8, 8, 3)


def test_keep_leaves_the_raw_files(files, dirs):
    models, work = dirs
    with serve(files) as served:
        get(served, work, keep=True)
    assert (work / TOK).read_bytes() == files[TOK] and (work / TR).read_bytes() == files[TR]


def test_connection_cut_halfway_is_resumed(files, dirs):
    models, work = dirs
    with serve(files, cut={TR: 1}) as served:
        result = get(served, work)
        ranges = served.gets(TR)
    assert len(ranges) == 2 and ranges[0] is None
    assert ranges[1] == f"bytes={len(files[TR]) // 2}-"  # resumed, not restarted
    prov = read_metadata(result.path)["provenance"]
    assert prov["files"]["transformer"]["sha256"] == sha(files[TR])


def test_persistent_cuts_give_up_keep_the_part_and_a_later_run_resumes(files, dirs):
    models, work = dirs
    with serve(files, cut={TR: 3}) as served:
        with pytest.raises(DownloadError, match="gave up after 3 tries.*run again to resume"):
            get(served, work, retries=2)
        assert_nothing_installed(models)
        part = part_path(work / TR)
        # Each try added half of what was left: 1/2 + 1/4 + 1/8 of the file.
        have, left = 0, len(files[TR])
        for _ in range(3):
            have, left = have + left // 2, left - left // 2
        assert part.stat().st_size == have
        assert part.read_bytes() == files[TR][:have]
        assert (work / TOK).read_bytes() == files[TOK]  # the finished file is kept too
        served.log.clear()
        result = get(served, work)  # the next run resumes
        assert served.gets(TOK) == [] and served.gets(TR) == [f"bytes={have}-"]
    assert result.path.is_file() and not work.exists()


def test_a_server_ignoring_range_restarts_the_file(files, dirs, tmp_path):
    dest = tmp_path / "f"
    part_path(dest).write_bytes(b"stale bytes from another file")
    with serve(files, ignore_range={TR}) as served:
        size = fetch(f"{served.url}/{TR}", dest, backoff_s=0)
        assert served.gets(TR) == ["bytes=29-"]
    assert size == len(files[TR]) and dest.read_bytes() == files[TR]
    assert not part_path(dest).exists()


def test_complete_part_before_rename_is_finished_with_416(files, tmp_path):
    dest = tmp_path / "f"
    part_path(dest).write_bytes(files[TOK])
    with serve(files) as served:
        assert fetch(f"{served.url}/{TOK}", dest, backoff_s=0) == len(files[TOK])
    assert dest.read_bytes() == files[TOK]


def test_404_fails_before_any_transfer(files, dirs):
    models, work = dirs
    with serve({TOK: files[TOK]}) as served:
        with pytest.raises(DownloadError, match=f"{TR} does not exist \\(HTTP 404\\)"):
            get(served, work)
        assert [m for m, _, _ in served.log] == ["HEAD", "HEAD"]
    assert_nothing_installed(models)
    assert not work.exists() or not list(work.iterdir())


def test_refused_connection(dirs):
    models, work = dirs
    url = closed_port_url()
    with pytest.raises(DownloadError, match="cannot reach .*refused"):
        download_official("imagenet256", base_url=url, work_dir=work, backoff_s=0)
    with pytest.raises(DownloadError, match="refused.*gave up after 2 tries"):
        fetch(f"{url}/{TR}", work / TR, retries=1, backoff_s=0)
    assert_nothing_installed(models)


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_corrupt_or_truncated_file_is_rejected_and_deleted(files, dirs, damage):
    models, work = dirs
    data = bytearray(files[TR])
    if damage == "corrupt":
        data[: len(data) // 2] = b"\xc1" * (len(data) // 2)  # 0xc1 is never valid msgpack
    else:
        data = data[: len(data) - 1000]
    with serve({**files, TR: bytes(data)}) as served, pytest.raises(WeightsImportError):
        get(served, work)
    assert_nothing_installed(models)
    assert not work.exists()  # a resume would only fail again


def test_cancel_discards_everything(files, dirs):
    models, work = dirs
    seen = []
    with serve(files) as served, pytest.raises(DownloadCancelled):
        get(served, work, progress=seen.append, cancelled=lambda: bool(seen),
            discard_partial=True)  # fmt: skip
    assert seen and seen[-1].phase == "download"
    assert_nothing_installed(models)
    assert not work.exists()


def test_taken_name_and_unknown_name_fail_before_downloading(files, dirs):
    models, work = dirs
    with serve(files) as served:
        get(served, work)
        served.log.clear()
        with pytest.raises(WeightsImportError, match="already exists"):
            get(served, work)
        with pytest.raises(ValueError, match="unknown official model"):
            download_official("imagenet1024", base_url=served.url, work_dir=work)
        assert served.log == []
        get(served, work, overwrite=True)


def test_not_enough_disk_space(files, dirs, monkeypatch):
    models, work = dirs
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=10 * 2**20))
    with serve(files) as served:
        with pytest.raises(DownloadError, match="not enough disk space.*MB needed, 10 MB free"):
            get(served, work)
        assert [m for m, _, _ in served.log] == ["HEAD", "HEAD"]
    assert_nothing_installed(models)


def test_proxy_environment_is_honoured(files, dirs, monkeypatch):
    models, work = dirs
    with serve(files) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url.rsplit("/", 1)[0])
        result = download_official(
            "imagenet256", base_url="http://maskgit.invalid/ckpt", work_dir=work, backoff_s=0
        )
        assert all(path.startswith("http://maskgit.invalid/ckpt/") for _, path, _ in proxy.log)
    assert result.path.is_file()


def test_official_names_and_sizes():
    assert OFFICIAL_MODELS["imagenet256"].label == "ImageNet 256 (866 MB)"
    assert OFFICIAL_MODELS["imagenet512"].files == (
        "tokenizer_imagenet512_checkpoint",
        "maskgit_imagenet512_checkpoint",
    )


def test_import_and_first_generation_stay_light(files, tmp_path):
    """Neither the importer (meta-device models) nor the sampler may pull in sympy or
    torch._dynamo: their first import costs seconds (measured 3-5 s on a loaded 2-core CPU)."""
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    code = (
        "import sys; from maskgit_studio.engine.importers import import_official; "
        "from maskgit_studio.engine.session import EngineSession; "
        "r = import_official(sys.argv[1], sys.argv[2], 'light', dest_dir=sys.argv[3]); "
        "s = EngineSession(str(r.path), device='cpu'); "
        "cfg = s.recommended_sampler().replace(steps=3, schedule='log'); "
        "img = s.generate(1, cfg).run_to_end().images[0]; "
        "s.edit_box(img, (0, 0, 4, 4), 2, cfg).run_to_end(); "
        "print(sorted(m for m in ('sympy', 'torch._dynamo') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / TOK), str(tmp_path / TR), str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
