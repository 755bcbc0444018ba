"""Short requests beside long transfers and live connections: which gunicorn settings keep them from starving.

The server: ``gunicorn -c locker/gunicorn.conf.py`` as ``make run`` serves (1 worker, SQLite, no Redis), with
``WEB_THREADS`` set to each of ``BENCH_STARVE_THREADS`` (8, 16, 32, 64). One account holds a 200 MiB file and 20
small files. Each cell holds, while the client measures:

* ``K`` long transfers (``BENCH_STARVE_TRANSFERS``: 0, 4, 8, 16, 24), by curl at ``--limit-rate 1M`` (a slow client):
  half downloads of the 200 MiB file, half uploads of a new 200 MiB version (``PUT .../content``); none ends within
  the cell (they are stopped after it);
* ``L`` live connections (``BENCH_STARVE_LIVE``: 200), SSE streams of the same user (they are handed to the hub and
  hold no thread);
* short requests: 2 clients, each ``BENCH_STARVE_REQUESTS`` (100) sequential ``GET /api/v1/files/`` (a listing of 20
  files, Bearer token) on a kept-alive connection, each given 3 s; a client stops after 2 unanswered in a row.

Cells go round by round (``BENCH_STARVE_ROUNDS``: 2), the thread counts in a different order each round. Memory:
the worker's resident set (VmRSS) at the end of the cell and its peak during the cell (VmHWM reset at its start).

Then, with the default thread count, on one server started with ``--timeout 10``:

* growth: 2 clients, ``BENCH_STARVE_GROWTH`` (2000) iterations each of a listing, ``/api/v1/me``, a 64 KiB download
  and a 4 KiB upload; the worker's RSS after every tenth of them (is there growth that ``max_requests`` should cap?);
* meanwhile, a 40 MiB download at 1 MiB/s (about 40 s, four times ``timeout``): does gthread's heartbeat let it
  finish (gunicorn's ``timeout`` is the event loop's heartbeat, not a bound on a request)?

And a recycle: a server with ``--max-requests 200`` (``graceful_timeout`` 30 s, gunicorn's default) holding 20 SSE
streams and a 100 MiB download at 2 MiB/s, then 300 short requests: when the worker is replaced, what happens to the
streams, the download and the short requests meanwhile.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.bench_live import Streams, percentile
from bench.processes import ROOT, VENV_BIN, Server, children, free_port, make_file, peak_rss_mib, reset_peak, rss_mib
from bench.transfer_servers import ACCOUNT_SETUP, COMMAND_TIMEOUT, curl_token, locker_env

THREADS = [int(n) for n in os.environ.get("BENCH_STARVE_THREADS", "8,16,32,64").split(",")]
TRANSFERS = [int(n) for n in os.environ.get("BENCH_STARVE_TRANSFERS", "0,4,8,16,24").split(",")]
LIVE = int(os.environ.get("BENCH_STARVE_LIVE", "200"))
REQUESTS = int(os.environ.get("BENCH_STARVE_REQUESTS", "100"))
ROUNDS = int(os.environ.get("BENCH_STARVE_ROUNDS", "2"))
GROWTH = int(os.environ.get("BENCH_STARVE_GROWTH", "2000"))
SHORT_CLIENTS, SHORT_TIMEOUT, GIVE_UP_AFTER = 2, 3.0, 2
RATE = "1M"
BIG_MIB = 200
USERNAME = "starve"
SHORT_PATH = "/api/v1/files/"


def default_threads() -> int:
    import runpy

    env = {k: v for k, v in os.environ.items() if k == "WEB_THREADS"}
    os.environ.pop("WEB_THREADS", None)
    try:
        return runpy.run_path(str(ROOT / "locker" / "gunicorn.conf.py"))["threads"]
    finally:
        os.environ.update(env)


class Locker:
    """``gunicorn -c locker/gunicorn.conf.py`` on this run's data dir; ``flags`` after ``-c`` (they win)."""

    def __init__(self, data_dir: Path, password: str, threads: int | None = None, flags: tuple[str, ...] = ()):
        self.port = free_port()
        env = {k: v for k, v in locker_env(data_dir).items() if not k.startswith("WEB_")}
        env.update(WEB_BIND=f"127.0.0.1:{self.port}", LOCKER_MAX_UPLOAD_SIZE=str(16 << 30))
        if threads:
            env["WEB_THREADS"] = str(threads)
        command = [str(VENV_BIN / "gunicorn"), "-c", "locker/gunicorn.conf.py", "--access-logfile", "/dev/null"]
        self.server = Server([*command, *flags], env, f"http://127.0.0.1:{self.port}/healthz", cwd=ROOT)
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = curl_token(self.base, USERNAME, password)
        self.auth = {"Authorization": f"Bearer {self.token}"}

    def worker_pid(self) -> int:
        return self.server.worker_pid()

    def workers(self) -> list[int]:
        return children(self.server.proc.pid)

    def curl(self, *args: str) -> list[str]:
        return ["curl", "-sS", "-H", f"Authorization: Bearer {self.token}", *args]

    def stop(self) -> None:
        self.server.stop()


def short_client(port: int, auth: dict, count: int, out: list, failures: list, path: str = SHORT_PATH) -> None:
    """``count`` sequential requests on one kept-alive connection, each within SHORT_TIMEOUT."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHORT_TIMEOUT)
    missed_in_row = 0
    try:
        for done in range(count):
            begin = time.perf_counter()
            try:
                conn.request("GET", path, headers=auth)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHORT_TIMEOUT)
            if ok:
                out.append((time.perf_counter() - begin) * 1000)
                missed_in_row = 0
                continue
            failures.append(1)
            missed_in_row += 1
            if missed_in_row >= GIVE_UP_AFTER:
                failures.extend([1] * (count - done - 1))  # the rest were never answered either
                return
    finally:
        conn.close()


def short_requests(port: int, auth: dict, count: int = REQUESTS) -> tuple[list[float], int]:
    times: list[float] = []
    failures: list[int] = []
    threads = [
        threading.Thread(target=short_client, args=(port, auth, count, times, failures)) for _ in range(SHORT_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=count * SHORT_TIMEOUT + 30)
    return times, len(failures)


@contextlib.contextmanager
def transfers(locker: Locker, count: int, big_id: str, targets: list[str], source: Path, rate: str = RATE):
    """``count`` slow transfers in progress (half downloads, half uploads); yields the curl processes."""
    procs = []
    files = f"{locker.base}/api/v1/files"
    try:
        for n in range(count):
            if n % 2 == 0:
                cmd = locker.curl("--limit-rate", rate, "-o", "/dev/null", f"{files}/{big_id}/content")
            else:
                cmd = locker.curl("--limit-rate", rate, "-T", str(source), f"{files}/{targets[n // 2]}/content")
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait(timeout=20)


def open_streams(locker: Locker, count: int) -> Streams | None:
    if not count:
        return None
    streams = Streams(locker.port)
    streams.open([("sse", locker.auth, 10**12)] * count)
    return streams


def cell(locker: Locker, threads: int, k: int, live: int, big_id: str, targets: list[str], source: Path) -> dict:
    pid = locker.worker_pid()
    streams = open_streams(locker, live)
    try:
        with transfers(locker, k, big_id, targets, source) as procs:
            time.sleep(2.0)  # every transfer has its thread and is under way
            reset_peak(pid)
            times, failures = short_requests(locker.port, locker.auth)
            running = sum(proc.poll() is None for proc in procs)
            rss, peak = rss_mib(pid), peak_rss_mib(pid)
    finally:
        if streams:
            streams.close()
    time.sleep(1.5)  # the server notices the closed transfers and streams
    return {
        "threads": threads,
        "k": k,
        "live": live,
        "times": times,
        "failures": failures,
        "running": running,
        "rss": rss,
        "peak": peak,
    }


def setup(data_dir: Path, work: Path) -> tuple[str, Path, str, list[str]]:
    """The account, the big file and the small ones; returns (password, big source, big file id, upload targets)."""
    script = ACCOUNT_SETUP + "print(json.dumps({'password': account.password}))\n"
    made = subprocess.run(
        [sys.executable, "-c", script, USERNAME],
        cwd=ROOT,
        env=locker_env(data_dir),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    if made.returncode:
        raise RuntimeError(f"account setup failed:\n{made.stderr[-3000:]}")
    password = json.loads(made.stdout.strip().splitlines()[-1])["password"]
    source = work / "big.bin"
    make_file(source, BIG_MIB)
    small = work / "small.bin"
    small.write_bytes(os.urandom(64 * 1024))
    locker = Locker(data_dir, password)
    try:

        def upload(path: Path, name: str) -> str:
            cmd = locker.curl("-f", "-F", f"file=@{path};filename={name}", f"{locker.base}/api/v1/files/")
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600).stdout
            return json.loads(out)[0]["file"]["id"]

        big_id = upload(source, "big.bin")
        targets = [upload(small, f"target-{n}.bin") for n in range(max(TRANSFERS) // 2 + 1)]
        for n in range(20 - len(targets) - 1):
            upload(small, f"small-{n}.bin")
    finally:
        locker.stop()
    return password, source, big_id, targets


def growth(data_dir: Path, password: str, work: Path, big_id: str) -> dict:
    """RSS over many requests, and a download four times longer than ``timeout``."""
    locker = Locker(data_dir, password, flags=("--timeout", "10"))
    try:
        small = work / "up.bin"
        small.write_bytes(os.urandom(4096))
        listing = json.loads(subprocess.run(locker.curl("-f", f"{locker.base}/api/v1/files/"), **_RUN).stdout)
        small_id = next(r["id"] for r in listing["results"] if r["name"].startswith("small-"))
        pid = locker.worker_pid()
        samples = [(0, rss_mib(pid))]
        long = subprocess.Popen(
            locker.curl("-f", "--limit-rate", RATE, "-r", f"0-{40 * 1024 * 1024 - 1}", "-o", "/dev/null", "-w",
                        "%{size_download} %{time_total}", f"{locker.base}/api/v1/files/{big_id}/content"),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        step = max(1, GROWTH // 10)
        lock = threading.Lock()
        done = [0]
        errors = [0]

        def client(index: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", locker.port, timeout=30)
            body_head = (
                '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="g-{}-{}.bin"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
            data = small.read_bytes()
            upload_headers = {**locker.auth, "Content-Type": "multipart/form-data; boundary=b0undary"}
            for i in range(GROWTH):
                requests = [
                    ("GET", SHORT_PATH, None, locker.auth),
                    ("GET", "/api/v1/me", None, locker.auth),
                    ("GET", f"/api/v1/files/{small_id}/content", None, locker.auth),
                    (
                        "POST",
                        "/api/v1/files/",
                        body_head.format(index, i).encode() + data + b"\r\n--b0undary--\r\n",
                        upload_headers,
                    ),
                ]
                for method, path, body, headers in requests:
                    try:
                        conn.request(method, path, body=body, headers=headers)
                        response = conn.getresponse()
                        response.read()
                        bad = response.status >= 400
                    except OSError:
                        bad = True
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", locker.port, timeout=30)
                    if bad:
                        with lock:
                            errors[0] += 1
                with lock:
                    done[0] += 1
                    if index == 0 and (i + 1) % step == 0:
                        samples.append((done[0] * 4, rss_mib(pid)))
            conn.close()

        workers = [threading.Thread(target=client, args=(i,)) for i in range(SHORT_CLIENTS)]
        begin = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - begin
        samples.append((done[0] * 4, rss_mib(pid)))
        received, _ = long.communicate(timeout=120)
        long_bytes, long_seconds = (received or "0 0").split()
        return {
            "samples": samples,
            "requests": done[0] * 4,
            "errors": errors[0],
            "seconds": seconds,
            "long_status": long.returncode,
            "long_bytes": int(long_bytes),
            "long_seconds": float(long_seconds),
            "same_worker": locker.worker_pid() == pid,
        }
    finally:
        locker.stop()


_RUN = {"check": True, "capture_output": True, "text": True, "timeout": 120}


def recycle(data_dir: Path, password: str, big_id: str) -> dict:
    """A worker recycled by ``max_requests`` while streams and a slow download are open."""
    locker = Locker(data_dir, password, flags=("--max-requests", "200", "--max-requests-jitter", "0"))
    try:
        first = locker.worker_pid()
        streams = open_streams(locker, 20)
        begin = time.perf_counter()
        download = subprocess.Popen(
            locker.curl("--limit-rate", "2M", "-r", f"0-{100 * 1024 * 1024 - 1}", "-o", "/dev/null", "-w",
                        "%{size_download} %{time_total}", f"{locker.base}/api/v1/files/{big_id}/content"),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        time.sleep(1.0)
        latencies, failures, replaced_at = [], 0, None
        for _ in range(300):
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", locker.port, timeout=60)
                conn.request("GET", SHORT_PATH, headers=locker.auth)
                response = conn.getresponse()
                response.read()
                conn.close()
                failures += response.status != 200
            except OSError:
                failures += 1
            latencies.append(time.perf_counter() - start)
            if replaced_at is None and first not in locker.workers():
                replaced_at = time.perf_counter() - begin
        # Wait (bounded) for the old worker to go, then look at the streams and the download.
        deadline = time.monotonic() + 90
        while first in locker.workers() and time.monotonic() < deadline:
            time.sleep(0.2)
        if replaced_at is None and first not in locker.workers():
            replaced_at = time.perf_counter() - begin
        time.sleep(1.0)
        still_open = 0
        if streams:
            ended = streams.run(_ended(streams))
            still_open = 20 - ended
            streams.close()
        try:
            received, _ = download.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            download.kill()
            received, _ = download.communicate()
        download_bytes, download_seconds = (received or "0 0").split()
        return {
            "replaced_at": replaced_at,
            "slowest": max(latencies),
            "p50": statistics.median(latencies) * 1000,
            "failures": failures,
            "streams_open": still_open,
            "download_bytes": int(download_bytes),
            "download_status": download.returncode,
            "download_seconds": float(download_seconds),
            "new_worker": any(pid != first for pid in locker.workers()),
        }
    finally:
        locker.stop()


async def _ended(streams: Streams) -> int:
    """How many of ``streams``' SSE connections the server has closed (their reader task ended)."""
    return sum(task.done() for task in streams.tasks)


def row_stats(cells: list[dict]) -> dict:
    times = [t for c in cells for t in c["times"]]
    return {
        "p50": statistics.median(times) if times else float("nan"),
        "p95": percentile(times, 0.95) if times else float("nan"),
        "failures": sum(c["failures"] for c in cells),
        "asked": len(cells) * SHORT_CLIENTS * REQUESTS,
        "running": min(c["running"] for c in cells),
        "rss": max(c["rss"] for c in cells),
        "peak": max(c["peak"] for c in cells),
    }


def run() -> str:
    import tempfile

    from django.conf import settings

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    data_dir = Path(settings.LOCKER_DATA_DIR)
    default = default_threads()
    cells: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="locker-starve-") as tmp:
        work = Path(tmp)
        password, source, big_id, targets = setup(data_dir, work)
        plan = [(0, 0), (0, LIVE)] + [(k, LIVE) for k in TRANSFERS if k]
        for round_no in range(ROUNDS):
            order = THREADS[round_no % len(THREADS) :] + THREADS[: round_no % len(THREADS)]
            if round_no % 2:
                order.reverse()
            for threads in order:
                locker = Locker(data_dir, password, threads)
                try:
                    for k, live in plan:
                        cells.append(cell(locker, threads, k, live, big_id, targets, source))
                        print(f"  threads {threads} K {k} L {live}: {summary(cells[-1])}", flush=True)
                finally:
                    locker.stop()
        grown = growth(data_dir, password, work, big_id)
        print(f"  growth: {grown}", flush=True)
        recycled = recycle(data_dir, password, big_id)
        print(f"  recycle: {recycled}", flush=True)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return report(cells, plan, default, grown, recycled)


def summary(c: dict) -> str:
    p95 = percentile(c["times"], 0.95) if c["times"] else float("nan")
    return f"p95 {p95:.1f} ms, unanswered {c['failures']}, transfers running {c['running']}, RSS {c['rss']:.0f} MiB"


def report(cells: list[dict], plan: list, default: int, grown: dict, recycled: dict) -> str:
    lines = [
        "## Short requests beside long transfers (gunicorn threads)",
        "",
        "`gunicorn -c locker/gunicorn.conf.py` as `make run` serves it (1 worker, SQLite), with `WEB_THREADS` as in",
        f"each row. K slow transfers by curl at `--limit-rate {RATE}` (half downloads of a {BIG_MIB} MiB file, half",
        f"uploads of a new {BIG_MIB} MiB version; none ends during the measure) and L SSE streams open; meanwhile",
        f"{SHORT_CLIENTS} clients each send {REQUESTS} `GET {SHORT_PATH}` (a listing of 20 files) in a row on a",
        f"kept-alive connection, each given {SHORT_TIMEOUT:.0f} s (a client gives up after {GIVE_UP_AFTER} unanswered",
        f"in a row; the rest count as unanswered). {ROUNDS} rounds, interleaved; p50/p95 over all. RSS: the",
        "worker's, the largest at a cell's end; peak: the largest VmHWM during a cell.",
        "Reproduce: `make bench BENCH=starve` (`BENCH_STARVE_THREADS`, `BENCH_STARVE_TRANSFERS`, `BENCH_STARVE_LIVE`).",
        "",
        "| WEB_THREADS | K transfers | L streams | short p50 / p95, ms | unanswered | transfers still running "
        "| worker RSS / peak, MiB |",
        "|---:|---:|---:|---|---:|---:|---|",
    ]
    for threads in THREADS:
        for k, live in plan:
            group = [c for c in cells if c["threads"] == threads and c["k"] == k and c["live"] == live]
            if not group:
                continue
            s = row_stats(group)
            answered = f"{s['p50']:.1f} / {s['p95']:.1f}" if s["failures"] < s["asked"] else "none answered"
            mark = " (default)" if threads == default else ""
            lines.append(
                f"| {threads}{mark} | {k} | {live} | {answered} | {s['failures']} of {s['asked']} | "
                f"{s['running']} of {k} | {s['rss']:.0f} / {s['peak']:.0f} |"
            )
    samples = grown["samples"]
    lines += [
        "",
        f"Memory over many requests ({default} threads, `--timeout 10`): {SHORT_CLIENTS} clients, each a listing,",
        "`/api/v1/me`, a 64 KiB download and a 4 KiB upload per iteration, "
        f"{grown['requests']} requests in {grown['seconds']:.0f} s ({grown['errors']} failed):",
        "",
        "| requests served | worker RSS, MiB |",
        "|---:|---:|",
        *[f"| {n} | {rss:.0f} |" for n, rss in samples],
        "",
        f"Meanwhile a 40 MiB download at {RATE}/s with `--timeout 10`: curl exit {grown['long_status']}, "
        f"{grown['long_bytes'] / 1048576:.1f} MiB received in {grown['long_seconds']:.0f} s; the same worker served "
        f"throughout: {'yes' if grown['same_worker'] else 'no'}.",
        "",
        "A recycle (`--max-requests 200`, `graceful_timeout` 30 s) with 20 SSE streams and a 100 MiB download at",
        "2 MiB/s open, then 300 short requests on new connections, each given 60 s:",
        "",
        "| worker replaced after, s | slowest short request, s | short p50, ms | failed | SSE streams still "
        "open | download: MiB received, curl exit, s |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {_s(recycled['replaced_at'])} | {recycled['slowest']:.1f} | {recycled['p50']:.1f} | {recycled['failures']} "
        f"| {recycled['streams_open']} of 20 | {recycled['download_bytes'] / 1048576:.1f}, "
        f"{recycled['download_status']}, {recycled['download_seconds']:.0f} |",
    ]
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "not replaced" if value is None else f"{value:.1f}"
