"""``download_official`` end to end against a loopback server: transfer, conversion, memory.

The files are official-format flax msgpack files with random weights: the small test trees
(``--size small``, what the tests serve) or the full official-256 shapes (``--size full``,
866 MB, written once and reusable with ``--keep DIR``). A threaded HTTP server on 127.0.0.1
serves them (Range, HEAD) from this process; the download + import runs in a child process, so
its peak RSS is the downloader's and the importer's alone. Loopback has no network latency: the
transfer figure is the client's own cost, a floor for a real link.

    python benchmarks/bench_download.py [--size small|full] [--repeats N] [--keep DIR] [--out F]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_official import write_official_files  # noqa: E402
from tests.loopback import OFFICIAL_TEST_FILES, official_test_files, serve  # noqa: E402

RESULTS_DIR = ROOT / "benchmarks" / "results"

CHILD = """
import json, sys, time
from maskgit_studio.engine.importers.official_download import download_official
marks = {}
start = time.perf_counter()
def progress(p):
    if p.phase == "convert" and "transfer_s" not in marks:
        marks["transfer_s"] = time.perf_counter() - start
r = download_official("imagenet256", base_url=sys.argv[1], dest_dir=sys.argv[2],
                      work_dir=sys.argv[3], overwrite=True, progress=progress)
total = time.perf_counter() - start
hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
print(json.dumps({"total_s": total, "transfer_s": marks["transfer_s"],
                  "convert_s": total - marks["transfer_s"], "peak_rss_mb": int(hwm) / 1024,
                  "bundle_mb": r.path.stat().st_size / 2**20}))
"""


def files_for(size: str, folder: Path) -> dict[str, bytes]:
    if size == "small":
        return official_test_files()
    tok, tr, seconds = write_official_files(folder)
    print(f"official-size files ready ({seconds:.1f} s to write)")
    return {OFFICIAL_TEST_FILES[0]: tok.read_bytes(), OFFICIAL_TEST_FILES[1]: tr.read_bytes()}


def one_run(url: str, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(work / "models"), str(work / "downloads")],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"download failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("small", "full"), default="small")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) the full-size files")
    parser.add_argument("--out", metavar="FILE", help="JSON output path")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = files_for(args.size, folder)
        input_mb = sum(len(b) for b in files.values()) / 2**20
        with serve(files) as served:
            runs = [one_run(served.url, Path(tmp) / f"run{i}") for i in range(args.repeats)]
    print(
        f"\nloopback download + import, {args.size} files ({input_mb:.1f} MB), {args.repeats} runs"
    )
    for key in ("total_s", "transfer_s", "convert_s", "peak_rss_mb"):
        values = [r[key] for r in runs]
        print(f"  {key:<12} median {statistics.median(values):8.2f}   all {[round(v, 2) for v in values]}")  # fmt: skip
    record = {
        "benchmark": "bench_download",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "node": platform.node(),
            "cpu_count": os.cpu_count(),
            "load_avg": os.getloadavg(),
        },  # fmt: skip
        "size": args.size,
        "input_mb": input_mb,
        "runs": runs,
    }
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else RESULTS_DIR / f"bench_download-{args.size}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
