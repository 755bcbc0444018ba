"""Slow clients and kept-alive connections against the server ``make run`` starts, before and after.

Two servers, one after the other, on this benchmark's data dir, both on 127.0.0.1 only:

* **before**: the command ``make run`` used until ``locker/gunicorn.conf.py``: gunicorn's gthread worker,
  1 worker, 8 threads, ``--timeout 120``, gunicorn's defaults otherwise (keep-alive 2 s).
* **after**: ``gunicorn -c locker/gunicorn.conf.py`` as ``make run`` and the image serve now, with its
  defaults (header bound 20 s, body bound 60 s, keep-alive 75 s).

Each scenario opens its connections, waits half a second, then asks ``/healthz`` on a new connection
three times (each given 3 s; a timeout ends the series) and reports the slowest answer. Every loop is
bounded in count and time; everything is closed before the next scenario.
"""

from __future__ import annotations

import http.client
import os
import resource
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from bench.processes import VENV_BIN, children, free_port, rss_mib

ROOT = Path(__file__).resolve().parent.parent
SLOW_COUNTS = [int(n) for n in os.environ.get("BENCH_SERVER_SLOW", "7,8,64,900,1100").split(",")]
PROBES, PROBE_TIMEOUT = 3, 3.0
TRICKLE_EVERY = 2.0  # seconds between two bytes of a trickling head
POLL_ROUNDS, POLL_GAP = 15, 2.0
IDLE_KEEPALIVE = [900, 1500]  # the second is beyond worker_connections (1000)
PARTIAL_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


class Server:
    def __init__(self, name: str, command: list[str], port: int):
        from django.conf import settings

        self.name, self.port = name, port
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "locker.settings",
            "LOCKER_DATA_DIR": str(settings.LOCKER_DATA_DIR),
            "SECRET_KEY": settings.SECRET_KEY,
            "JWT_SIGNING_KEY": settings.JWT_SIGNING_KEY,
            "LOCKER_HTTPS": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "WEB_BIND": f"127.0.0.1:{port}",
        }
        env = {k: v for k, v in env.items() if not (k.startswith("WEB_") and k != "WEB_BIND")}
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if healthz(port) is not None:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{name}: gunicorn did not answer")

    def worker_pid(self) -> int:
        kids = children(self.proc.pid)
        return kids[0] if kids else self.proc.pid

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def start(name: str) -> Server:
    port = free_port()
    gunicorn = str(VENV_BIN / "gunicorn")
    if name == "before":
        command = [gunicorn, "locker.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", "1", "--threads", "8", "--timeout", "120", "--no-control-socket"]
    else:
        command = [gunicorn, "-c", "locker/gunicorn.conf.py"]
    return Server(name, command, port)


def healthz(port: int, timeout: float = PROBE_TIMEOUT) -> float | None:
    """Seconds /healthz took on a new connection, or None when it did not answer within ``timeout``."""
    begin = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        return time.monotonic() - begin if response.status == 200 else None
    except OSError:
        return None
    finally:
        conn.close()


def probe(port: int) -> float | None:
    """The slowest of PROBES answers of /healthz, or None at the first one that timed out."""
    slowest = 0.0
    for _ in range(PROBES):
        took = healthz(port)
        if took is None:
            return None
        slowest = max(slowest, took)
    return slowest


def connect_many(port: int, count: int, first_bytes: bytes) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if first_bytes:
            sock.sendall(first_bytes)
        socks.append(sock)
    return socks


def close_all(socks: list) -> None:
    for sock in socks:
        sock.close()
    time.sleep(1)  # the server notices and frees what they held


class Trickle:
    """One byte to each socket every TRICKLE_EVERY seconds, for at most 60 s."""

    def __init__(self, socks: list[socket.socket]):
        self.socks, self.done = socks, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        for _ in range(int(60 / TRICKLE_EVERY)):
            if self.done.wait(TRICKLE_EVERY):
                return
            for sock in self.socks:
                try:
                    sock.send(b"a")
                except OSError:
                    pass

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)


def slow_heads(port: int, count: int, trickle: bool) -> float | None:
    socks = connect_many(port, count, PARTIAL_HEAD)
    trickler = Trickle(socks) if trickle else None
    try:
        time.sleep(0.5)
        return probe(port)
    finally:
        if trickler:
            trickler.stop()
        close_all(socks)


def seconds_until_closed(port: int, count: int, limit: float = 30.0) -> float | None:
    """How long the server takes to close ``count`` trickling partial heads (None: not within ``limit``)."""
    socks = connect_many(port, count, PARTIAL_HEAD)
    trickler, begin, open_socks = Trickle(socks), time.monotonic(), set(socks)
    try:
        while open_socks and time.monotonic() - begin < limit:
            for sock in list(open_socks):
                sock.settimeout(0.01)
                try:
                    if not sock.recv(4096):
                        open_socks.discard(sock)
                except TimeoutError:
                    pass
                except OSError:
                    open_socks.discard(sock)
            time.sleep(0.2)
        return None if open_socks else time.monotonic() - begin
    finally:
        trickler.stop()
        close_all(socks)


STALLED_BODY = (
    b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{"
)


def stalled_bodies(port: int, count: int) -> float | None:
    socks = connect_many(port, count, STALLED_BODY)
    try:
        time.sleep(0.5)
        return probe(port)
    finally:
        close_all(socks)


def seconds_until_answered(port: int, count: int, limit: float = 75.0) -> float | None:
    """With ``count`` stalled bodies open, how long until /healthz is answered (None: not within ``limit``)."""
    socks = connect_many(port, count, STALLED_BODY)
    begin = time.monotonic()
    try:
        while time.monotonic() - begin < limit:
            if healthz(port, timeout=min(5.0, max(0.1, limit - (time.monotonic() - begin)))) is not None:
                return time.monotonic() - begin
        return None
    finally:
        close_all(socks)


def lingering_clients(port: int, count: int) -> float | None:
    """Clients that ask for ``Connection: close``, then neither read nor close."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    socks = connect_many(port, count, head)
    try:
        time.sleep(0.5)
        return probe(port)
    finally:
        close_all(socks)


def polling(port: int) -> tuple[int, int]:
    """A client asking /healthz on one connection, sleeping POLL_GAP after each answer, while another
    client keeps the server busy: (disconnects seen, rounds)."""
    done = threading.Event()

    def background():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for _ in range(5000):  # at most 100 s
            if done.wait(0.02):
                break
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                conn.close()
        conn.close()

    busy = threading.Thread(target=background, daemon=True)
    busy.start()
    conn, disconnects = http.client.HTTPConnection("127.0.0.1", port, timeout=5), 0
    try:
        for _ in range(POLL_ROUNDS):
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                disconnects += 1
                conn.close()
            time.sleep(POLL_GAP)
    finally:
        done.set()
        busy.join(timeout=10)
        conn.close()
    return disconnects, POLL_ROUNDS


def idle_keepalive(server: Server, count: int, idle: float = 5.0) -> tuple[float | None, int, float]:
    """``count`` connections that each make a request and stay idle: (slowest /healthz meanwhile, how many
    of them serve another request after ``idle`` seconds, worker memory they added in MiB)."""
    pid = server.worker_pid()
    before = rss_mib(pid)
    conns = []
    try:
        for _ in range(count):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                pass
            conns.append(conn)
        added = rss_mib(pid) - before
        slowest = probe(server.port)
        time.sleep(idle)
        reused = 0
        for conn in conns:
            sock = conn.sock
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                reused += sock is not None and conn.sock is sock
            except (OSError, http.client.HTTPException):
                conn.close()
        return slowest, reused, added
    finally:
        for conn in conns:
            conn.close()
        time.sleep(1)


def ms(seconds: float | None) -> str:
    return f"no answer in {PROBE_TIMEOUT:.0f} s" if seconds is None else f"{seconds * 1000:.0f} ms"


def measure(name: str) -> dict:
    server, rows = start(name), {}
    try:
        for count in SLOW_COUNTS:
            rows[f"{count} slow heads, one byte every {TRICKLE_EVERY:.0f} s"] = ms(slow_heads(server.port, count, True))
            rows[f"{count} slow heads, silent after a partial header"] = ms(slow_heads(server.port, count, False))
            print(name, count, "slow heads", flush=True)
        closed = seconds_until_closed(server.port, 100)
        label = "100 trickling heads: closed by the server after"
        rows[label] = "not within 30 s" if closed is None else f"{closed:.1f} s"
        for count in (7, 8):
            rows[f"{count} request bodies stalled after 1 byte"] = ms(stalled_bodies(server.port, count))
        answered = seconds_until_answered(server.port, 8)
        label = "8 request bodies stalled after 1 byte: /healthz answered after"
        rows[label] = "not within 75 s" if answered is None else f"{answered:.1f} s"
        for count in (5, 16):
            rows[f"{count} clients keeping their end open after `Connection: close`"] = ms(
                lingering_clients(server.port, count)
            )
        print(name, "bodies and lingering", flush=True)
        disconnects, rounds = polling(server.port)
        rows[f"client polling on one connection, {POLL_GAP:.0f} s after each answer"] = (
            f"{disconnects} disconnects in {rounds} requests"
        )
        for count in IDLE_KEEPALIVE:
            slowest, reused, added = idle_keepalive(server, count)
            rows[f"{count} idle kept-alive connections: /healthz"] = ms(slowest)
            rows[f"{count} idle kept-alive connections: reused after 5 s idle"] = f"{reused} of {count}"
            rows[f"{count} idle kept-alive connections: worker memory added"] = f"{added:.1f} MiB"
        print(name, "keep-alive", flush=True)
    finally:
        server.stop()
    return rows


def run() -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(IDLE_KEEPALIVE + SLOW_COUNTS) + 512
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    before, after = measure("before"), measure("after")
    lines = [
        "## Server: slow clients and kept-alive connections",
        "",
        "The slowest of three `/healthz` requests on new connections while the connections in the first column",
        "are open (each given 3 s), on the server `make run` started before `locker/gunicorn.conf.py`",
        "(gunicorn's gthread, 8 threads, keep-alive 2 s) and on the one it starts now (the same threads; request",
        "heads read on the worker's event loop, bounded by 20 s; bodies silent for 60 s freed; keep-alive 75 s).",
        "All on 127.0.0.1. Reproduce: `make bench BENCH=server`; docs/deployment.md says what it means.",
        "",
        "| connections | before | after |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {before[label]} | {after[label]} |" for label in before]
    return "\n".join(lines)
