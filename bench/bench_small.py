"""Small files over one kept-alive connection: per-request latency of downloads and uploads, Locker vs copyparty.

What a sync client or a page of thumbnails does: many small requests on one connection. For each size,
curl fetches the same file 100 times in one invocation (one connection, ``-w %{time_total}`` per
transfer) and uploads it 50 times with ``PUT`` (Locker: new versions of one file, fsynced before the
answer; copyparty: the same name again, not fsynced). Medians; the first 5 of each series are dropped
(warm-up). Locker runs under gunicorn (1 worker, 4 threads) on SQLite, as in the transfer benchmark.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.transfer_servers import Copyparty, Locker

SIZES = [int(s) for s in os.environ.get("BENCH_SMALL_SIZES", "4096,65536,1048576").split(",")]
GETS, PUTS, WARM_UP = 100, 50, 5


def _median_ms(command: list[str], url: str, times: int, per_transfer: list[str]) -> float:
    """Median seconds per transfer (ms) of ``times`` transfers of ``url`` by one curl, on one connection."""
    args = []
    for _ in range(times):
        args += [*per_transfer, "-o", "/dev/null", url]
    result = subprocess.run([*command, "-w", "%{time_total} %{http_code}\n", *args], capture_output=True, text=True)
    rows = [line.split() for line in result.stdout.split("\n") if line.strip()]
    assert len(rows) == times and all(code in {"200", "201"} for _, code in rows), result.stdout[-500:]
    return statistics.median(float(seconds) for seconds, _ in rows[WARM_UP:]) * 1000


def run() -> str:
    rows = []
    with tempfile.TemporaryDirectory(prefix="locker-small-", dir=os.environ.get("LOCKER_DATA_DIR")) as work_dir:
        work = Path(work_dir)
        source = work / "small.bin"
        source.write_bytes(b"x")
        locker, plain = Locker(0, source), Copyparty(source, work)
        try:
            for size in SIZES:
                source.write_bytes(os.urandom(size))
                locker.multipart()
                plain.put()
                mine = f"{locker.base}/api/v1/files/{locker.file_id}/content"
                theirs = f"{plain.base}/{plain.last}"
                curl = ["curl", "-s"]
                figures = [
                    _median_ms([*curl, *locker.auth], mine, GETS, []),
                    _median_ms(curl, theirs, GETS, []),
                    _median_ms([*curl, *locker.auth], mine, PUTS, ["-T", str(source)]),
                    _median_ms(curl, theirs, PUTS, ["-T", str(source)]),
                ]
                rows.append(f"| {size:,} B | " + " | ".join(f"{ms:.2f}" for ms in figures) + " |")
                print(rows[-1], flush=True)
        finally:
            locker.stop()
            plain.stop()
    return "\n".join(
        [
            "## Small files: per-request latency on one kept-alive connection",
            "",
            "Median milliseconds per request with curl reusing one connection (100 downloads, 50 `PUT` uploads",
            "per size, the first 5 dropped). Locker authenticates the bearer token, checks its unlock session,",
            "decrypts, and on upload encrypts and fsyncs before answering; copyparty serves plain files without",
            "authentication and does not fsync. Reproduce: `make bench BENCH=small`.",
            "",
            "| size | Locker GET | copyparty GET | Locker PUT | copyparty PUT |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
