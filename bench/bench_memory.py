"""A server's memory under a burst of sign-ins and of uploads, as deployed at scale (PostgreSQL + Redis + S3).

One Locker server (``bench.cluster.Cluster``: gunicorn with ``locker/gunicorn.conf.py``, 1 worker, 32 threads) on a
PostgreSQL database, Redis and a SeaweedFS of its own, started anew for each configuration:

* ``slots``: as shipped, Argon2 computations wait for one of ``LOCKER_ARGON2_CONCURRENCY`` slots (the cores);
* ``unbounded``: ``LOCKER_ARGON2_CONCURRENCY=64``, every sign-in's Argon2 at once (as before the slots);
* ``slots + MALLOC_ARENA_MAX=2``: as shipped, with glibc's allocator kept to two arenas.

Each does ``BENCH_MEMORY_SIGNINS`` (50) sign-ins at once (real Argon2id costs), then ``BENCH_MEMORY_UPLOADS`` (320)
uploads of 1 MiB, 16 at a time, and reports the worker's resident memory at its highest (``VmHWM``) and after each
part. ``BENCH_MEMORY_ROUNDS`` (2) rounds, the configurations' order rotating; figures are medians (min-max).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.cluster import Cluster, scaled_out_services
from bench.processes import reset_peak

ROUNDS = int(os.environ.get("BENCH_MEMORY_ROUNDS", "2"))
SIGNINS = int(os.environ.get("BENCH_MEMORY_SIGNINS", "50"))
UPLOADS = int(os.environ.get("BENCH_MEMORY_UPLOADS", "320"))
PASSWORD = "memory bench passphrase 7"
BOUNDARY = "locker-bench-memory"
CONFIGS = {
    "slots": {},
    "unbounded": {"LOCKER_ARGON2_CONCURRENCY": "64"},
    "slots + MALLOC_ARENA_MAX=2": {"MALLOC_ARENA_MAX": "2"},
}


def _token(url: str, username: str) -> str:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())["access"]


def _upload(url: str, token: str, data: bytes) -> None:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="m{secrets.token_hex(6)}.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/api/v1/files/",
        data=head + data + f"\r\n--{BOUNDARY}--\r\n".encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 - loopback
        assert answer.status == 201, answer.status


def _one(cluster: Cluster, names: list[str], data: bytes) -> dict:
    url = cluster.server_urls[0]
    idle = cluster.rss_mib()[0]["workers"]
    for pid in cluster.worker_pids(0):
        reset_peak(pid)
    start = time.monotonic()
    with ThreadPoolExecutor(len(names)) as pool:
        tokens = list(pool.map(lambda name: _token(url, name), names))
    signed_in = time.monotonic() - start
    after_signins = cluster.rss_mib()[0]
    for pid in cluster.worker_pids(0):
        reset_peak(pid)  # the uploads' own peak
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: _upload(url, tokens[n % len(tokens)], data), range(UPLOADS)))
    after_uploads = cluster.rss_mib()[0]
    return {
        "idle": idle,
        "signin_s": signed_in,
        "signin_peak": after_signins["worker_peak"],
        "after_signins": after_signins["workers"],
        "upload_peak": after_uploads["worker_peak"],
        "after_uploads": after_uploads["workers"],
    }


def _cell(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def run() -> str:
    names = [f"mem{n:03d}" for n in range(SIGNINS)]
    data = os.urandom(1024 * 1024)
    results: dict[str, list[dict]] = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory(prefix="locker-bench-memory-") as tmp:
        work = Path(tmp)
        with scaled_out_services(work) as services:
            env = {**services, "LOCKER_RATE_LOGIN_IP": "100000/m", "LOCKER_RATE_UPLOAD_USER": "100000/m"}
            order = list(CONFIGS)
            made = False
            for number in range(ROUNDS):
                for name in order[number % len(order) :] + order[: number % len(order)]:
                    with Cluster(servers=1, env={**env, **CONFIGS[name]}, data_dir=work / "data") as cluster:
                        if not made:
                            cluster.make_accounts(names, PASSWORD, processes=2)
                            made = True
                        results[name].append(_one(cluster, names, data))
                        print(f"   round {number + 1}, {name}: {results[name][-1]}", flush=True)
    lines = [
        "## Memory: a burst of sign-ins and of uploads",
        "",
        f"One server (1 worker, 32 threads) on PostgreSQL + Redis + SeaweedFS (S3): {SIGNINS} sign-ins at once "
        f"(real Argon2id), then {UPLOADS} uploads of 1 MiB, 16 at a time. Worker resident memory in MiB, median "
        f"(min-max) over {ROUNDS} rounds, the configurations' order rotating; a new server for each.",
        "",
        f"Reproduce: `make bench BENCH=memory` (`BENCH_MEMORY_SIGNINS={SIGNINS}`, `BENCH_MEMORY_UPLOADS={UPLOADS}`, "
        f"`BENCH_MEMORY_ROUNDS={ROUNDS}`).",
        "",
        "| configuration | idle | sign-ins: peak | after them | sign-ins took, s | uploads: peak | after them |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in results.items():
        lines.append(
            f"| {name} | {_cell([r['idle'] for r in rows])} | {_cell([r['signin_peak'] for r in rows])} | "
            f"{_cell([r['after_signins'] for r in rows])} | {_cell([r['signin_s'] for r in rows], 1)} | "
            f"{_cell([r['upload_peak'] for r in rows])} | {_cell([r['after_uploads'] for r in rows])} |"
        )
    return "\n".join(lines) + "\n"
