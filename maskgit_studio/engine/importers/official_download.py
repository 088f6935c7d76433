"""Download the official MaskGIT ImageNet checkpoints and install them as a studio model.

``download_official("imagenet256")`` fetches the two official files from the public bucket that
google-research/maskgit's README links (or a mirror: ``base_url``), checks the free disk space
first, converts them with the importer, registers the model under the same name and deletes the
raw files (unless ``keep``). Nothing half-made is left behind: the model file appears only
complete (``save_bundle`` writes a temp file and renames it); a failed transfer leaves only
``.part`` files in the download folder, which the next attempt resumes; raw files the importer
rejects are deleted; ``discard_partial`` (the studio's Cancel) deletes the download folder.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .. import model_store
from .download import DownloadCancelled, DownloadError, TransferProgress, fetch, remote_size
from .download import part_path as _part_path
from .install import ImportResult, destination, import_official

log = logging.getLogger(__name__)

OFFICIAL_BASE_URL = "https://storage.googleapis.com/maskgit-public/checkpoints"
BASE_URL_ENV = "MASKGIT_STUDIO_DOWNLOAD_URL"  # a mirror for the studio (the CLI has --base-url)
MB = 2**20
# Room for the converted model next to the raw files, on top of the files themselves.
BUNDLE_OVER_INPUT = 1.0
DISK_MARGIN = 64 * MB


@dataclass(frozen=True)
class OfficialModel:
    """One official ImageNet model: its two files and their approximate total size.

    ``approx_bytes`` is what the files' shapes give (the transformer is 172.5M float32
    parameters); the real sizes come from the server when the download starts.
    """

    name: str
    image_size: int
    tokenizer_file: str
    transformer_file: str
    approx_bytes: int

    @property
    def files(self) -> tuple[str, str]:
        return (self.tokenizer_file, self.transformer_file)

    @property
    def label(self) -> str:
        return f"ImageNet {self.image_size} ({self.approx_bytes / MB:.0f} MB)"


OFFICIAL_MODELS: dict[str, OfficialModel] = {
    m.name: m
    for m in (
        OfficialModel(
            "imagenet256",
            256,
            "tokenizer_imagenet256_checkpoint",
            "maskgit_imagenet256_checkpoint",
            907_909_000,  # 866 MB
        ),
        OfficialModel(
            "imagenet512",
            512,
            "tokenizer_imagenet512_checkpoint",
            "maskgit_imagenet512_checkpoint",
            910_268_000,  # 868 MB: 768 more position embeddings of 768 floats
        ),
    )
}


@dataclass(frozen=True)
class DownloadProgress:
    """Progress of a whole ``download_official`` call.

    Attributes:
        phase: "download" (bytes moving) or "convert" (the importer is running).
        file: the file being fetched (its name), or the model name while converting.
        done / total: bytes of both files (total None when the server does not say).
        rate: bytes per second of the current transfer.
        eta_s: seconds left until both files are in, when known.
    """

    phase: str
    file: str
    done: int
    total: int | None
    rate: float = 0.0
    eta_s: float | None = None


def download_dir(name: str) -> Path:
    """Where the raw files of ``name`` are downloaded (the user cache folder)."""
    override = os.environ.get("MASKGIT_STUDIO_CACHE")
    base = Path(override) if override else Path(platformdirs.user_cache_dir(model_store.APP_NAME))
    return base / "downloads" / name


def base_url_for(base_url: str | None = None) -> str:
    """``base_url``, else ``$MASKGIT_STUDIO_DOWNLOAD_URL``, else the official bucket."""
    return (base_url or os.environ.get(BASE_URL_ENV) or OFFICIAL_BASE_URL).rstrip("/")


def official_model(name: str) -> OfficialModel:
    try:
        return OFFICIAL_MODELS[name]
    except KeyError:
        known = ", ".join(OFFICIAL_MODELS)
        raise ValueError(f"unknown official model {name!r}; choose {known}") from None


def download_official(
    name: str,
    *,
    base_url: str | None = None,
    keep: bool = False,
    dest_dir: str | os.PathLike | None = None,
    work_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: Callable[[DownloadProgress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    discard_partial: bool = False,
    retries: int = 4,
    timeout: float = 30.0,
    backoff_s: float = 1.0,
) -> ImportResult:
    """Fetch, convert and register an official model under ``name``.

    Args:
        name: "imagenet256" or "imagenet512" (also the installed model's name).
        base_url: folder URL holding the files (default: ``$MASKGIT_STUDIO_DOWNLOAD_URL``, else
            the official bucket).
        keep: keep the raw files in ``work_dir`` after converting.
        dest_dir: model folder (default: the user model folder).
        work_dir: download folder (default: ``download_dir(name)`` in the user cache).
        overwrite: replace an installed model of that name.
        progress: called with ``DownloadProgress`` (at most ~10 times a second per file).
        cancelled: polled between chunks; True stops with ``DownloadCancelled``.
        discard_partial: on cancel or failure, delete what was downloaded (the studio's Cancel)
            instead of keeping it for a resume (the CLI).

    Raises:
        DownloadError: a missing file, no connection, too little disk (one-line message).
        WeightsImportError: a downloaded file is corrupt or truncated (the raw files are
            deleted: they would fail again).
        DownloadCancelled: ``cancelled()`` said stop.
    """
    model = official_model(name)
    base_url = base_url_for(base_url)
    destination(name, dest_dir, overwrite)  # a taken name fails before any transfer
    folder = Path(work_dir) if work_dir is not None else download_dir(name)
    urls = [f"{base_url}/{f}" for f in model.files]
    targets = [folder / f for f in model.files]
    report = progress or (lambda _p: None)
    try:
        sizes = [remote_size(u, timeout) for u in urls]
        check_disk(folder, dest_dir, targets, sizes, model.approx_bytes)
        fetch_all(urls, targets, sizes, report, cancelled, retries, timeout, backoff_s)
        report(DownloadProgress("convert", name, _done(targets), _sum(sizes)))
        try:
            result = import_official(
                targets[0], targets[1], name, dest_dir=dest_dir, overwrite=overwrite
            )
        except ValueError:
            _remove(targets)  # corrupt or truncated files: a resume would only fail again
            raise
    except (DownloadCancelled, DownloadError):
        if discard_partial:
            _remove(targets)
        raise
    if not keep:
        _remove(targets)
    return result


def fetch_all(urls, targets, sizes, report, cancelled, retries, timeout, backoff_s) -> None:
    """Fetch each file not already complete, reporting progress over both files."""
    total = _sum(sizes)
    for i, (url, target) in enumerate(zip(urls, targets, strict=True)):
        if target.is_file() and sizes[i] in (None, target.stat().st_size):
            log.info("%s is already downloaded", target)
            continue
        before = sum(t.stat().st_size for t in targets[:i] if t.is_file())

        def on_transfer(p: TransferProgress, before: int = before, file: str = target.name):
            done = before + p.done
            eta = (total - done) / p.rate if total is not None and p.rate > 0 else None
            report(DownloadProgress("download", file, done, total, p.rate, eta))

        fetch(
            url,
            target,
            progress=on_transfer,
            cancelled=cancelled,
            retries=retries,
            timeout=timeout,
            backoff_s=backoff_s,
        )


def check_disk(
    folder: Path,
    dest_dir: str | os.PathLike | None,
    targets: list[Path],
    sizes: list[int | None],
    approx_bytes: int,
) -> None:
    """Refuse to start when the download folder and the model folder lack room for the rest of
    the files plus the converted model (about as large as the files)."""
    total = _sum(sizes) or approx_bytes
    have = sum(_size(t) + _size(_part_path(t)) for t in targets)
    models = Path(dest_dir) if dest_dir is not None else model_store.user_models_dir()
    needs = {_existing(folder): max(0, total - have) + DISK_MARGIN}
    bundle_dir = _existing(models)
    bundle = int(total * BUNDLE_OVER_INPUT) + DISK_MARGIN
    if os.stat(bundle_dir).st_dev == os.stat(_existing(folder)).st_dev:
        needs[_existing(folder)] += bundle
    else:
        needs[bundle_dir] = bundle
    for path, need in needs.items():
        free = shutil.disk_usage(path).free
        if free < need:
            raise DownloadError(
                f"not enough disk space in {path}: {need / MB:.0f} MB needed, "
                f"{free / MB:.0f} MB free"
            )


def _remove(targets: list[Path]) -> None:
    for target in targets:
        for path in (target, _part_path(target)):
            path.unlink(missing_ok=True)
    folder = targets[0].parent
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (for disk-space questions)."""
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _done(targets: list[Path]) -> int:
    return sum(_size(t) for t in targets)


def _sum(sizes: list[int | None]) -> int | None:
    return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)


__all__ = [
    "BASE_URL_ENV",
    "OFFICIAL_BASE_URL",
    "OFFICIAL_MODELS",
    "DownloadCancelled",
    "DownloadError",
    "DownloadProgress",
    "OfficialModel",
    "base_url_for",
    "download_dir",
    "download_official",
    "official_model",
]
