"""The distribution: the top-level assets/ reach the wheel, and every way of running finds them.

Three ways to run: a fresh clone (the source on sys.path), an editable install (the test suite
itself), and an installed wheel. The wheel test builds from a copy of the working tree, so it
never leaves build/ or *.egg-info behind in the checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from maskgit_studio.engine.checkpoint import read_metadata
from maskgit_studio.engine.images import load_image
from maskgit_studio.engine.model_store import DEFAULT_MODEL_FILENAME

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "assets" / DEFAULT_MODEL_FILENAME
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "runs"
)


def source_packages() -> set[str]:
    """Every package of the source tree (a folder with __init__.py)."""
    found = set()
    for top in ("maskgit_studio", "training"):
        for init in (ROOT / top).rglob("__init__.py"):
            found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


def test_pyproject_lists_every_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert config["package-dir"] == {"maskgit_studio.assets": "assets"}
    assert listed - {"maskgit_studio.assets"} == source_packages(), (
        "pyproject.toml [tool.setuptools] packages must list every package of the source tree"
    )
    assert not (ROOT / "maskgit_studio" / "assets").exists(), "assets live at the top level"


def run_python(code: str, path: Path, cwd: Path, timeout: int = 300) -> str:
    """Run ``code`` in a fresh interpreter with only ``path`` put in front of sys.path."""
    env = {**os.environ, "PYTHONPATH": str(path), "MASKGIT_TEST_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


WHERE = (
    "import json, maskgit_studio; from maskgit_studio.engine import model_store; "
    "print(json.dumps([maskgit_studio.__file__, str(model_store.bundled_model_path()), "
    "str(model_store.assets_dir())]))"
)


def copy_source(dest: Path) -> Path:
    """The working tree as a fresh clone would have it (tracked and new files, not ignored)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
            capture_output=True, text=True,
        ).stdout.split("\0")  # fmt: skip
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        return Path(shutil.copytree(ROOT, dest, ignore=IGNORED))
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # skip files deleted in the working tree
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.mark.skipif(not MODEL.is_file(), reason="no bundled default model in this checkout")
def test_fresh_clone_finds_the_assets(tmp_path):
    clone = copy_source(tmp_path / "clone")
    package, model, assets = json.loads(run_python(WHERE, clone, cwd=clone))
    assert Path(package).is_relative_to(clone)
    assert Path(model) == clone / "assets" / DEFAULT_MODEL_FILENAME
    assert (Path(assets) / "imagenet_classes.txt").is_file()


@pytest.mark.slow
@pytest.mark.skipif(not MODEL.is_file(), reason="no bundled default model in this checkout")
def test_wheel_holds_the_model_and_generates(tmp_path):
    pytest.importorskip("pip")
    source = copy_source(tmp_path / "source")
    # Offline with this environment's setuptools where it has one; else pip fetches the build
    # requirements from PyPI (venvs of Python >= 3.12 come without setuptools).
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q",
         "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("maskgit_studio-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        packed = archive.getinfo(f"maskgit_studio/assets/{DEFAULT_MODEL_FILENAME}")
        assert packed.file_size == MODEL.stat().st_size
        archive.extractall(tmp_path / "site")
    assert "maskgit_studio/assets/imagenet_classes.txt" in names
    assert "training/configs/default.toml" in names
    for package in source_packages():
        assert f"{package.replace('.', '/')}/__init__.py" in names, f"{package} is not in the wheel"

    site, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    package, model, _ = json.loads(run_python(WHERE, site, cwd=work))
    assert Path(package).is_relative_to(site) and Path(model).is_relative_to(site)
    out = work / "out.png"
    generate = (
        "import sys; from maskgit_studio.cli import main; "
        f"sys.exit(main(['generate', '--class', '0', '--steps', '2', '--out', {str(out)!r}]))"
    )
    run_python(generate, site, cwd=work)
    size = read_metadata(model)["image_size"]
    assert load_image(out).shape == (size, size, 3)
