"""Load: locust (headless, ``bench/locustfile.py``) against Locker served as deployed, with a mixed workload per
virtual user: sign-in, folder and file listings, searches, 1 MiB uploads and downloads, note edits, chat message
posts, notification listings, and one live notification stream (SSE) held open for the user's life.

Configurations (``bench/cluster.py`` starts them: ``gunicorn -c locker/gunicorn.conf.py`` with its defaults, 1
worker and ``WEB_THREADS`` threads a server):

* ``sqlite``: one server, SQLite and blobs in its data dir, no proxy;
* ``cluster``: two servers behind nginx (round robin), PostgreSQL, Redis (cache, rate limits, live fan-out) and
  SeaweedFS's S3 gateway for the blobs (``LOCKER_BLOB_STORAGE=s3``);

each with ``BENCH_LOAD_USERS`` (50) users, one account each (real Argon2id costs), spawned ``BENCH_LOAD_SPAWN``
(10) a second, for ``BENCH_LOAD_SECONDS`` (300), thinking ``BENCH_LOAD_WAIT`` (1-3 s) between two tasks.

* ``saturation``: one server behind nginx against two behind nginx on the cluster's services and data,
  ``BENCH_LOAD_SAT_USERS`` (32) users with no think time (signed in beforehand, so Argon2 is not in the round),
  ``BENCH_LOAD_SAT_SECONDS`` (60) a round, ``BENCH_LOAD_SAT_ROUNDS`` (4) rounds of each, in the order 1, 2, then 2, 1...

``BENCH_LOAD_CONFIGS`` (``sqlite,cluster,saturation``) picks some. Every server's output (access log and errors)
goes to files, grepped for "database is locked" and tracebacks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.cluster import Cluster, scaled_out_services
from bench.processes import ROOT, load_average, machine_cpu_seconds, process_cpu_seconds

USERS = int(os.environ.get("BENCH_LOAD_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "300"))
SPAWN = float(os.environ.get("BENCH_LOAD_SPAWN", "10"))
WAIT = os.environ.get("BENCH_LOAD_WAIT", "1,3")
SAT_USERS = int(os.environ.get("BENCH_LOAD_SAT_USERS", "32"))
SAT_SECONDS = int(os.environ.get("BENCH_LOAD_SAT_SECONDS", "60"))
SAT_ROUNDS = int(os.environ.get("BENCH_LOAD_SAT_ROUNDS", "4"))
CONFIGS = os.environ.get("BENCH_LOAD_CONFIGS", "sqlite,cluster,saturation").split(",")
KEEP = os.environ.get("BENCH_LOAD_KEEP", "")  # a directory to keep the logs and locust's CSV files in
PASSWORD = "correct horse battery staple"
TRANSFERS = ("upload 1 MiB", "download 1 MiB")  # bench/locustfile.py's names
LOGIN = "login (Argon2id)"
STREAM = "notifications stream: open"
# Every virtual user comes from 127.0.0.1: the per-address sign-in limit (30/m) would refuse most of 50 users
# signing in within seconds. Every other rate limit stays as deployed.
SERVER_ENV = {"LOCKER_RATE_LOGIN_IP": "100000/m"}
STEADY_AFTER = float(os.environ.get("BENCH_LOAD_STEADY_AFTER", "60"))  # seconds: the steady-state table
TARGET_P95_MS, TARGET_RATIO = 300.0, 1.3
CORES = os.cpu_count() or 1
# the servers' threads: gunicorn.conf.py's default (the cluster leaves WEB_THREADS unset)
THREADS = re.search(r'"WEB_THREADS", (\d+)', (ROOT / "locker" / "gunicorn.conf.py").read_text()).group(1)
LOCUST = ROOT / ".venv" / "bin" / "locust"


def percentile(histogram: dict[int, int], q: float) -> float:
    """The ``q`` quantile of locust's response-time histogram (milliseconds, rounded as locust rounds)."""
    total = sum(histogram.values())
    if not total:
        return float("nan")
    wanted, seen = q * total, 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= wanted:
            return float(value)
    return float(max(histogram))


def merged(rows: list[dict]) -> dict[int, int]:
    out: dict[int, int] = {}
    for row in rows:
        for value, count in row["histogram"].items():
            out[int(value)] = out.get(int(value), 0) + count
    return out


class Sampler:
    """The servers' memory every second while a run lasts: the highest total (arbiter and workers) per server."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.peaks = [0.0] * cluster.count
        self.database = cluster.env.get("DATABASE_URL", "")
        self.pg_connections = 0
        self.pg_pss = 0.0
        self.series: list[tuple[float, list[float]]] = []  # (seconds since the start, total per server)
        self.started = time.monotonic()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn = None
        if self.database:
            import psycopg

            conn = psycopg.connect(self.database, autocommit=True)
        try:
            self._sample(conn)
        finally:
            if conn is not None:
                conn.close()

    def _postgres(self, conn) -> None:
        """This database's server processes: how many, and their proportional memory (Pss) together."""
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        pss = 0
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
        self.pg_connections = max(self.pg_connections, len(pids))
        self.pg_pss = max(self.pg_pss, pss / 1024)

    def _sample(self, conn) -> None:
        while not self.done.wait(1.0):
            if conn is not None:
                self._postgres(conn)
            totals = [row["total"] for row in self.cluster.rss_mib()]
            self.series.append((time.monotonic() - self.started, totals))
            for i, total in enumerate(totals):
                self.peaks[i] = max(self.peaks[i], total)

    def stop(self) -> list[float]:
        self.done.set()
        self.thread.join()
        return self.peaks


def server_cpu(cluster: Cluster) -> float:
    total = 0.0
    for index, pid in enumerate(cluster.pids):
        for one in [pid, *cluster.worker_pids(index)]:
            with contextlib.suppress(OSError):
                total += process_cpu_seconds(one)
    return total


def run_locust(
    cluster: Cluster, accounts: Path, work: Path, tag: str, users: int, seconds: int, spawn: float, wait: str
):
    """One headless locust run against ``cluster``; returns what was measured."""
    result_path = work / f"{tag}.json"
    env = {
        **os.environ,
        "LOAD_ACCOUNTS": str(accounts),
        "LOAD_RESULT": str(result_path),
        "LOAD_WAIT": wait,
    }
    command = [
        str(LOCUST),
        "-f",
        "bench/locustfile.py",
        "--headless",
        "-u",
        str(users),
        "-r",
        str(spawn),
        "-t",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        cluster.url,
        "--csv",
        str(work / tag),
        "--only-summary",
        "--exit-code-on-error",
        "0",
    ]
    load_before = load_average()
    busy_before, _steal = machine_cpu_seconds()
    servers_before = server_cpu(cluster)
    sampler = Sampler(cluster)
    started = time.perf_counter()
    with (work / f"{tag}.locust.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    peaks = sampler.stop()
    busy_after, _steal = machine_cpu_seconds()
    if proc.returncode:
        raise RuntimeError(f"locust exited with {proc.returncode}: {(work / f'{tag}.locust.log').read_text()[-3000:]}")
    result = json.loads(result_path.read_text())
    result_path.write_text(json.dumps({k: v for k, v in result.items() if k != "samples"}))
    log_text = (work / f"{tag}.locust.log").read_text(errors="replace")
    measured = {
        **result,
        "wall": wall,
        "locust_cpu": usage.ru_utime + usage.ru_stime,
        "servers_cpu": server_cpu(cluster) - servers_before,
        "machine_cpu": busy_after - busy_before,
        "load_before": load_before,
        "load_after": load_average(),
        "rss_peak": peaks,
        "rss_series": sampler.series,
        "pg_connections": sampler.pg_connections,
        "pg_pss": sampler.pg_pss,
        "rss_end": cluster.rss_mib(),
        "locust_cpu_warning": "CPU usage above" in log_text,
    }
    (work / f"{tag}.measured.json").write_text(json.dumps(measured))
    return measured


def sign_in_all(url: str, usernames: list[str]) -> dict[str, str]:
    """An access token per account, four sign-ins at a time."""

    def one(name: str) -> tuple[str, str]:
        body = json.dumps({"username": name, "password": PASSWORD}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{url}/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - loopback
            return name, json.loads(answer.read())["access"]

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, usernames))


def accounts_file(path: Path, usernames: list[str], tokens: dict | None = None) -> Path:
    path.write_text(
        json.dumps({"password": PASSWORD, "usernames": usernames, **({"tokens": tokens} if tokens else {})})
    )
    return path


def blob_counts(s3_env: dict, data_dir: Path) -> str:
    """Where the blobs went: objects in the bucket, files in the local blob directory."""
    from tests import s3server

    client = s3server.client_for(s3_env)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3_env["LOCKER_S3_BUCKET"])
    objects = sum(page.get("KeyCount", 0) for page in pages)
    local = sum(1 for path in (data_dir / "blobs").rglob("*") if path.is_file()) if (data_dir / "blobs").exists() else 0
    return f"Blobs: {objects} objects in the S3 bucket, {local} files in the local blob directory."


def operation_rows(measured: dict) -> list[dict]:
    """Per operation: requests, requests/s, percentiles, failures; then the aggregate rows."""
    duration = max(1e-9, measured["last"] - measured["start"])
    rows = sorted(measured["rows"], key=lambda r: (r["name"].startswith("setup"), r["name"]))
    out = []

    def line(label: str, group: list[dict]) -> dict:
        histogram = merged(group)
        requests = sum(r["requests"] for r in group)
        return {
            "label": label,
            "requests": requests,
            "rps": requests / duration,
            "p50": percentile(histogram, 0.50),
            "p95": percentile(histogram, 0.95),
            "p99": percentile(histogram, 0.99),
            "max": max(histogram) if histogram else float("nan"),
            "failures": sum(r["failures"] for r in group),
        }

    for row in rows:
        label = row["name"] + (" (transfer)" if row["name"] in TRANSFERS else "")
        out.append(line(label, [row]))
    work = [r for r in measured["rows"] if not r["name"].startswith("setup") and r["name"] not in (LOGIN, STREAM)]
    out.append(
        line("**non-transfer requests** (no sign-in, setup or stream)", [r for r in work if r["name"] not in TRANSFERS])
    )
    out.append(line("**all requests**", measured["rows"]))
    return out


def raw_percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


def steady_rows(measured: dict, skip: float) -> list[dict]:
    """Per operation, from every request that started ``skip`` seconds or more after the first one (sign-ins,
    setup and the ramp over): requests, p50/p95/p99 (unrounded), failures; then the non-transfer aggregate."""
    start = measured["start"]
    by_name: dict[str, list] = {}
    for moment, name, millis, failed in measured["samples"]:
        if moment - millis / 1000 >= start + skip and not name.startswith("setup") and name not in (LOGIN, STREAM):
            by_name.setdefault(name, []).append((millis, failed))

    def line(label: str, group: list) -> dict:
        times = [m for m, _ in group]
        return {
            "label": label,
            "requests": len(group),
            "p50": raw_percentile(times, 0.50),
            "p95": raw_percentile(times, 0.95),
            "p99": raw_percentile(times, 0.99),
            "failures": sum(f for _, f in group),
        }

    out = [line(name + (" (transfer)" if name in TRANSFERS else ""), group) for name, group in sorted(by_name.items())]
    rest = [item for name, group in by_name.items() if name not in TRANSFERS for item in group]
    out.append(line("**non-transfer requests**", rest))
    return out


def throughput(measured: dict) -> float:
    """Requests a second of the workload itself (no sign-in, setup or stream openings)."""
    rows = [r for r in measured["rows"] if not r["name"].startswith("setup") and r["name"] not in (LOGIN, STREAM)]
    return sum(r["requests"] for r in rows) / max(1e-9, measured["last"] - measured["start"])


def ms(value: float) -> str:
    return "" if value != value else f"{value:.0f}"


def report(title: str, measured: dict, cluster: Cluster, locked: int, tracebacks: int) -> list[str]:
    rows = operation_rows(measured)
    lines = [
        f"#### {title}",
        "",
        f"{throughput(measured):.1f} requests/s of the workload ({rows[-1]['requests']} requests in all over "
        f"{measured['last'] - measured['start']:.0f} s); failed requests: {rows[-1]['failures']}; "
        f'"database is locked" in the server logs: {locked}; tracebacks there: {tracebacks}. '
        f"Load average {measured['load_before']:.2f} before, {measured['load_after']:.2f} after.",
        "",
        "| operation | requests | req/s | p50, ms | p95, ms | p99, ms | max, ms | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['requests']} | {r['rps']:.2f} | {ms(r['p50'])} | {ms(r['p95'])} | {ms(r['p99'])} "
            f"| {ms(r['max'])} | {r['failures']} |"
        )
    steady = steady_rows(measured, STEADY_AFTER)
    lines += [
        "",
        f"The same from the requests that started {STEADY_AFTER:.0f} s or more into the run (the sign-ins' Argon2id "
        "and the setup are over), unrounded:",
        "",
        "| operation | requests | p50, ms | p95, ms | p99, ms | failed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in steady:
        lines.append(
            f"| {r['label']} | {r['requests']} | {ms(r['p50'])} | {ms(r['p95'])} | {ms(r['p99'])} | {r['failures']} |"
        )
    streams = measured["streams"]
    lines += [
        "",
        f"Notification streams: {streams['opened']} opened, {streams['reconnects']} reopened after the server ended "
        f"them, {streams['failures']} failed; {streams['events']} notifications arrived on them (each "
        f"sign-in and each of the {streams['uploads_ok']} uploads gives its user one).",
        "",
        "Server memory (arbiter and worker together; VmHWM: the worker's highest resident set, sampled or not):",
        "",
        "| server | RSS at its highest, MiB | worker VmHWM, MiB | RSS at 1/4, 1/2, 3/4 of the run, MiB | "
        "RSS at the end, MiB |",
        "|---|---:|---:|---|---:|",
    ]
    series = measured["rss_series"]
    for i, (peak, end) in enumerate(zip(measured["rss_peak"], measured["rss_end"], strict=True)):
        quarters = [series[min(len(series) - 1, len(series) * k // 4)][1][i] for k in (1, 2, 3)] if series else []
        lines.append(
            f"| {i + 1} | {peak:.0f} | {end['worker_peak']:.0f} | {', '.join(f'{q:.0f}' for q in quarters)} "
            f"| {end['total']:.0f} |"
        )
    wall = measured["wall"]
    duration = max(1e-9, measured["last"] - measured["start"])
    received = sum(r["bytes"] for r in measured["rows"])
    sent = sum(r["requests"] - r["failures"] for r in measured["rows"] if r["name"] == TRANSFERS[0]) * (1 << 20)
    lines += [
        "",
        f"Network (loopback, bodies only): {sent / duration / (1 << 20):.2f} MiB/s of uploads in, "
        f"{received / duration / (1 << 20):.2f} MiB/s of answers out."
        + (
            f" PostgreSQL: at most {measured['pg_connections']} connections to this database at once, their server "
            f"processes' memory (Pss) at most {measured['pg_pss']:.0f} MiB together."
            if cluster.env.get("DATABASE_URL")
            else ""
        ),
        "",
        f"CPU over the run ({wall:.0f} s; {CORES} cores = {CORES * wall:.0f} CPU-s): Locker servers "
        f"{measured['servers_cpu']:.0f} CPU-s ({measured['servers_cpu'] / wall:.2f} cores), "
        f"locust {measured['locust_cpu']:.0f} CPU-s ({measured['locust_cpu'] / wall:.2f} cores), "
        f"the whole machine {measured['machine_cpu'] / wall:.2f} cores."
        + (" locust warned that its CPU use was above 90%." if measured["locust_cpu_warning"] else ""),
    ]
    if measured["errors"]:
        lines += ["", "Errors:", ""]
        lines += [f"- {e['occurrences']} × {e['method']} {e['name']}: `{e['error'][:300]}`" for e in measured["errors"]]
    lines.append("")
    return lines


def verdict_p95(measured: dict) -> float:
    rows = operation_rows(measured)
    return next(r for r in rows if r["label"].startswith("**non-transfer"))["p95"]


def run_sqlite(work: Path) -> tuple[list[str], dict]:
    names = [f"load{n:03d}" for n in range(USERS)]
    with Cluster(servers=1, env=SERVER_ENV, data_dir=work / "sqlite", log_dir=work / "sqlite-logs") as cluster:
        cluster.make_accounts(names, PASSWORD, processes=2)
        accounts = accounts_file(work / "sqlite-accounts.json", names)
        measured = run_locust(cluster, accounts, work, "sqlite", USERS, SECONDS, SPAWN, WAIT)
        locked = cluster.log_count("database is locked")
        tracebacks = cluster.log_count("Traceback")
        title = f"SQLite, one server (no proxy), {USERS} users, {SECONDS} s"
        return report(title, measured, cluster, locked, tracebacks), {"measured": measured, "locked": locked}


def run_services(work: Path, configs: list[str]) -> tuple[list[str], dict, list[dict]]:
    """The cluster configuration and then the saturation rounds, on one set of services and data."""
    names = [f"load{n:03d}" for n in range(max(USERS, SAT_USERS))]
    lines: list[str] = []
    out: dict = {}
    rounds: list[dict] = []
    data_dir = work / "cluster"
    with scaled_out_services(work) as services:
        env = {
            **services,
            **SERVER_ENV,
            "JWT_ACCESS_MINUTES": "180",  # the saturation rounds' tokens are made once, before them
        }
        with Cluster(servers=2, env=env, data_dir=data_dir, balancer=True, log_dir=work / "cluster-logs") as cluster:
            cluster.make_accounts(names, PASSWORD, processes=2)
            if "cluster" in configs:
                accounts = accounts_file(work / "cluster-accounts.json", names[:USERS])
                measured = run_locust(cluster, accounts, work, "cluster", USERS, SECONDS, SPAWN, WAIT)
                locked = cluster.log_count("database is locked")
                tracebacks = cluster.log_count("Traceback")
                title = f"PostgreSQL + Redis + SeaweedFS (S3), two servers behind nginx, {USERS} users, {SECONDS} s"
                lines += report(title, measured, cluster, locked, tracebacks)
                lines += [blob_counts(services, data_dir), ""]
                out = {"measured": measured, "locked": locked}
            if "saturation" in configs:
                tokens = sign_in_all(cluster.url, names[:SAT_USERS])
        if "saturation" in configs:
            accounts = accounts_file(work / "sat-accounts.json", names[:SAT_USERS], tokens)
            for number in range(SAT_ROUNDS):
                # 1, 2 then 2, 1, ...: every round adds files, which makes each request dearer, so the pairs' order
                # alternates for that drift to weigh on both sides alike
                for servers in (1, 2) if number % 2 == 0 else (2, 1):
                    logs = work / f"sat-{number}-{servers}-logs"
                    with Cluster(servers=servers, env=env, data_dir=data_dir, balancer=True, log_dir=logs) as cluster:
                        tag = f"sat-{number}-{servers}"
                        measured = run_locust(cluster, accounts, work, tag, SAT_USERS, SAT_SECONDS, SAT_USERS, "0")
                        failures = sum(r["failures"] for r in measured["rows"])
                        rps = throughput(measured)
                        rounds.append(
                            {
                                "round": number + 1,
                                "servers": servers,
                                "rps": rps,
                                "failures": failures,
                                "p95": verdict_p95(measured),
                                "servers_cpu": measured["servers_cpu"] / measured["wall"],
                                "cpu_ms": 1000
                                * measured["servers_cpu"]
                                / max(1, throughput(measured) * measured["wall"]),
                                "locust_cpu": measured["locust_cpu"] / measured["wall"],
                                "machine_cpu": measured["machine_cpu"] / measured["wall"],
                                "load": measured["load_before"],
                                "locked": cluster.log_count("database is locked"),
                            }
                        )
                        print(f"   saturation round {number + 1}, {servers} server(s): {rounds[-1]['rps']:.1f} req/s")
    return lines, out, rounds


def saturation_report(rounds: list[dict]) -> tuple[list[str], float]:
    one = [r for r in rounds if r["servers"] == 1]
    two = [r for r in rounds if r["servers"] == 2]
    ratios = [b["rps"] / a["rps"] for a, b in zip(one, two, strict=True)]
    ratio = statistics.median(ratios)
    lines = [
        f"#### One server against two behind nginx, saturated ({SAT_USERS} users, no think time, {SAT_SECONDS} s a "
        f"round, {SAT_ROUNDS} rounds: 1 then 2 servers, then 2 then 1, ...)",
        "",
        f"Median {statistics.median(r['rps'] for r in one):.1f} requests/s with one server, "
        f"{statistics.median(r['rps'] for r in two):.1f} with two: **{ratio:.2f}×** (median of the per-round ratios "
        f"{', '.join(f'{x:.2f}' for x in ratios)}).",
        "",
        "Every round adds the files its uploads make, so a request costs the servers more CPU from round to round",
        "(the column 'server CPU a request'); the order within a round alternates so that this weighs on both sides.",
        "",
        "| round | servers | req/s | non-transfer p95, ms | failed | Locker servers, cores | server CPU a request, ms "
        "| locust, cores | machine, cores | load average before |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rounds:
        lines.append(
            f"| {r['round']} | {r['servers']} | {r['rps']:.1f} | {ms(r['p95'])} | {r['failures']} | "
            f"{r['servers_cpu']:.2f} | {r['cpu_ms']:.1f} | {r['locust_cpu']:.2f} | {r['machine_cpu']:.2f} | "
            f"{r['load']:.2f} |"
        )
    lines.append("")
    return lines, ratio


def run() -> str:
    work = Path(tempfile.mkdtemp(prefix="locker-load-"))
    try:
        lines = [
            "## Load: mixed workload with locust",
            "",
            "locust 2.47 (headless, `FastHttpUser`, `bench/locustfile.py`) against Locker served as deployed",
            f"(`bench/cluster.py`: `gunicorn -c locker/gunicorn.conf.py` with its defaults, 1 worker and {THREADS} "
            "threads a server; nginx as",
            "round-robin balancer where there are two). Each virtual user signs in once to an account of its own",
            "(real Argon2id costs), holds one SSE notification stream open for its whole life, and then, "
            f"thinking {WAIT.replace(',', '-')} s between two tasks, picks by weight: list folders 4, list files 4,",
            "search 3, list notifications 1, upload 1 MiB 1, download 1 MiB 2, note edit 2, message post 2.",
            "Percentiles are locust's (response times rounded to 2 significant digits). Rate limits as deployed",
            "except sign-ins per address (every user comes from 127.0.0.1).",
            "",
            f"Reproduce: `make bench BENCH=load` (`BENCH_LOAD_USERS={USERS}`, `BENCH_LOAD_SECONDS={SECONDS}`, "
            f"`BENCH_LOAD_SPAWN={SPAWN:g}`, `BENCH_LOAD_WAIT={WAIT}`, `BENCH_LOAD_SAT_USERS={SAT_USERS}`, "
            f"`BENCH_LOAD_SAT_SECONDS={SAT_SECONDS}`, `BENCH_LOAD_SAT_ROUNDS={SAT_ROUNDS}`, "
            "`BENCH_LOAD_CONFIGS=sqlite,cluster,saturation`). Each locust run is",
            f"`.venv/bin/locust -f bench/locustfile.py --headless -u {USERS} -r {SPAWN:g} -t {SECONDS}s "
            "--stop-timeout 10 --host <url> --csv <prefix> --only-summary` with `LOAD_ACCOUNTS`, `LOAD_RESULT` and "
            "`LOAD_WAIT` in its environment. Services: PostgreSQL 127.0.0.1:5432 (a new database a run), Redis "
            "127.0.0.1:6379/14 (a key prefix of its own), a SeaweedFS of its own (`bench/cluster.seaweedfs`, S3 on "
            "127.0.0.1:23333, a new bucket).",
            "",
        ]
        verdicts = []
        if "sqlite" in CONFIGS:
            section, sqlite = run_sqlite(work)
            lines += section
            p95 = verdict_p95(sqlite["measured"])
            failures = sum(r["failures"] for r in sqlite["measured"]["rows"])
            ok = failures == 0 and sqlite["locked"] == 0 and p95 < TARGET_P95_MS
            verdicts.append(
                f'- SQLite: zero errors, zero "database is locked", non-transfer p95 under {TARGET_P95_MS:.0f} ms: '
                f"**{'pass' if ok else 'FAIL'}** ({failures} failed, {sqlite['locked']} locked, p95 {p95:.0f} ms)"
            )
        if "cluster" in CONFIGS or "saturation" in CONFIGS:
            section, cluster, rounds = run_services(work, CONFIGS)
            lines += section
            if cluster:
                failures = sum(r["failures"] for r in cluster["measured"]["rows"])
                ok = failures == 0 and cluster["locked"] == 0
                verdicts.append(
                    f'- PostgreSQL + Redis + S3, two servers: zero errors, zero "database is locked": '
                    f"**{'pass' if ok else 'FAIL'}** ({failures} failed, {cluster['locked']} locked; non-transfer "
                    f"p95 {verdict_p95(cluster['measured']):.0f} ms)"
                )
            if rounds:
                section, ratio = saturation_report(rounds)
                lines += section
                verdicts.append(
                    f"- Two servers at least {TARGET_RATIO}× the throughput of one (saturated, same machine and data): "
                    f"**{'pass' if ratio >= TARGET_RATIO else 'FAIL'}** ({ratio:.2f}×)"
                )
        return "\n".join(lines[:2] + ["Targets:", "", *verdicts, ""] + lines[2:])
    finally:
        if KEEP:
            shutil.copytree(
                work,
                Path(KEEP),
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("*.sqlite3*", "blobs", "uploads", "seaweedfs"),
            )
        shutil.rmtree(work, ignore_errors=True)
