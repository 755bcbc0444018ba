"""Request facts that services record (client address and user agent), and what the server offers a response."""

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> "RequestMeta":
        return cls(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:256])


def whole_number(value: str | None) -> int | None:
    """``value`` as a whole number if it is one in ASCII digits ("12"), else None. ``str.isdigit`` also says yes to
    "²" (a header's Latin-1 byte 0xB2), which ``int`` then refuses: a 500 where a 400 belongs."""
    if value and value.isascii() and value.isdigit():
        return int(value)
    return None


def client_ip(request) -> str | None:
    """The client's address: the TCP peer, or behind ``LOCKER_PROXY_HOPS`` trusted reverse proxies the address
    the outermost of them saw.

    Each proxy appends the address of its own peer to ``X-Forwarded-For``, so with ``n`` trusted proxies the
    ``n``-th entry from the right is the last one a client cannot forge; entries further left are the client's
    own words (``X-Forwarded-For: anything`` must not buy a fresh rate-limit bucket). A header with fewer
    entries than hops, or an entry that is not an address, means the request did not come through every
    proxy: the TCP peer is used then.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = getattr(settings, "LOCKER_PROXY_HOPS", 0)
    if hops <= 0:
        return remote
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [entry for entry in entries if entry]
    if len(entries) < hops:
        return remote
    candidate = entries[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


WRITE_NOW = "locker.write_now"  # set in the environ by locker.gunicorn_worker
DETACH = "locker.detach"  # likewise


def server_write_now(request) -> Callable | None:
    """The server's ``write_now(buffer)`` for a GET's response body, when it offers one: it sends a bytes-like
    buffer before returning, so a body can go out of a buffer that is reused at once, with no ``bytes`` copy
    (see ``locker.gunicorn_worker``). None under other servers, and for requests whose body is omitted."""
    return request.META.get(WRITE_NOW) if request.method == "GET" else None


def server_detach(request) -> Callable | None:
    """The server's ``detach()`` when it offers one: it takes the connection out of the server's hands and returns
    ``(socket, bytes read beyond the request)``, for a long-lived stream served by an event loop of the
    application's own (``activity.live``). None under other servers."""
    return request.META.get(DETACH)


def recv_nowait(sock, size: int) -> bytes | None:
    """Up to ``size`` bytes from a non-blocking socket: None when none has come yet, ``b""`` when the peer closed
    or the connection failed (an event loop treats both as the end)."""
    try:
        return sock.recv(size)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""
