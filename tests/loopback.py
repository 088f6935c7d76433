"""A loopback (127.0.0.1) HTTP server for download tests: Range requests, HEAD, and faults.

Serves ``files`` (name -> bytes) at ``<url>/<name>`` for any folder path; every request is
logged. Faults per file name:
- ``cut``: the first ``cut_times`` GETs of that file send the headers of the whole answer but
  only half of the body, then drop the connection;
- ``ignore_range``: answer Range requests with the whole file (200);
- ``slow``: seconds to pause after each 64 KiB of that file (a slow link, to cancel during).
Also works as an HTTP proxy: a request line with an absolute URL is served by its path.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

OFFICIAL_TEST_FILES = ("tokenizer_imagenet256_checkpoint", "maskgit_imagenet256_checkpoint")


@dataclass
class Served:
    files: dict[str, bytes]
    cut: dict[str, int] = field(default_factory=dict)  # name -> how many GETs to cut
    ignore_range: set[str] = field(default_factory=set)
    slow: dict[str, float] = field(default_factory=dict)
    log: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Range
    url: str = ""

    def gets(self, name: str) -> list[str | None]:
        """The Range header of every GET of ``name`` (None: no Range)."""
        return [r for m, p, r in self.log if m == "GET" and p.endswith("/" + name)]


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _lookup(self) -> tuple[str, bytes] | None:
            path = urlsplit(self.path).path  # absolute URL when used as a proxy
            served.log.append((self.command, self.path, self.headers.get("Range")))
            name = path.rsplit("/", 1)[-1]
            data = served.files.get(name)
            if data is None:
                self.send_error(404, "Not Found")
                return None
            return name, data

        def do_HEAD(self) -> None:
            found = self._lookup()
            if found:
                self.send_response(200)
                self.send_header("Content-Length", str(len(found[1])))
                self.end_headers()

        def do_GET(self) -> None:
            found = self._lookup()
            if not found:
                return
            name, data = found
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if match and name not in served.ignore_range:
                start = int(match.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if served.cut.get(name, 0) > 0:
                served.cut[name] -= 1
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # the connection drops mid-file
                self.close_connection = True
                return
            pause = served.slow.get(name)
            if pause is None:
                self.wfile.write(body)
                return
            for i in range(0, len(body), 1 << 16):
                try:
                    self.wfile.write(body[i : i + (1 << 16)])
                    self.wfile.flush()
                except OSError:  # the client went away (cancelled)
                    return
                time.sleep(pause)

    return Handler


@contextmanager
def serve(files: dict[str, bytes], **faults) -> Iterator[Served]:
    """Run a threaded server on 127.0.0.1 (a free port) for the duration of the block."""
    served = Served(dict(files), **faults)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.url = f"http://127.0.0.1:{server.server_address[1]}/checkpoints"
    thread = threading.Thread(target=server.serve_forever, name="loopback-http", daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def isolate(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """Models and the download cache under ``tmp_path``, no proxy variables; returns the model
    folder and imagenet256's download folder."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    models, cache = tmp_path / "models", tmp_path / "cache"
    monkeypatch.setenv("MASKGIT_STUDIO_MODELS", str(models))
    monkeypatch.setenv("MASKGIT_STUDIO_CACHE", str(cache))
    return models, cache / "downloads" / "imagenet256"


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/checkpoints"


def official_test_files(seed: int = 0) -> dict[str, bytes]:
    """Small official-format flax files under the official 256 names (tests/engine trees)."""
    from maskgit_studio.engine.importers.flax_msgpack import dumps_flax_msgpack
    from tests.engine.official_trees import TokShape, TrShape, tokenizer_tree, transformer_tree

    tok = TokShape(filters=32, channel_multipliers=(1, 2), num_res_blocks=1, embedding_dim=8, codebook_size=16)  # fmt: skip
    tr = TrShape(vocab_size=1017, hidden_size=48, num_layers=1, num_heads=1, intermediate_size=64, latent_size=4)  # fmt: skip
    return {
        OFFICIAL_TEST_FILES[0]: dumps_flax_msgpack(tokenizer_tree(tok, seed=seed)),
        OFFICIAL_TEST_FILES[1]: dumps_flax_msgpack(transformer_tree(tr, seed=seed + 1)),
    }
