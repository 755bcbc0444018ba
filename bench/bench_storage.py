"""What each place for blobs costs: a local directory (``LOCKER_BLOB_STORAGE=local``, the default) against an
S3-compatible object store (``LOCKER_BLOB_STORAGE=s3``: SeaweedFS of its own on loopback).

Two Locker servers started as production starts them (``bench.cluster.Cluster``: gunicorn with
``locker/gunicorn.conf.py``, one worker), each with its own SQLite database and one account, identical but for
where the blobs go; both up for the whole run. Every round does the same on each, alternating which goes first:

* upload of one ``BENCH_STORAGE_MIB`` (256) MiB file, multipart ``POST /api/v1/files/`` with curl, and the
  worker's peak RSS (``VmHWM``, reset just before) during it;
* its download with curl into /dev/null;
* ``BENCH_STORAGE_RANGES`` (20) requests of 1 MiB in the middle of it (``Range``, kept-alive ``http.client``),
  latency;
* ``BENCH_STORAGE_SMALL`` (500) files of 4 KiB uploaded one per request, then downloaded one per request (one
  kept-alive ``http.client`` connection, as the CLI's httpx client keeps one);
* the bytes the blobs take on disk: the local blob directory against SeaweedFS's data directory, measured before
  and after each kind of upload;
* then the store alone, with boto3 from this process: the large file in 8 MiB parts sent one after the other,
  read back with one GET, and a 4 KiB ``PutObject`` and ranged ``GetObject``.

``BENCH_STORAGE_ROUNDS`` (3) rounds; each figure is the median over them (min–max), the s3/local ratio is taken
round by round before its median. A network file system shared by several servers (NFS, CephFS, ...) is not
measured: none can be mounted here.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.cluster import Cluster, s3_bucket, seaweedfs
from bench.processes import COMMAND_TIMEOUT, Load, load_average, make_file, peak_rss_mib, reset_peak, rss_mib

SIZE_MIB = int(os.environ.get("BENCH_STORAGE_MIB", "256"))
ROUNDS = int(os.environ.get("BENCH_STORAGE_ROUNDS", "3"))
RANGES = int(os.environ.get("BENCH_STORAGE_RANGES", "20"))
SMALL_FILES = int(os.environ.get("BENCH_STORAGE_SMALL", "500"))
SMALL_SIZE = 4096
PART_SIZE = 8 * 1024 * 1024  # vault.transfers.objects.PART_SIZE
ALONE = ("upload", "download", "put_ms", "get_ms")
RANGE_SIZE = 1024 * 1024
PASSWORD = "correct horse battery staple"
USERNAME = "storage"
# Uploads are rate limited per user (600/m by default); this run's small files go faster than that.
SERVER_ENV = {"LOCKER_RATE_UPLOAD_USER": "100000/m"}


# Disk ----------------------------------------------------------------------------------------------------


def store_port() -> int:
    """An S3 port for this run's SeaweedFS whose companions (master +1000, volume -253, filer +555, each one's
    gRPC +10000) are free too: ``LOCKER_BENCH_S3_PORT``'s default may be held by another benchmark's store."""
    if os.environ.get("LOCKER_BENCH_S3_PORT"):
        return int(os.environ["LOCKER_BENCH_S3_PORT"])
    for port in range(24011, 30000, 97):
        wanted = [port + offset for offset in (0, 1000, -253, 555)]
        if all(bindable(p) and bindable(p + 10000) for p in wanted):
            return port
    raise RuntimeError("no free ports for SeaweedFS: set LOCKER_BENCH_S3_PORT")


def bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def disk_use(path: Path, skip: tuple[str, ...] = ()) -> tuple[int, int]:
    """(apparent bytes, allocated bytes) of every file under ``path``."""
    apparent = allocated = 0
    for directory, _, files in os.walk(path):
        for name in files:
            if name in skip:
                continue
            with contextlib.suppress(FileNotFoundError):
                stat = os.lstat(os.path.join(directory, name))
                apparent += stat.st_size
                allocated += stat.st_blocks * 512
    return apparent, allocated


# One server ----------------------------------------------------------------------------------------------


class Place:
    """A Locker server with one account, its blobs in one place; every transfer of a round."""

    def __init__(self, kind: str, cluster: Cluster, blob_dir: Path, s3: dict | None):
        self.kind = kind
        self.cluster = cluster
        self.blob_dir = blob_dir  # where the bytes end up on this machine: the blob dir or SeaweedFS's dir
        self.s3 = s3
        self.host, self.port = "127.0.0.1", cluster.ports[0]
        body = json.dumps({"username": USERNAME, "password": PASSWORD}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{cluster.url}/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - loopback
            self.token = json.loads(answer.read())["access"]
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.big_ids: list[str] = []

    def worker(self) -> int:
        return self.cluster.worker_pids(0)[0]

    def disk(self) -> tuple[int, int]:
        return disk_use(self.blob_dir, skip=("weed.log", "weed.pid"))

    # the large file
    def upload(self, source: Path) -> tuple[float, float, float]:
        """(seconds, worker RSS before, worker peak RSS during), MiB."""
        pid = self.worker()
        before = rss_mib(pid)
        reset_peak(pid)
        url = f"{self.cluster.url}/api/v1/files/"
        name = f"big-{uuid.uuid4().hex[:8]}.bin"
        command = ["curl", "-sf", "-H", f"Authorization: Bearer {self.token}", "-F", f"file=@{source};filename={name}"]
        started = time.perf_counter()
        done = subprocess.run([*command, url], check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        seconds = time.perf_counter() - started
        self.big_ids.append(json.loads(done.stdout)[0]["file"]["id"])
        return seconds, before, peak_rss_mib(pid)

    def download(self, size: int) -> float:
        url = f"{self.cluster.url}/api/v1/files/{self.big_ids[-1]}/content"
        command = [
            "curl",
            "-sf",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            "-H",
            f"Authorization: Bearer {self.token}",
        ]
        started = time.perf_counter()
        done = subprocess.run([*command, url], check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        seconds = time.perf_counter() - started
        if int(done.stdout) != size:
            raise RuntimeError(f"{self.kind}: downloaded {done.stdout} bytes of {size}")
        return seconds

    def ranges(self, source: Path, size: int, count: int) -> list[float]:
        """``count`` 1 MiB ranges from the middle of the big file on one kept-alive connection; their seconds.
        The bytes are checked against the source."""
        start = size // 2 - RANGE_SIZE // 2
        with source.open("rb") as handle:
            handle.seek(start)
            expected = handle.read(RANGE_SIZE)
        headers = {**self.auth, "Range": f"bytes={start}-{start + RANGE_SIZE - 1}"}
        path = f"/api/v1/files/{self.big_ids[-1]}/content"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        times = []
        try:
            for _ in range(count):
                started = time.perf_counter()
                conn.request("GET", path, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                times.append(time.perf_counter() - started)
                if answer.status != 206 or data != expected:
                    raise RuntimeError(f"{self.kind}: range answered {answer.status}, {len(data)} bytes, not as sent")
        finally:
            conn.close()
        return times

    # small files
    def small_upload(self, contents: list[bytes], tag: str) -> tuple[float, list[str]]:
        """Each file one POST on a kept-alive connection; (seconds for all, their ids)."""
        boundary = uuid.uuid4().hex
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        ids = []
        try:
            started = time.perf_counter()
            for number, content in enumerate(contents):
                disposition = f'form-data; name="file"; filename="{tag}-{number:04d}.bin"'
                head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                head += "Content-Type: application/octet-stream\r\n\r\n"
                body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
                headers = {**self.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
                conn.request("POST", "/api/v1/files/", body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                if answer.status != 201:
                    raise RuntimeError(f"{self.kind}: small upload answered {answer.status}: {data[:300]!r}")
                ids.append(json.loads(data)[0]["file"]["id"])
            seconds = time.perf_counter() - started
        finally:
            conn.close()
        return seconds, ids

    def small_download(self, ids: list[str], contents: list[bytes]) -> float:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            started = time.perf_counter()
            for file_id, content in zip(ids, contents, strict=True):
                conn.request("GET", f"/api/v1/files/{file_id}/content", headers=self.auth)
                answer = conn.getresponse()
                data = answer.read()
                if answer.status != 200 or data != content:
                    raise RuntimeError(f"{self.kind}: small download answered {answer.status}, not as sent")
            return time.perf_counter() - started
        finally:
            conn.close()

    def stored_bytes(self) -> int:
        """The ciphertext's size as the storage reports it: the bucket's objects, or the blob files."""
        if self.s3 is None:
            return disk_use(self.blob_dir)[0]
        from tests import s3server

        client = s3server.client_for(self.s3)
        total = 0
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.s3["LOCKER_S3_BUCKET"]):
            total += sum(item["Size"] for item in page.get("Contents", []))
        return total


def one_round(place: Place, source: Path, number: int, out: dict) -> None:
    size = SIZE_MIB * 1024 * 1024

    def keep(figure: str, value: float) -> None:
        out.setdefault((place.kind, figure), []).append(value)

    disk_before = place.disk()
    seconds, rss_before, rss_peak = place.upload(source)
    disk_big = place.disk()
    keep("upload", SIZE_MIB / seconds)
    keep("rss_before", rss_before)
    keep("rss_peak", rss_peak)
    keep("disk_big", disk_big[1] - disk_before[1])
    keep("download", SIZE_MIB / place.download(size))
    keep("range", statistics.median(place.ranges(source, size, RANGES)) * 1000)
    contents = [os.urandom(SMALL_SIZE) for _ in range(SMALL_FILES)]
    seconds, ids = place.small_upload(contents, f"r{number}")
    disk_small = place.disk()
    keep("small_up", SMALL_FILES / seconds)
    keep("disk_small", disk_small[1] - disk_big[1])
    keep("small_down", SMALL_FILES / place.small_download(ids, contents))
    print(
        f"round {number + 1} {place.kind}: up {out[(place.kind, 'upload')][-1]:.0f} MiB/s "
        f"(peak RSS {rss_peak:.0f} MiB), down {out[(place.kind, 'download')][-1]:.0f} MiB/s, "
        f"range {out[(place.kind, 'range')][-1]:.1f} ms, small up {out[(place.kind, 'small_up')][-1]:.0f}/s, "
        f"small down {out[(place.kind, 'small_down')][-1]:.0f}/s",
        flush=True,
    )


def store_alone(s3: dict, source: Path, out: dict) -> None:
    """The store's own speed, from this process with boto3 and no Locker: the large file sent in 8 MiB parts one
    after the other (as Locker sends them) and read back with one GET; a 4 KiB PutObject and a ranged GET."""
    from tests import s3server

    client = s3server.client_for(s3)
    bucket, key = s3["LOCKER_S3_BUCKET"], f"alone/{uuid.uuid4().hex}"
    part = bytearray(PART_SIZE)
    started = time.perf_counter()
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    with source.open("rb") as handle:
        while got := handle.readinto(part):
            body = part if got == PART_SIZE else bytes(part[:got])
            answer = client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=len(parts) + 1, Body=body)
            parts.append({"ETag": answer["ETag"], "PartNumber": len(parts) + 1})
    client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    out.setdefault(("alone", "upload"), []).append(SIZE_MIB / (time.perf_counter() - started))
    started = time.perf_counter()
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    while body.read(1024 * 1024):
        pass
    out.setdefault(("alone", "download"), []).append(SIZE_MIB / (time.perf_counter() - started))
    client.delete_object(Bucket=bucket, Key=key)
    puts, gets = [], []
    for number in range(50):
        small = f"{key}-{number}"
        started = time.perf_counter()
        client.put_object(Bucket=bucket, Key=small, Body=os.urandom(SMALL_SIZE))
        puts.append(time.perf_counter() - started)
        started = time.perf_counter()
        client.get_object(Bucket=bucket, Key=small, Range="bytes=0-4095")["Body"].read()
        gets.append(time.perf_counter() - started)
        client.delete_object(Bucket=bucket, Key=small)
    out.setdefault(("alone", "put_ms"), []).append(statistics.median(puts) * 1000)
    out.setdefault(("alone", "get_ms"), []).append(statistics.median(gets) * 1000)


# The run -------------------------------------------------------------------------------------------------


def run() -> str:
    from django.conf import settings

    results: dict[tuple[str, str], list[float]] = {}
    loads: list[float] = [load_average()]
    whole = Load()
    with tempfile.TemporaryDirectory(prefix="locker-storage-", dir=str(settings.LOCKER_DATA_DIR)) as work_dir:
        work = Path(work_dir)
        source = work / "source.bin"
        make_file(source, SIZE_MIB)
        store_dir = work / "seaweedfs"
        with (
            seaweedfs(store_dir, store_port()) as endpoint,
            s3_bucket(store_dir, endpoint=endpoint) as s3,
            Cluster(servers=1, env=SERVER_ENV, data_dir=work / "local", log_dir=work / "local-logs") as local_cluster,
            Cluster(servers=1, env={**SERVER_ENV, **s3}, data_dir=work / "s3", log_dir=work / "s3-logs") as s3_cluster,
        ):
            local_cluster.make_accounts([USERNAME], PASSWORD)
            s3_cluster.make_accounts([USERNAME], PASSWORD)
            places = [
                Place("local", local_cluster, work / "local" / "blobs", None),
                Place("s3", s3_cluster, store_dir, s3),
            ]
            for place in places:  # warm up each server's request path (threads, the store's connections)
                warm = [os.urandom(16)]
                place.small_download(place.small_upload(warm, "warm")[1], warm)
            for number in range(ROUNDS):
                for place in places[number % 2 :] + places[: number % 2]:
                    one_round(place, source, number, results)
                store_alone(s3, source, results)
                loads.append(load_average())
            stored = {place.kind: place.stored_bytes() for place in places}
            tracebacks = {place.kind: place.cluster.log_count("Traceback") for place in places}
    whole.stop()
    return report(results, stored, tracebacks, loads, whole)


# Report --------------------------------------------------------------------------------------------------


def spread(values: list[float], digits: int = 0) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def ratio(results: dict, figure: str) -> list[float]:
    return [s / lo for lo, s in zip(results[("local", figure)], results[("s3", figure)], strict=True) if lo]


def report(results: dict, stored: dict, tracebacks: dict, loads: list[float], whole: Load) -> str:
    mib = 1024 * 1024
    rows = [
        ("upload", f"upload of one {SIZE_MIB} MiB file (multipart POST), MiB/s", 0),
        ("download", "its download (GET, into /dev/null), MiB/s", 0),
        ("range", f"1 MiB `Range` in its middle, ms (median of {RANGES} per round)", 1),
        ("small_up", f"{SMALL_FILES} files of 4 KiB uploaded one per request, files/s", 0),
        ("small_down", "the same downloaded one per request, files/s", 0),
        ("rss_peak", f"worker peak RSS during the {SIZE_MIB} MiB upload, MiB", 0),
        ("rss_before", "worker RSS before it, MiB", 0),
    ]
    table = [
        f"| {label} | {spread(results[('local', key)], digits)} | {spread(results[('s3', key)], digits)} "
        f"| {spread(ratio(results, key), 2)} |"
        for key, label, digits in rows
    ]
    big_local = statistics.median(results[("local", "disk_big")]) / mib
    big_s3 = statistics.median(results[("s3", "disk_big")]) / mib
    small_local = statistics.median(results[("local", "disk_small")]) / mib
    small_s3 = statistics.median(results[("s3", "disk_small")]) / mib
    plain = ROUNDS * (SIZE_MIB * mib + SMALL_FILES * SMALL_SIZE) + 16  # and the warm-up file
    cores = os.cpu_count() or 1
    others = whole.cores(whole.others)
    small_rate = statistics.median(results[("s3", "small_up")])
    small_ratio = statistics.median(ratio(results, "small_up"))
    down_rate = statistics.median(results[("s3", "small_down")])
    down_ratio = statistics.median(ratio(results, "small_down"))
    alone = {key: spread(results[("alone", key)], 0 if key in ("upload", "download") else 1) for key in ALONE}

    def of_alone(key: str) -> str:
        """Locker's S3 figure over the store alone's, round by round: ``median (min–max)x``."""
        pairs = zip(results[("s3", key)], results[("alone", key)], strict=True)
        return spread([ours / theirs for ours, theirs in pairs], 2) + "x"

    broken = ", ".join(f"{k}: {n}" for k, n in tracebacks.items() if n)
    return "\n".join(
        [
            "## Where blobs live: a local directory vs an S3-compatible store",
            "",
            "Two Locker servers started as production starts them (`bench/cluster.py`: gunicorn with",
            "`locker/gunicorn.conf.py`, one worker), each with its own SQLite database and one account, the same",
            "but for `LOCKER_BLOB_STORAGE`: `local` (a directory on this machine's disk; every blob fsynced) or `s3`",
            "(a SeaweedFS of the benchmark's own on loopback, `bench.cluster.seaweedfs`, master, volume, filer and",
            "S3 gateway in one process: multipart uploads in 8 MiB parts while the ciphertext is produced, ranged",
            "GETs for downloads). Clients are curl (the large file) and `http.client` on one kept-alive connection",
            f"(ranges and small files). {ROUNDS} rounds, alternating which server goes first; each figure is the",
            "median over the rounds (min–max), and s3 ÷ local is taken round by round before its median (above",
            "1.00: S3 is higher, which for the memory and the range latency is worse).",
            f"Reproduce: `make bench BENCH=storage` (`BENCH_STORAGE_MIB={SIZE_MIB}`, `BENCH_STORAGE_ROUNDS={ROUNDS}`,",
            f"`BENCH_STORAGE_SMALL={SMALL_FILES}`, `BENCH_STORAGE_RANGES={RANGES}` here). The servers' upload rate",
            "limit per user (`LOCKER_RATE_UPLOAD_USER`, 600/m by default) is raised for the small files.",
            "",
            f"Load average (1 min) before and after each round: {' → '.join(f'{v:.2f}' for v in loads)}; other",
            f"processes used {others:.2f} of the {cores} cores on average over the {whole.wall:.0f} s run"
            + (" (**a shared, busy machine: compare the ratios, not the absolute figures**)." if others > 0.1 else "."),
            "",
            "| figure | local directory | S3 (SeaweedFS) | s3 ÷ local |",
            "|---|---:|---:|---:|",
            *table,
            "",
            "The store alone (boto3 from the benchmark's process, no Locker, once per round): the same file sent in",
            f"8 MiB parts one after the other as Locker sends them {alone['upload']} MiB/s, read back with one GET",
            f"{alone['download']} MiB/s; a 4 KiB `PutObject` {alone['put_ms']} ms, a ranged `GetObject`",
            f"{alone['get_ms']} ms. Locker's S3 upload ran at {of_alone('upload')} the store's own speed for parts",
            "sent one at a time (its pipeline waits on the store's answer to each part), its download at",
            f"{of_alone('download')} the store's GET. A download from S3 makes three ranged",
            "GETs, one after the other: the stream's header, the byte at the recorded end (the length check), then",
            "the chunks asked for; a small file's download and a `Range` request pay all three, a local blob three",
            "`preadv`s.",
            "",
            f"Bytes: the same {plain / mib:.0f} MiB of plaintext went to each; the ciphertext is the same size in",
            f"both ({stored['local'] / mib:.1f} MiB in the blob files, {stored['s3'] / mib:.1f} MiB in the bucket's",
            "objects: the format's overhead is identical). What it took on disk (allocated blocks, median growth",
            f"per round): the {SIZE_MIB} MiB file {big_local:.1f} MiB in the blob directory, {big_s3:.1f} MiB in",
            f"SeaweedFS's data directory; the {SMALL_FILES} small files {small_local:.2f} MiB as files (a 4 KiB file's",
            f"ciphertext is a little over 4 KiB, so two blocks), {small_s3:.2f} MiB in SeaweedFS (it packs objects",
            "into its volume files and keeps their metadata in its filer). SeaweedFS does not fsync each write as",
            "Locker's local directory does.",
            *(["", f"Tracebacks in the servers' logs: {broken}."] if broken else []),
            "",
            "**What to pick.** *A local directory* (the default) for one server: the fastest, and",
            "`manage.py backup` backs it up with the database. *A shared file system* (NFS, CephFS, ...) mounted",
            "at `LOCKER_BLOB_DIR` by several servers: not measured here (none can be mounted on this machine);",
            "every file operation (create, fsync, rename, open, stat) then pays the network file system's round",
            "trip, small files the most. It must honour `fsync` and atomic `rename` (Locker relies on both) and show",
            "each server the others' files and times promptly (the backup's deletion holds are files kept fresh by",
            "their mtime; NFS caches attributes for seconds unless told otherwise); Locker takes no file locks.",
            "*S3* for several servers, or storage that grows independently of them: no shared mount, and",
            "memory stays bounded on upload (one 8 MiB part buffered), but every blob read or write is at least",
            f"one HTTP request to the store: {small_rate:.0f} small files/s uploaded here ({small_ratio:.2f}x the",
            f"local directory's), {down_rate:.0f} downloaded ({down_ratio:.2f}x: three GETs each), on loopback; a",
            "remote store adds its network round trip to each request. Any deployment",
            "of more than one server also needs `LOCKER_SHARED_DIR` (or `LOCKER_UPLOAD_DIR`) on a volume they all",
            "mount: resumable uploads grow their partial files there, and the backup's deletion holds live there",
            "(`docs/deploy.md`).",
        ]
    )
