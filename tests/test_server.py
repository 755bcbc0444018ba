"""The HTTP server as `make run` and the Docker image start it: gunicorn with ``locker/gunicorn.conf.py``.

A real gunicorn runs on a free loopback port with the project's configuration file; the tests only set
environment overrides (the port, a throwaway data dir, and 2-second header and body bounds to stay fast).
"""

import http.client
import json
import os
import resource
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CONFIG = "locker/gunicorn.conf.py"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
HEADER_TIMEOUT = 2  # seconds (WEB_HEADER_TIMEOUT); the configured default is longer
BODY_TIMEOUT = 2  # seconds (WEB_BODY_TIMEOUT), likewise
ANSWER_WITHIN = 5.0  # generous: the machine is shared


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_config(env: dict) -> dict:
    """The settings the configuration file gives gunicorn under ``env``."""
    with mock.patch.dict(os.environ, env, clear=True):
        return runpy.run_path(str(ROOT / CONFIG))


class Server:
    def __init__(self, data_dir: Path, *, open_files: int | None = None, **overrides: str):
        self.port = free_port()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
            and not key.startswith("WEB_")
        }
        self.env.update(
            LOCKER_DATA_DIR=str(data_dir),
            LOCKER_HTTPS="0",
            ALLOWED_HOSTS="127.0.0.1",
            SECRET_KEY="test-server-" + "s" * 40,
            JWT_SIGNING_KEY="test-server-" + "j" * 40,
            WEB_BIND=f"127.0.0.1:{self.port}",
            **overrides,
        )
        self.config = server_config(self.env)
        self.log = data_dir / "gunicorn.log"

        def limit_open_files():
            if open_files:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [GUNICORN, "-c", CONFIG],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=limit_open_files,  # runs in the child before exec
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                healthz(self.port, timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not answer: {self.log.read_text()[-2000:]}")

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def healthz(port: int, timeout: float = ANSWER_WITHIN) -> float:
    """Seconds /healthz took on a new connection; raises OSError when it does not answer within ``timeout``."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        assert response.status == 200, response.read()
        response.read()
    finally:
        conn.close()
    return time.monotonic() - start


def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server ends ``sock`` (EOF, reset, or a 408 answer then EOF) before ``deadline``."""
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return False
        except OSError:
            return True
        if not data:
            return not received or received.startswith(b"HTTP/1.1 408")
        received += data
    return False


def closed_by_server_after(sock: socket.socket, timeout: float = ANSWER_WITHIN) -> bytes:
    """Everything the server sends on ``sock`` until it closes it (bounded by ``timeout``)."""
    received, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            break
        received += data
    return received


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(
        tmp_path_factory.mktemp("server"),
        WEB_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        WEB_BODY_TIMEOUT=str(BODY_TIMEOUT),
        # as many stalled sign-ins as threads (32) come from one address: above the per-address limit of 30/m
        LOCKER_RATE_LOGIN_IP="1000/m",
    )
    yield running
    running.stop()


def test_make_run_and_the_image_serve_with_the_same_configuration():
    makefile, dockerfile = (ROOT / "Makefile").read_text(), (ROOT / "Dockerfile").read_text()
    assert f"WEB_BIND=$(HOST):$(PORT) $(VENV)/bin/gunicorn -c {CONFIG}" in makefile
    assert f"exec gunicorn -c {CONFIG}" in dockerfile and "WEB_BIND=0.0.0.0:8000" in dockerfile
    config = server_config({})
    assert config["bind"] == ["127.0.0.1:8000"] and config["wsgi_app"] == "locker.wsgi:application"
    assert (config["workers"], config["threads"]) == (1, 32)
    overridden = server_config({"WEB_BIND": "127.0.0.1:9000", "WEB_WORKERS": "2", "WEB_THREADS": "16"})
    assert (overridden["bind"], overridden["workers"], overridden["threads"]) == (["127.0.0.1:9000"], 2, 16)


def test_slow_request_heads_do_not_starve_the_server(server):
    """GIVEN twice as many connections as threads that send part of a request head, half of them one byte
    every 0.3 s and half of them nothing more, WHEN /healthz is asked meanwhile THEN it answers at once,
    and the server closes every slow connection once the header bound has passed."""
    slow = 2 * server.config["threads"] + 2
    socks, stop = [], threading.Event()
    try:
        for _ in range(slow):
            sock = server.connect()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            socks.append(sock)
        opened = time.monotonic()

        def trickle():
            for _ in range(100):  # 30 s at most
                if stop.wait(0.3):
                    return
                for sock in socks[::2]:
                    try:
                        sock.send(b"a")
                    except OSError:
                        pass

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        time.sleep(0.5)  # every slow connection has been accepted and has sent bytes
        for _ in range(3):
            assert healthz(server.port) < ANSWER_WITHIN
        deadline = opened + HEADER_TIMEOUT + 4
        assert all(closed_by_server(sock, deadline) for sock in socks)
    finally:
        stop.set()
        for sock in socks:
            sock.close()


def test_a_head_in_pieces_and_a_slow_body_within_bounds_are_served(server):
    """The bound is on the request head only: a head that arrives in pieces within it is served, and so is a
    request whose body takes longer than the header bound to arrive."""
    with server.connect() as sock:
        for piece in (b"GET /healthz HT", b"TP/1.1\r\nHost: 127.0", b".0.1\r\nConnection: close\r", b"\n\r\n"):
            sock.sendall(piece)
            time.sleep(0.3)
        assert closed_by_server_after(sock).startswith(b"HTTP/1.1 200")
    body = b"username=someone&password=" + b"p" * 30
    with server.connect() as sock:
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        for i in range(0, len(body), 8):  # about 2.5 s, beyond the header bound
            sock.sendall(body[i : i + 8])
            time.sleep(0.35)
        # Django read the whole body (CSRF check of a form) and answered: 403 without a CSRF token.
        assert closed_by_server_after(sock).startswith(b"HTTP/1.1 403")


def test_pipelined_requests_are_answered_in_order(server):
    """Two requests in one write, then a third whose head arrives later on the same connection."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    with server.connect() as sock:
        sock.sendall(head + b"\r\n" + head + b"X-Part: ")
        time.sleep(0.5)
        sock.sendall(b"two\r\n\r\n" + head + b"Connection: close\r\n\r\n")
        assert closed_by_server_after(sock).count(b"HTTP/1.1 200 OK") == 3


def test_a_kept_alive_connection_is_reused_after_an_idle_gap(server):
    """A client polling every few seconds on one connection (3 s here, beyond gunicorn's own 2-second default)
    gets every answer on that same connection instead of "Remote end closed connection without response"."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=ANSWER_WITHIN)
    try:
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        first.read()
        assert first.status == 200 and first.getheader("Connection", "keep-alive").lower() != "close"
        sock = conn.sock
        time.sleep(3)
        conn.request("GET", "/healthz")
        again = conn.getresponse()
        again.read()
        assert again.status == 200 and conn.sock is sock
    finally:
        conn.close()


def test_idle_kept_alive_connections_hold_no_thread(server):
    """GIVEN four times as many idle kept-alive connections as threads THEN /healthz answers at once, and
    each idle connection still serves its next request 3 s later."""
    idle = []
    try:
        for _ in range(4 * server.config["threads"]):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=ANSWER_WITHIN)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            idle.append((conn, conn.sock))
        assert healthz(server.port) < ANSWER_WITHIN
        time.sleep(3)
        for conn, sock in idle:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            assert response.status == 200 and conn.sock is sock
    finally:
        for conn, _ in idle:
            conn.close()


def test_oversized_request_heads_are_refused(server):
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Big: " + b"b" * 70_000)
        assert closed_by_server_after(sock).startswith(b"HTTP/1.1 431")


def test_clients_keeping_their_end_open_after_connection_close_do_not_stall_the_server(server):
    """GIVEN clients that ask for ``Connection: close`` and then neither read nor close THEN other requests are
    still answered at once (gunicorn's own worker lingered up to 2 s on each of them, one after the other, on
    the loop that serves everybody), and each of them got its answer and the server's end of the connection."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    socks = []
    try:
        for _ in range(2 * server.config["threads"]):
            sock = server.connect()
            sock.sendall(head)
            socks.append(sock)
        time.sleep(0.5)
        for _ in range(3):
            assert healthz(server.port) < ANSWER_WITHIN
        for sock in socks:
            assert closed_by_server_after(sock).startswith(b"HTTP/1.1 200")
    finally:
        for sock in socks:
            sock.close()


def test_stalled_request_bodies_free_their_threads(server):
    """GIVEN as many requests as threads whose body stops arriving after its first byte WHEN the body bound
    passes THEN each is answered 408 ``request_timeout`` and /healthz, queued behind them, is answered."""
    stalled = server.config["threads"]
    head = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    socks = []
    try:
        for _ in range(stalled):
            sock = server.connect()
            sock.sendall(head)
            socks.append(sock)
        time.sleep(0.5)  # every thread waits for a body
        assert healthz(server.port, timeout=BODY_TIMEOUT + ANSWER_WITHIN) < BODY_TIMEOUT + ANSWER_WITHIN
        for sock in socks:
            answer = closed_by_server_after(sock)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == "request_timeout"
    finally:
        for sock in socks:
            sock.close()


def test_a_connection_flood_neither_ends_the_worker_nor_locks_out_new_clients(tmp_path):
    """GIVEN a server allowed 300 open files (many systems start services with 1024) WHEN 400 clients connect
    at once and stay connected after their answer THEN every one is answered, the worker never restarts,
    and a new client is answered at once: the configuration fits the connections into the limit, and a
    full worker closes its longest-idle kept-alive connections instead of refusing new ones."""
    server = Server(tmp_path, open_files=300)
    socks = []
    try:
        for _ in range(400):
            socks.append(server.connect())
        for sock in socks:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for sock in socks:
            sock.settimeout(ANSWER_WITHIN)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert healthz(server.port) < ANSWER_WITHIN
        assert server.log.read_text().count("Booting worker") == 1
    finally:
        for sock in socks:
            sock.close()
        server.stop()
