"""Live notifications through the real server: WebSocket and Server-Sent Events held by the hub of each process.

GIVEN Locker under gunicorn as ``make run`` serves it (one process, or two sharing a database, with and without
Redis), users whose clients hold WebSocket and SSE streams
WHEN another session of the user uploads, a stream is cut and resumed, or another user acts
THEN every client receives each of its user's notifications exactly once, in order, and nothing of anyone else's.
"""

from __future__ import annotations

import base64
import json
import queue
import socket
import threading
import time

import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.served import call, database, serve, sign_in, upload
from tests.test_server import Server

WAIT = 15.0  # seconds for an expected notification: generous, the machine is shared


def notification_ids(port: int, auth: dict, after: int = 0) -> list[int]:
    """The user's notification ids above ``after``, oldest first, as the list endpoint gives them."""
    ids, page = [], 1
    while True:
        status, _, body = call(port, "GET", f"/api/v1/notifications/?page={page}", headers=auth)
        assert status == 200, body
        answer = json.loads(body)
        ids += [row["id"] for row in answer["results"]]
        if not answer["next"]:
            return sorted(i for i in ids if i > after)
        page += 1


def until_listed(port: int, auth: dict, after: int, count: int) -> list[int]:
    deadline = time.monotonic() + WAIT
    while True:
        ids = notification_ids(port, auth, after)
        if len(ids) >= count or time.monotonic() > deadline:
            return ids
        time.sleep(0.1)


class WebSocketClient:
    def __init__(self, port: int, auth: dict, after: int):
        url = f"ws://127.0.0.1:{port}/api/v1/notifications/ws?after={after}"
        self.ws = connect(url, additional_headers=auth, open_timeout=WAIT)

    def take(self, count: int, timeout: float = WAIT) -> list[dict]:
        got, deadline = [], time.monotonic() + timeout
        while len(got) < count:
            try:
                got.append(json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))))
            except TimeoutError:
                break
        return got

    def cut(self) -> None:
        """Drop the connection without a closing handshake (a network failure, as the server sees it)."""
        self.ws.socket.close()

    def close(self) -> None:
        self.ws.close()


class SSEClient:
    """A plain socket reading ``text/event-stream``: events are parsed on a thread into a queue."""

    def __init__(self, port: int, auth: dict, after: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        head = f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: {after}\r\n"
        head += "".join(f"{key}: {value}\r\n" for key, value in auth.items()) + "\r\n"
        self.sock.sendall(head.encode())
        self.events: queue.Queue = queue.Queue()
        self.head = b""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buffer += data
                if not self.head and b"\r\n\r\n" in buffer:
                    self.head, buffer = buffer.split(b"\r\n\r\n", 1)
                while self.head and b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    fields = dict(line.split(": ", 1) for line in block.decode().splitlines() if ": " in line)
                    if fields.get("event") == "notification":
                        self.events.put(json.loads(fields["data"]))
        except OSError:
            pass
        self.events.put(None)  # the stream ended

    def take(self, count: int, timeout: float = WAIT) -> list[dict]:
        got, deadline = [], time.monotonic() + timeout
        while len(got) < count:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event is None:
                break
            got.append(event)
        return got

    def close(self) -> None:
        self.sock.close()


def redis_reachable() -> bool:
    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


# With Redis the database poll is set to 60 s: only Redis can bring another process's notifications in time.
WITH_REDIS = {"REDIS_URL": "redis://127.0.0.1:6379/14", "LOCKER_STREAM_POLL": "60"}


@pytest.fixture(scope="module", params=["one process", "two processes and Redis"])
def deployment(request, tmp_path_factory):
    """``(ports, passwords)``: one server (both ports the same), or two sharing one database and Redis."""
    two = request.param != "one process"
    if two and not redis_reachable():
        pytest.skip("no Redis on 127.0.0.1:6379")
    data_dir = tmp_path_factory.mktemp("live")
    with database() as db:
        env = {**db, **(WITH_REDIS if two else {})}
        first, passwords = serve(data_dir, "dora", "eve", **env)
        second = Server(data_dir, RATELIMIT_ENABLE="0", **env) if two else None
        try:
            yield [first.port, (second or first).port], passwords
        finally:
            if second:
                second.stop()
            first.stop()


def ids(events: list[dict]) -> list[int]:
    return [event["id"] for event in events]


def test_two_websockets_and_an_sse_stream_get_every_upload_once_in_order_across_a_cut(deployment):
    """Clients on the first server (and the second WebSocket on the second, when there are two); the uploads go
    through the second; the cut WebSocket comes back on the first."""
    (port, other_port), passwords = deployment
    streams_auth = sign_in(port, "dora", passwords["dora"])
    start = max(notification_ids(port, streams_auth), default=0)
    first, second, sse = (
        WebSocketClient(port, streams_auth, start),
        WebSocketClient(other_port, streams_auth, start),
        SSEClient(port, streams_auth, start),
    )
    try:
        time.sleep(0.5)  # every hub has its streams (and has read what is there: nothing)
        other_device = sign_in(other_port, "dora", passwords["dora"])  # notified too: a device signed in
        for n in range(3):
            upload(other_port, other_device, f"f{n}.txt", b"x" * n)
        expected = until_listed(port, streams_auth, start, 4)
        assert len(expected) == 4
        assert ids(first.take(4)) == expected
        assert ids(second.take(4)) == expected
        assert ids(sse.take(4)) == expected

        second.cut()  # a forced disconnect; it comes back from the last id it saw
        for n in range(3, 5):
            upload(other_port, other_device, f"f{n}.txt", b"y")
        more = until_listed(port, streams_auth, expected[-1], 2)
        assert len(more) == 2
        second = WebSocketClient(port, streams_auth, expected[-1])
        assert ids(second.take(2)) == more
        assert ids(first.take(2)) == more
        assert ids(sse.take(2)) == more
        for client in (first, second, sse):  # and nothing twice
            assert client.take(1, timeout=1.0) == []
    finally:
        for client in (first, second, sse):
            client.close()


def test_each_stream_carries_only_its_users_notifications(deployment):
    (port, other_port), passwords = deployment
    dora, eve = sign_in(port, "dora", passwords["dora"]), sign_in(port, "eve", passwords["eve"])
    dora_start, eve_start = max(notification_ids(port, dora), default=0), max(notification_ids(port, eve), default=0)
    dora_ws, eve_ws, eve_sse = (
        WebSocketClient(port, dora, dora_start),
        WebSocketClient(port, eve, eve_start),
        SSEClient(port, eve, eve_start),
    )
    try:
        time.sleep(0.5)
        upload(other_port, dora, "dora.txt", b"d")
        upload(other_port, eve, "eve.txt", b"e")
        upload(port, dora, "dora2.txt", b"d")
        dora_ids, eve_ids = until_listed(port, dora, dora_start, 2), until_listed(port, eve, eve_start, 1)
        assert ids(dora_ws.take(len(dora_ids))) == dora_ids
        assert ids(eve_ws.take(len(eve_ids))) == eve_ids
        assert ids(eve_sse.take(len(eve_ids))) == eve_ids
        for client in (dora_ws, eve_ws, eve_sse):
            assert client.take(1, timeout=1.0) == []
        assert not set(dora_ids) & set(eve_ids)
    finally:
        for client in (dora_ws, eve_ws, eve_sse):
            client.close()


def test_an_app_password_opens_both_streams(deployment):
    """The sync client's credential (HTTP Basic with an app password) works as a Bearer token does."""
    (port, _), passwords = deployment
    auth = sign_in(port, "eve", passwords["eve"])
    body = json.dumps({"name": "sync"})
    status, _, answer = call(
        port, "POST", "/api/v1/auth/app-passwords/", body, {**auth, "Content-Type": "application/json"}
    )
    assert status == 201, answer
    secret = base64.b64encode(f"eve:{json.loads(answer)['password']}".encode()).decode()
    basic = {"Authorization": f"Basic {secret}"}
    start = max(notification_ids(port, auth), default=0)
    ws, sse = WebSocketClient(port, basic, start), SSEClient(port, basic, start)
    try:
        upload(port, auth, "seen-by-sync.txt", b"s")
        expected = until_listed(port, auth, start, 1)
        assert ids(ws.take(len(expected))) == expected
        assert ids(sse.take(len(expected))) == expected
    finally:
        ws.close()
        sse.close()
    wrong = {"Authorization": "Basic " + base64.b64encode(b"eve:not-it").decode()}
    assert call(port, "GET", "/api/v1/notifications/stream", headers=wrong)[0] == 401


def test_the_websocket_handshake_is_checked_and_needs_credentials(deployment):
    (port, _), passwords = deployment
    auth = sign_in(port, "dora", passwords["dora"])
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    path = "/api/v1/notifications/ws"
    status, _, body = call(port, "GET", path, headers={**upgrade, "Sec-WebSocket-Version": "13"})
    assert status == 401, body
    status, headers, body = call(port, "GET", path, headers={**auth, **upgrade, "Sec-WebSocket-Version": "8"})
    assert (status, json.loads(body)["code"]) == (426, "bad_websocket_request")
    status, _, body = call(port, "GET", path, headers={**auth, "Sec-WebSocket-Version": "13"})
    assert (status, json.loads(body)["code"]) == (400, "bad_websocket_request")
    bad_key = {**auth, **upgrade, "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "short"}
    assert call(port, "GET", path, headers=bad_key)[0] == 400
    assert call(port, "GET", path + "?after=x", headers={**auth, **upgrade, "Sec-WebSocket-Version": "13"})[0] == 400


def test_a_stream_ends_at_its_time_limit_and_the_client_resumes(tmp_path):
    with database() as db:
        server, passwords = serve(tmp_path, "dora", LOCKER_STREAM_SECONDS="1", LOCKER_STREAM_HEARTBEAT="1", **db)
        try:
            stream_ends_on_time(server, passwords)
        finally:
            server.stop()


def stream_ends_on_time(server, passwords) -> None:
    port, auth = server.port, sign_in(server.port, "dora", passwords["dora"])
    ws = WebSocketClient(port, auth, 0)
    assert len(ws.take(1)) == 1  # the sign-in
    with pytest.raises(ConnectionClosed) as closed:
        ws.ws.recv(timeout=WAIT)
    assert closed.value.rcvd.code == 1001
    sse = SSEClient(port, auth, 0)
    assert len(sse.take(1)) == 1
    assert sse.events.get(timeout=WAIT) is None  # the server closed it


def test_without_redis_two_server_processes_deliver_each_others_notifications_by_polling(tmp_path):
    with database() as db:
        a, passwords = serve(tmp_path, "dora", **db)
        b = Server(tmp_path, RATELIMIT_ENABLE="0", **db)
        try:
            auth = sign_in(a.port, "dora", passwords["dora"])
            start = max(notification_ids(a.port, auth), default=0)
            on_a, on_b = WebSocketClient(a.port, auth, start), SSEClient(b.port, auth, start)
            upload(b.port, auth, "via-b.txt", b"b")
            upload(a.port, auth, "via-a.txt", b"a")
            expected = until_listed(a.port, auth, start, 2)
            for client in (on_a, on_b):
                assert ids(client.take(2, timeout=10)) == expected
                client.close()
        finally:
            b.stop()
            a.stop()


def test_a_stream_ends_when_its_session_or_app_password_does(tmp_path):
    with database() as db:
        server, passwords = serve(tmp_path, "dora", LOCKER_STREAM_RECHECK="1", **db)
        try:
            port = server.port
            body = json.dumps({"username": "dora", "password": passwords["dora"]})
            status, _, answer = call(port, "POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
            tokens = json.loads(answer)
            auth = {"Authorization": f"Bearer {tokens['access']}"}
            other = sign_in(port, "dora", passwords["dora"])
            made = call(
                port,
                "POST",
                "/api/v1/auth/app-passwords/",
                json.dumps({"name": "sync"}),
                {**other, "Content-Type": "application/json"},
            )
            app_password = json.loads(made[2])
            basic = {"Authorization": "Basic " + base64.b64encode(f"dora:{app_password['password']}".encode()).decode()}
            ws, sse, sync = (
                WebSocketClient(port, auth, 10**9),
                SSEClient(port, auth, 10**9),
                SSEClient(port, basic, 10**9),
            )
            ended = call(
                port,
                "POST",
                "/api/v1/auth/logout",
                json.dumps({"refresh": tokens["refresh"]}),
                {**auth, "Content-Type": "application/json"},
            )
            assert ended[0] == 204, ended
            with pytest.raises(ConnectionClosed):
                ws.ws.recv(timeout=WAIT)
            assert sse.events.get(timeout=WAIT) is None  # ended by the server
            assert call(port, "GET", "/healthz")[0] == 200 and sync.take(1, timeout=1.5) == []  # still open
            revoked = call(port, "DELETE", f"/api/v1/auth/app-passwords/{app_password['id']}/", headers=other)
            assert revoked[0] == 204, revoked
            assert sync.events.get(timeout=WAIT) is None
        finally:
            server.stop()
