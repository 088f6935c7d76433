"""HTTP(S) file transfer for the official weights: standard library only (``urllib``).

- Resumes: a transfer writes ``<file>.part`` and asks for the rest with an HTTP Range request
  (a server that ignores Range restarts the file); the part becomes the file (rename) only once
  every byte the server announced has arrived.
- Retries a dropped or refused connection, a timeout, or a 408/429/5xx answer ``retries`` times
  with exponential back-off, resuming each time; any other HTTP error (404, 403) fails at once.
- Timeouts: ``timeout`` seconds for the connection and for each read.
- Proxies: urllib's default handlers read ``http_proxy``, ``https_proxy`` and ``no_proxy``.
- Cancel: ``cancelled()`` is polled between chunks and raises ``DownloadCancelled``.

Errors a user can act on are ``DownloadError`` (a ValueError, one line: the CLI's exit code 2).
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ... import __version__

log = logging.getLogger(__name__)

CHUNK = 1 << 18  # 256 KiB per read
PART_SUFFIX = ".part"
RETRY_STATUS = (408, 429, 500, 502, 503, 504)
USER_AGENT = f"maskgit-studio/{__version__} (+urllib)"
MIN_REPORT_INTERVAL_S = 0.1


class DownloadError(ValueError):
    """A download that cannot finish: the message is one line a user can act on."""


class DownloadCancelled(Exception):
    """The caller's ``cancelled()`` said stop."""


@dataclass(frozen=True)
class TransferProgress:
    """Bytes of one transfer so far.

    Attributes:
        url: what is being fetched.
        done: bytes on disk (resumed bytes included).
        total: the file's size, when the server said.
        rate: bytes per second over this transfer (resumed bytes excluded).
    """

    url: str
    done: int
    total: int | None
    rate: float

    @property
    def eta_s(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)


ProgressFn = Callable[[TransferProgress], None]


def _never() -> bool:
    return False


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + PART_SUFFIX)


def remote_size(url: str, timeout: float = 30.0) -> int | None:
    """The size a HEAD request announces, or None when the server does not say (or refuses
    HEAD). Raises ``DownloadError`` for a missing file or a server that cannot be reached."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.build_opener().open(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            return int(length) if length and length.isdigit() else None
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise DownloadError(f"{url} does not exist (HTTP {exc.code})") from None
        if exc.code in (401, 403):
            raise DownloadError(f"{url}: access denied (HTTP {exc.code})") from None
        return None  # HEAD not allowed or a passing server error: the GET will tell
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise DownloadError(f"cannot reach {url}: {_reason(exc)}") from None


def fetch(
    url: str,
    dest: Path,
    *,
    progress: ProgressFn | None = None,
    cancelled: Callable[[], bool] = _never,
    retries: int = 4,
    timeout: float = 30.0,
    backoff_s: float = 1.0,
) -> int:
    """Download ``url`` to ``dest`` (through ``dest.part``, resumed if present).

    Returns:
        The file's size in bytes.

    Raises:
        DownloadError: a missing file, an unreachable server after the retries, a server
            sending more bytes than it announced, or a local disk that cannot take the file
            (full, not writable: not retried). A ``.part`` file of good bytes stays for a later
            resume.
        DownloadCancelled: ``cancelled()`` returned True (the ``.part`` file stays; the caller
            decides whether to delete it).
    """
    part = part_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = 0
    while True:
        try:
            return _attempt(url, dest, part, progress, cancelled, timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and part.exists():  # our part is as long as the file, or longer
                size = _unsatisfied_range_total(exc)
                if size is not None and size == part.stat().st_size:
                    os.replace(part, dest)  # every byte had arrived before the rename
                    return size
                part.unlink()
                failures += 1
                problem = "the partial file did not match the server's"
            elif exc.code in RETRY_STATUS:
                failures += 1
                problem = f"HTTP {exc.code} {exc.reason}"
            elif exc.code in (404, 410):
                raise DownloadError(f"{url} does not exist (HTTP {exc.code})") from None
            else:
                raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except _Dropped as exc:
            failures += 1
            problem = str(exc)
        except TimeoutError:
            failures += 1
            problem = f"no answer for {timeout:g} s"
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            failures += 1  # refused, reset, TLS or DNS failures: local file errors are not here
            problem = _reason(exc)
        if failures > retries:
            have = part.stat().st_size if part.exists() else 0
            kept = f"; {have} bytes kept, run again to resume" if have else ""
            raise DownloadError(f"{url}: {problem} (gave up after {failures} tries{kept})")
        wait = backoff_s * 2 ** (failures - 1)
        log.warning("%s: %s; retrying in %.1f s (%d/%d)", url, problem, wait, failures, retries)
        time.sleep(wait)


class _Dropped(Exception):
    """The connection ended before every announced byte arrived (retry with Range)."""


def _attempt(
    url: str,
    dest: Path,
    part: Path,
    progress: ProgressFn | None,
    cancelled: Callable[[], bool],
    timeout: float,
) -> int:
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.build_opener().open(request, timeout=timeout) as resp:
        if have and resp.status != 206:
            log.info("%s: the server ignored the Range request; starting over", url)
            have = 0
        total = _total_size(resp, have)
        if total is None and resp.status == 206:  # a range we did not ask for: start over
            part.unlink()
            raise _Dropped("the server answered the Range request with another range")
        try:
            out = open(part, "ab" if have else "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise DownloadError(f"cannot write {part}: {exc.strerror or exc}") from None
        with out:
            have = _copy(resp, out, part, have, total, progress, cancelled)
    if total is not None and have < total:
        raise _Dropped(f"connection closed after {have} of {total} bytes")
    if total is not None and have > total:
        part.unlink()
        raise DownloadError(f"{url}: the server sent {have} bytes, more than the {total} it said")
    os.replace(part, dest)
    return have


def _copy(resp, out, part: Path, have, total, progress, cancelled) -> int:
    """Stream the body into ``out``; returns the bytes now in the part file."""
    url, start, start_bytes, last_report = resp.url, time.perf_counter(), have, 0.0
    while True:
        if cancelled():
            raise DownloadCancelled(url)
        chunk = resp.read(CHUNK)
        if not chunk:
            break
        try:
            out.write(chunk)
        except OSError as exc:  # a full or failing disk: retrying would not help
            raise DownloadError(f"cannot write {part}: {exc.strerror or exc}") from None
        have += len(chunk)
        now = time.perf_counter()
        if progress is not None and now - last_report >= MIN_REPORT_INTERVAL_S:
            last_report = now
            rate = (have - start_bytes) / max(now - start, 1e-6)
            progress(TransferProgress(url, have, total, rate))
    if progress is not None:
        rate = (have - start_bytes) / max(time.perf_counter() - start, 1e-6)
        progress(TransferProgress(url, have, total, rate))
    return have


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _total_size(resp, have: int) -> int | None:
    """The whole file's size from a 200's Content-Length or a 206's Content-Range (None for a
    206 whose range does not start at ``have``)."""
    if resp.status == 206:
        match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if not match or int(match.group(1)) != have or match.group(3) == "*":
            return None
        return int(match.group(3))
    length = resp.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _unsatisfied_range_total(exc: urllib.error.HTTPError) -> int | None:
    """N from a 416's ``Content-Range: bytes */N``."""
    match = re.fullmatch(r"bytes \*/(\d+)", (exc.headers or {}).get("Content-Range", "").strip())
    return int(match.group(1)) if match else None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return " ".join((str(reason) or type(reason).__name__).split())


__all__ = [
    "DownloadCancelled",
    "DownloadError",
    "TransferProgress",
    "fetch",
    "part_path",
    "remote_size",
]
