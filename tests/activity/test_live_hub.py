"""The hub on its own, over socket pairs (its client end read by the test), and the stream views in-process.

GIVEN a hub holding streams, and notifications committed in the order PostgreSQL allows (a lower id committed
after a higher one) THEN each is sent once; a client that stops reading is let go; a stream's own end is sent.
Views under a server that cannot hand a connection over: SSE falls back to a request thread, a WebSocket
is refused with a clear 503; a browser's session may open one from Locker's own pages only.
"""

from __future__ import annotations

import socket
import time

import pytest
from django.test import Client

from activity.live import hub as hub_module
from activity.live.hub import Hub, Stream
from activity.live.transports import SSE
from activity.models import Notification
from tests.vault.conftest import bearer

pytestmark = pytest.mark.django_db(transaction=True)  # the hub reads from its own thread: rows must be committed

UPGRADE = {
    "HTTP_UPGRADE": "websocket",
    "HTTP_CONNECTION": "Upgrade",
    "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
    "HTTP_SEC_WEBSOCKET_VERSION": "13",
}


@pytest.fixture
def hub(settings):
    settings.LOCKER_STREAM_POLL = 0.05
    settings.LOCKER_STREAM_LOOKBACK = 1.0
    running = Hub()
    yield running
    running.stop()


def read_until(sock: socket.socket, needle: bytes, timeout: float = 10) -> bytes:
    received, deadline = b"", time.monotonic() + timeout
    sock.settimeout(0.1)
    while needle not in received and time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        if not data:
            break
        received += data
    return received


def notification(user, pk=None) -> Notification:
    return Notification.objects.create(pk=pk, user=user, kind=Notification.Kind.UPLOAD_FINISHED)


def test_a_lower_id_committed_after_a_higher_one_is_still_sent_once(hub, account):
    server_end, client_end = socket.socketpair()
    hub.add(Stream(server_end, account.user.pk, SSE(), after=0))
    first = notification(account.user)
    assert f"id: {first.pk}\n".encode() in read_until(client_end, f"id: {first.pk}\n".encode())
    high = notification(account.user, pk=first.pk + 10)
    hub.wake(account.user.pk)
    assert f"id: {high.pk}\n".encode() in read_until(client_end, f"id: {high.pk}\n".encode())
    low = notification(account.user, pk=first.pk + 5)  # as a transaction that took its id earlier would commit
    text = read_until(client_end, f"id: {low.pk}\n".encode())  # found by the next poll's look back
    assert f"id: {low.pk}\n".encode() in text
    time.sleep(1.5)  # several polls, past the look-back: nothing is sent twice
    later = read_until(client_end, b"never", timeout=0.5)
    assert b"id: " not in later


def test_a_client_that_stops_reading_is_let_go(hub, account, monkeypatch):
    monkeypatch.setattr(hub_module, "MAX_BUFFERED", 4096)
    server_end, client_end = socket.socketpair()
    server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client_end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hub.add(Stream(server_end, account.user.pk, SSE(), after=0))
    Notification.objects.bulk_create(
        [Notification(user=account.user, kind=Notification.Kind.UPLOAD_FINISHED) for _ in range(500)]
    )
    hub.wake(account.user.pk)
    deadline = time.monotonic() + 10
    while hub.count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.count() == 0  # dropped, never blocking the loop; the client resumes from its last id


def test_a_stream_ends_on_time(hub, account, settings):
    settings.LOCKER_STREAM_SECONDS = 0.3
    server_end, client_end = socket.socketpair()
    hub.add(Stream(server_end, account.user.pk, SSE(), after=10**9))
    text = read_until(client_end, b"never", timeout=3)
    assert text.startswith(b"HTTP/1.1 200 OK\r\n") and b"retry: " in text
    assert hub.count() == 0


def test_without_a_server_that_hands_over_connections_a_websocket_is_refused_clearly(account):
    response = bearer(account).get("/api/v1/notifications/ws", **UPGRADE)
    assert response.status_code == 503
    assert response.json()["code"] == "websocket_unavailable"


def test_a_browser_session_opens_a_websocket_from_lockers_own_pages_only(account):
    browser = Client()
    assert browser.post("/login", {"username": account.user.username, "password": account.password}).status_code == 302
    foreign = browser.get("/api/v1/notifications/ws", HTTP_ORIGIN="https://evil.example", **UPGRADE)
    assert (foreign.status_code, foreign.json()["code"]) == (403, "cross_origin")
    own = browser.get("/api/v1/notifications/ws", HTTP_ORIGIN="http://testserver", **UPGRADE)
    assert own.status_code == 503  # past the origin check; this test server cannot hand the connection over
