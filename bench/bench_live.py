"""Live notification streams held open against the server ``make run`` starts, and what they cost.

The server: ``gunicorn -c locker/gunicorn.conf.py`` with its defaults (1 worker, 8 threads, SQLite, no Redis), on
this benchmark's data dir. ``BENCH_LIVE_USERS`` users (20) each sign in once; for each count in
``BENCH_LIVE_CONNECTIONS`` (0, 100, 1000) the client (one asyncio process, apart from the server) opens that many
streams spread over the users, three WebSocket for one SSE, and measures while they stay open:

* small requests: ``BENCH_LIVE_REQUESTS`` (200) sequential ``GET /api/v1/notifications/?unread=1`` with a Bearer
  token on one kept-alive connection (authentication, one query, JSON), p50 and p95;
* event latency: ``BENCH_LIVE_UPLOADS`` (20) small uploads, each by one of the users through the API; for every
  stream of that user, the time from the notification's ``created_at`` (written in the upload's transaction,
  just before its commit) to its arrival at the client (same machine, same clock);
* the server worker's resident memory (VmRSS) with the streams open, and the time to open them.

Side by side, the peer: the same server run as ``make run`` ran it before the hub (gunicorn's stock threaded
worker, 1 worker, 8 threads), where a stream holds a request thread: SSE streams only (that server cannot
hand over a WebSocket), 8 and then 16 of them, and whether small requests still get answered.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import resource
import statistics
import threading
import time
from datetime import datetime

from bench.bench_server import Server, start
from bench.processes import rss_mib
from tests.served import call, sign_in, upload

USERS = int(os.environ.get("BENCH_LIVE_USERS", "20"))
COUNTS = [int(n) for n in os.environ.get("BENCH_LIVE_CONNECTIONS", "0,100,1000").split(",")]
REQUESTS = int(os.environ.get("BENCH_LIVE_REQUESTS", "200"))
UPLOADS = int(os.environ.get("BENCH_LIVE_UPLOADS", "20"))
TARGET_CONNECTIONS, TARGET_P95_MS = 1000, 50.0
PASSWORD = "correct horse battery staple"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def small_requests(port: int, auth: dict, count: int = REQUESTS, timeout: float = 10) -> tuple[list[float], int]:
    """``count`` sequential small API requests on one kept-alive connection: (milliseconds each, failures)."""
    times, failures = [], 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        for _ in range(count):
            begin = time.perf_counter()
            try:
                status, _, _ = call(port, "GET", "/api/v1/notifications/?unread=1", headers=auth, conn=conn)
            except OSError:
                failures += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                continue
            times.append((time.perf_counter() - begin) * 1000)
            failures += status != 200
    finally:
        conn.close()
    return times, failures


class Streams:
    """Streams held by one asyncio loop on a thread: WebSocket (websockets) and SSE (raw asyncio streams)."""

    def __init__(self, port: int):
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.arrivals: dict[int, list[float]] = {}  # notification id -> arrival wall-clock times
        self.handles: list = []
        self.tasks: list = []
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def run(self, coroutine, timeout: float = 300):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def _arrived(self, body: dict) -> None:
        self.arrivals.setdefault(body["id"], []).append(time.time())

    async def _websocket(self, auth: dict, after: int):
        from websockets.asyncio.client import connect

        ws = await connect(f"ws://127.0.0.1:{self.port}/api/v1/notifications/ws?after={after}", additional_headers=auth)
        self.handles.append(ws)

        async def receive():
            try:
                async for message in ws:
                    self._arrived(json.loads(message))
            except Exception:  # noqa: BLE001, S110 - the stream ended (the benchmark closes it)
                pass

        self.tasks.append(asyncio.ensure_future(receive()))

    async def _sse(self, auth: dict, after: int, wait: bool = True):
        """An SSE stream; ``wait``: until its status line came (else the request is only sent: a server out of
        threads never answers it)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
        head = f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: {after}\r\n"
        writer.write((head + "".join(f"{k}: {v}\r\n" for k, v in auth.items()) + "\r\n").encode())
        await writer.drain()
        self.handles.append(writer)
        if wait:
            status = await reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(f"SSE refused: {status!r}")

        async def receive():
            try:
                while line := await reader.readline():
                    if line.startswith(b"data: "):
                        self._arrived(json.loads(line[6:]))
            except Exception:  # noqa: BLE001, S110 - likewise
                pass

        self.tasks.append(asyncio.ensure_future(receive()))

    def open(self, plan: list[tuple[str, dict, int]], batch: int = 50, wait: bool = True) -> float:
        """Open every ``(kind, auth, after)`` of ``plan``, ``batch`` at a time; returns the seconds it took."""

        async def opening():
            for start_at in range(0, len(plan), batch):
                await asyncio.gather(
                    *[
                        self._websocket(auth, after) if kind == "ws" else self._sse(auth, after, wait)
                        for kind, auth, after in plan[start_at : start_at + batch]
                    ]
                )

        begin = time.perf_counter()
        self.run(opening())
        return time.perf_counter() - begin

    def close(self) -> None:
        async def closing():
            for handle in self.handles:
                try:
                    handle.close() if hasattr(handle, "write") else await handle.close()
                except Exception:  # noqa: BLE001, S110 - closed already
                    pass
            for task in self.tasks:
                task.cancel()

        self.run(closing())
        self.loop.call_soon_threadsafe(self.loop.stop)


def notification_created(port: int, auth: dict) -> dict[int, float]:
    status, _, body = call(port, "GET", "/api/v1/notifications/", headers=auth)
    assert status == 200, body
    return {row["id"]: datetime.fromisoformat(row["created_at"]).timestamp() for row in json.loads(body)["results"]}


def hub_round(server: Server, auths: list[dict], count: int) -> dict:
    """``count`` streams open on the hub server, then the measurements."""
    port = server.port
    after = {i: max(notification_created(port, auth), default=0) for i, auth in enumerate(auths)}
    plan = [("sse" if n % 4 == 3 else "ws", auths[n % len(auths)], after[n % len(auths)]) for n in range(count)]
    streams = Streams(port)
    try:
        opened = streams.open(plan)
        time.sleep(1.0)  # the hub has them all
        rss = rss_mib(server.worker_pid())
        times, failures = small_requests(port, auths[0])
        latencies, missing = [], 0
        per_user = {i: sum(1 for n in range(count) if n % len(auths) == i) for i in range(len(auths))}
        for k in range(UPLOADS):
            user = k % len(auths)
            upload(port, auths[user], f"live-{count}-{k}.txt", b"live")
            created = notification_created(port, auths[user])
            newest = max(created)
            deadline = time.monotonic() + 10
            while len(streams.arrivals.get(newest, [])) < per_user[user] and time.monotonic() < deadline:
                time.sleep(0.005)
            arrived = streams.arrivals.get(newest, [])
            missing += per_user[user] - len(arrived)
            latencies += [(moment - created[newest]) * 1000 for moment in arrived]
        return {
            "count": count,
            "open_s": opened,
            "rss": rss,
            "p50": statistics.median(times),
            "p95": percentile(times, 0.95),
            "failures": failures,
            "lat50": statistics.median(latencies) if latencies else float("nan"),
            "lat95": percentile(latencies, 0.95),
            "deliveries": len(latencies),
            "missing": missing,
        }
    finally:
        streams.close()
        time.sleep(1.0)


def thread_round(server: Server, auth: dict, count: int) -> dict:
    """The peer: ``count`` SSE streams on the stock threaded server, each holding a request thread."""
    streams = Streams(server.port)
    try:
        streams.open([("sse", auth, 10**12)] * count, batch=count, wait=False)
        time.sleep(1.0)
        times, failures = small_requests(server.port, auth, count=20, timeout=3)
        return {
            "count": count,
            "p50": statistics.median(times) if times else float("nan"),
            "p95": percentile(times, 0.95),
            "failures": failures,
        }
    finally:
        streams.close()


def run() -> str:
    from tests.factories import make_account

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the client holds a socket per stream
    names = [f"live{n}" for n in range(USERS)]
    for name in names:
        make_account(name, password=PASSWORD)
    hub_server = start("after")
    try:
        auths = [sign_in(hub_server.port, name, PASSWORD) for name in names]
        idle = rss_mib(hub_server.worker_pid())
        rounds = [hub_round(hub_server, auths, count) for count in COUNTS]
    finally:
        hub_server.stop()
    thread_server = start("before")
    try:
        auth = sign_in(thread_server.port, names[0], PASSWORD)
        peers = [thread_round(thread_server, auth, count) for count in (4, 8, 16)]
    finally:
        thread_server.stop()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    most = max(rounds, key=lambda r: r["count"])
    verdict = "pass" if most["count"] >= TARGET_CONNECTIONS and most["p95"] < TARGET_P95_MS else "FAIL"
    lines = [
        "## Live notification streams",
        "",
        "The server `make run` starts (`gunicorn -c locker/gunicorn.conf.py`: 1 worker, 8 threads, SQLite, no Redis)",
        f"with {USERS} users; each row holds that many streams open (three WebSocket for one SSE, spread over the",
        "users) while the client measures. Small request: `GET /api/v1/notifications/?unread=1` with a Bearer token,",
        f"{REQUESTS} in a row on one kept-alive connection. Event latency: from the notification's `created_at`",
        "(written in the upload's transaction) to its arrival, for every stream of the uploading user,",
        f"{UPLOADS} uploads.",
        "Reproduce: `make bench BENCH=live` (`BENCH_LIVE_CONNECTIONS`, `BENCH_LIVE_USERS`).",
        "",
        f"Target: at least {TARGET_CONNECTIONS} connections with small-request p95 under {TARGET_P95_MS:.0f} ms: "
        f"**{verdict}** ({most['count']} streams, p95 {most['p95']:.1f} ms).",
        "",
        "| streams open | time to open them, s | worker RSS, MiB | small request p50 / p95, ms | failed | "
        "event latency p50 / p95, ms | deliveries | missing |",
        "|---:|---:|---:|---|---:|---|---:|---:|",
        f"| 0 (idle, before any) | | {idle:.0f} | | | | | |",
    ]
    for r in rounds:
        latency = f"{r['lat50']:.1f} / {r['lat95']:.1f}" if r["deliveries"] else ""
        lines.append(
            f"| {r['count']} | {r['open_s']:.1f} | {r['rss']:.0f} | {r['p50']:.1f} / {r['p95']:.1f} | {r['failures']} "
            f"| {latency} | {r['deliveries']} | {r['missing']} |"
        )
    lines += [
        "",
        "The peer, a stream per request thread (gunicorn's stock threaded worker, 1 worker, 8 threads, as `make run`",
        "served before the hub; SSE only): 20 small requests, each given 3 s.",
        "",
        "| SSE streams open | small request p50 / p95, ms | failed (no answer within 3 s) |",
        "|---:|---|---:|",
    ]
    for r in peers:
        answered = f"{r['p50']:.1f} / {r['p95']:.1f}" if r["failures"] < 20 else "none answered"
        lines.append(f"| {r['count']} | {answered} | {r['failures']} of 20 |")
    return "\n".join(lines)
