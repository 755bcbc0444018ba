"""The two ways a stream is framed: Server-Sent Events and WebSocket (RFC 6455, framed by wsproto).

Each transport gives the bytes of its handshake, of a notification, of a heartbeat and of the end of the
stream, and reads what the client sends (a WebSocket client's pings and close; an SSE client only ever
closes). Notification bodies are the same JSON in both.
"""

from __future__ import annotations

import base64
import binascii
import json

from django.conf import settings
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage
from wsproto.utilities import LocalProtocolError, generate_accept_token

from activity import words
from activity.models import Notification


def notification_body(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "object_type": notification.object_type,
        "object_id": notification.object_id,
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
        # in neutral words ("a file"): a stream holds no keys, so it opens no names (the list API does)
        "summary": words.notification_summary(notification),
    }


def sse_event(notification: Notification) -> bytes:
    return (
        f"id: {notification.pk}\nevent: notification\ndata: {json.dumps(notification_body(notification))}\n\n".encode()
    )


class SSE:
    """``text/event-stream`` on a close-delimited HTTP/1.1 body: the stream ends when the server closes."""

    name = "sse"

    def handshake(self) -> bytes:
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/event-stream; charset=utf-8\r\n"
            "Cache-Control: no-cache\r\n"
            "X-Accel-Buffering: no\r\n"  # nginx: pass each event on at once
            "X-Content-Type-Options: nosniff\r\n"
            "Connection: close\r\n\r\n"
        )
        return head.encode() + f"retry: {settings.LOCKER_STREAM_RETRY_MS}\n\n".encode()

    def notification(self, notification: Notification) -> bytes:
        return sse_event(notification)

    def heartbeat(self) -> bytes:
        return b": heartbeat\n\n"

    def end(self) -> bytes:
        return b""

    def received(self, data: bytes) -> tuple[bytes, bool]:
        """``(bytes to send back, whether the stream is over)`` for bytes from the client: an SSE client has
        nothing to say, so anything is ignored (only its end of the connection counts)."""
        return b"", False


class BadHandshake(ValueError):
    """A WebSocket opening request that RFC 6455 section 4.2.1 refuses; ``status`` 400, or 426 (version)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _tokens(value: str) -> set[str]:
    return {token.strip().lower() for token in value.split(",")}


def websocket_accept(headers) -> str:
    """The ``Sec-WebSocket-Accept`` value for an opening request's headers, or :class:`BadHandshake`."""
    if "websocket" not in _tokens(headers.get("Upgrade", "")):
        raise BadHandshake("A WebSocket request needs 'Upgrade: websocket'.")
    if "upgrade" not in _tokens(headers.get("Connection", "")):
        raise BadHandshake("A WebSocket request needs 'Connection: Upgrade'.")
    if headers.get("Sec-WebSocket-Version", "").strip() != "13":
        raise BadHandshake("Only WebSocket version 13 is spoken.", status=426)
    key = headers.get("Sec-WebSocket-Key", "").strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except (binascii.Error, ValueError):
        raise BadHandshake("Sec-WebSocket-Key must be 16 bytes in base64.") from None
    return generate_accept_token(key.encode()).decode()


class WebSocket:
    """One text message per notification; pings as heartbeats; a close frame (1001 "going away": reconnect) at
    the end. The client may ping and close; its messages are not read (the resume point is in the URL)."""

    name = "ws"

    def __init__(self, accept: str):
        self._accept = accept
        self._ws = Connection(ConnectionType.SERVER)

    def handshake(self) -> bytes:
        return (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {self._accept}\r\n\r\n"
        ).encode()

    def notification(self, notification: Notification) -> bytes:
        return self._send(TextMessage(data=json.dumps(notification_body(notification))))

    def heartbeat(self) -> bytes:
        return self._send(Ping(payload=b"hb"))

    def end(self) -> bytes:
        return self._send(CloseConnection(code=1001, reason="reconnect to resume"))

    def _send(self, event) -> bytes:
        try:
            return self._ws.send(event)
        except LocalProtocolError:  # the connection is closing already
            return b""

    def received(self, data: bytes) -> tuple[bytes, bool]:
        try:
            self._ws.receive_data(data)
            reply, over = b"", False
            for event in self._ws.events():
                if isinstance(event, Ping):
                    reply += self._send(event.response())
                elif isinstance(event, CloseConnection):
                    reply += self._send(event.response())
                    over = True
            return reply, over
        except LocalProtocolError:  # a protocol violation by the client (RemoteProtocolError included)
            return b"", True
