"""gunicorn's threaded worker, with request heads read by its event loop instead of its threads.

Stock ``gthread`` (gunicorn 27) hands a connection to a thread as soon as its first byte arrives; the
thread then blocks until the request line and headers are complete, with no time limit. Eight clients that
send part of a head and stop (or trickle a byte now and then) hold all eight threads, and the server stops
answering. It also closes every ``Connection: close`` connection on its event loop with a blocking linger
of up to 2 s, so a few clients that keep their end open stall every other connection meanwhile.

This worker keeps gthread's design (one event loop for waiting connections, a thread pool for requests)
and moves those waits onto the event loop, where a waiting connection costs a file descriptor and no
thread:

* The request head is gathered with non-blocking reads; a thread gets the connection only once the head
  is complete, so parsing it never waits on the client. A head not complete within ``header_timeout``
  seconds (counted from the connection's acceptance, or from the first byte of a request on a kept-alive
  connection) is answered 408 and closed; one larger than ``max_head_bytes`` is answered 431. The body is
  not bounded by it: an upload of several GiB takes as long as it needs.
* The lingering close after a response with ``Connection: close`` (RFC 9112 section 9.6).

Two more bounds, for what still needs a thread:

* ``body_timeout``: a blocking read of a request body that gets no byte for this many seconds fails
  (``SO_RCVTIMEO``), so a client that stalls or vanishes mid-upload frees its thread. It bounds the idle
  time between two reads, never a whole transfer; responses are not affected.
* At ``worker_connections`` the worker closes its longest-idle kept-alive connections to keep accepting
  (as nginx does) instead of refusing new clients, so a long keep-alive timeout cannot lock anyone out;
  running out of file descriptors pauses accepting briefly instead of ending the worker.

One addition for the application: ``environ[locker.http.WRITE_NOW]``, a callable that sends a bytes-like
buffer (a ``memoryview`` of a buffer the application reuses) before it returns, as the server would send a
piece of the response body. WSGI takes ``bytes`` only, so a download that decrypts into one reused buffer
would otherwise copy every mebibyte into a new ``bytes`` object: about 7% of a download's CPU
(``make bench BENCH=transfer``). Servers without it get ``bytes`` as before.

And ``environ[locker.http.DETACH]``: a callable that takes the connection out of the server's hands for a
long-lived stream (``activity.live``): it returns the socket and any bytes the client sent beyond the
request, and the worker then neither answers, nor keeps alive, nor closes it; the thread goes back to the
pool at once. A thousand open streams then cost a thousand sockets in one event loop, not a thousand
threads.

Only plain HTTP/1.1 is handled this way; with TLS, HTTP/2 prior knowledge, the PROXY protocol or uWSGI
configured, connections take gthread's own path unchanged. ``locker/gunicorn.conf.py`` sets the bounds.
"""

import errno
import selectors
import socket
import struct
import threading
import time
from functools import partial

from gunicorn import util
from gunicorn.http.wsgi import Response
from gunicorn.workers.gthread import TConn, ThreadWorker

from locker.http import DETACH, WRITE_NOW, recv_nowait

REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def head_complete(buf: bytearray, scanned: int) -> bool:
    """Whether ``buf`` holds a whole request head, or enough for gunicorn's parser to reject it at once.

    ``scanned`` bytes were looked at before (a head arrives in pieces; each byte is scanned about once).
    Complete means the blank line that ends the head; a bare LF also ends the wait, because the parser
    rejects it (RFC 9112 section 2.2) without reading further.
    """
    if buf.find(b"\r\n\r\n", max(0, scanned - 3)) >= 0:
        return True
    lf = buf.find(b"\n", scanned)
    while lf >= 0:
        if lf == 0 or buf[lf - 1] != 0x0D:
            return True
        lf = buf.find(b"\n", lf + 1)
    return False


def write_now(response: Response, data) -> None:
    """Send ``data`` (any bytes-like object) as part of ``response``'s body before returning, keeping the
    response's own accounting, as ``Response.write`` does for ``bytes``: headers first, never past the
    declared length, nothing for a response without a body (HEAD, 204, 304)."""
    if response.req.method == "HEAD" or response.status_code in (204, 304):
        response.write(b"")  # sends the headers; the body is omitted by gunicorn's own rules
        return
    response.send_headers()
    if response.response_length is not None:
        data = memoryview(data)[: max(response.response_length - response.sent, 0)]
    if len(data):
        response.sent += len(data)
        util.write(response.sock, data, response.chunked)


class HeadBufferingWorker(ThreadWorker):
    """gthread that hands a thread only complete request heads (see the module docstring)."""

    header_timeout = 20.0  # seconds to receive a request head
    body_timeout = 60.0  # seconds a request body may stay silent between two reads (0: unbounded)
    max_head_bytes = 64 * 1024  # nginx refuses heads beyond 32 KiB by default
    linger_timeout = 2.0  # gunicorn's own lingering close: at most 2 s and 64 KiB drained
    linger_max_bytes = 64 * 1024
    make_room_batch = 32  # idle kept-alive connections closed at once when full (nginx: 32)
    accept_pause = 0.5  # seconds without accepting after running out of file descriptors

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cfg = self.cfg
        self.heads_first = not (
            cfg.is_ssl
            or cfg.proxy_protocol != "off"
            or cfg.protocol != "http"
            or cfg.http2_cleartext in ("prior-knowledge", "both")
        )
        # Connections whose head is being read, and connections being closed, each with its deadline.
        # Every entry gets "now + a fixed delay", so insertion order is deadline order.
        self.heads: dict[TConn, float] = {}
        self.lingering: dict[TConn, float] = {}
        self.accept_paused_until = 0.0
        self.current = threading.local()  # the connection each request thread is handling

    # Accepting

    def load_wsgi(self):
        super().load_wsgi()
        app = self.wsgi

        def wsgi(environ, start_response):
            response = getattr(start_response, "__self__", None)
            if isinstance(response, Response):
                environ[WRITE_NOW] = partial(write_now, response)
                conn = getattr(self.current, "conn", None)
                if conn is not None and not self.cfg.is_ssl:
                    environ[DETACH] = partial(self.detach, conn, response)
            return app(environ, start_response)

        self.wsgi = wsgi

    def handle_request(self, req, conn):
        self.current.conn = conn  # for detach(), which the application reaches through the environ
        try:
            return super().handle_request(req, conn)
        finally:
            self.current.conn = None

    def detach(self, conn: TConn, response: Response) -> tuple[socket.socket, bytes]:
        """Give ``conn`` to the application: ``(socket, bytes read beyond the request)``. The response object is
        marked as sent and closing, so gunicorn writes nothing more on it; finish_request forgets the connection
        without closing it. The socket is left non-blocking."""
        conn.detached = True
        response.headers_sent = True
        response.chunked = False
        response.force_close()
        conn.sock.setblocking(False)
        return conn.sock, conn.parser.unreader.take_buffered()

    def accept(self, listener):
        if not self.heads_first:
            super().accept(listener)
            return
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno in OUT_OF_DESCRIPTORS:
                self.out_of_descriptors(exc)
            elif exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        if self.body_timeout > 0:
            seconds = int(self.body_timeout)
            timeval = struct.pack("ll", seconds, int((self.body_timeout - seconds) * 1_000_000))
            client_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        self.await_head(conn)

    def out_of_descriptors(self, exc: OSError) -> None:
        """Free idle kept-alive connections, or else stop accepting for a moment (gthread raises, ending the worker)."""
        if self.make_room():
            return
        self.log.warning("Cannot accept a connection (%s): not accepting for %.1f s", exc, self.accept_pause)
        self.accept_paused_until = time.monotonic() + self.accept_pause
        super().set_accept_enabled(False)

    def set_accept_enabled(self, enabled):
        if self.heads_first:
            if not enabled and self.alive and self.make_room():
                enabled = self.nr_conns < self.worker_connections
            if enabled and time.monotonic() < self.accept_paused_until:
                enabled = False
        super().set_accept_enabled(enabled)

    def make_room(self) -> bool:
        """Close up to ``make_room_batch`` of the longest-idle kept-alive connections; whether any was."""
        closed = 0
        while self.keepalived_conns and closed < self.make_room_batch:
            conn = self.keepalived_conns.popleft()
            self.unregister(conn)
            self.nr_conns -= 1
            conn.close()
            closed += 1
        return closed > 0

    # Reading request heads on the event loop

    def await_head(self, conn: TConn) -> None:
        """Gather ``conn``'s next request head without a thread; hand it to one once complete."""
        if not conn.initialized:
            conn.init()  # plain HTTP/1.1: only makes the parser (no TLS handshake, no preface to sniff)
        conn.head = bytearray(conn.parser.unreader.take_buffered())  # a pipelined request's first bytes
        conn.head_scanned = 0
        if head_complete(conn.head, 0):
            self.dispatch(conn)
            return
        conn.head_scanned = len(conn.head)
        conn.sock.setblocking(False)
        self.heads[conn] = time.monotonic() + self.header_timeout
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_head_readable, conn))
        self.on_head_readable(conn, conn.sock)  # its bytes are often there already

    def on_head_readable(self, conn: TConn, _sock) -> None:
        data = recv_nowait(conn.sock, max(1, self.max_head_bytes + 1 - len(conn.head)))
        if data is None:
            return
        if not data:  # the client went away
            self.forget_head(conn)
            self.close_conn(conn)
            return
        conn.head += data
        if head_complete(conn.head, conn.head_scanned):
            self.forget_head(conn)
            self.dispatch(conn)
        elif len(conn.head) > self.max_head_bytes:
            self.forget_head(conn)
            self.refuse(conn, HEAD_TOO_LARGE)
        else:
            conn.head_scanned = len(conn.head)

    def forget_head(self, conn: TConn) -> None:
        del self.heads[conn]
        self.unregister(conn)

    def dispatch(self, conn: TConn) -> None:
        conn.parser.unreader.unread(bytes(conn.head))
        conn.head = None
        self.enqueue_req(conn)

    def on_client_socket_readable(self, conn, client):
        if not self.heads_first:
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.await_head(conn)

    # After a request

    def finish_request(self, conn, fs):
        if getattr(conn, "detached", False):
            self.nr_conns -= 1  # the application owns the socket now
            return
        if not self.heads_first:
            super().finish_request(conn, fs)
            return
        try:
            keepalive = not fs.cancelled() and fs.result() is True
        except Exception:  # noqa: BLE001 - gthread closes the connection on any error; so does this
            keepalive = False
        if keepalive and conn.parser.unreader.buf.getvalue():
            self.await_head(conn)  # the client pipelined its next request
        elif keepalive:
            super().finish_request(conn, fs)  # back to the event loop until the next request
        else:
            self.linger(conn)

    def linger(self, conn: TConn) -> None:
        """Close after a response (RFC 9112 section 9.6): send FIN, drain what the client still sends for a
        moment, then close, without blocking the event loop as gthread's close does."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
        except OSError:
            self.close_conn(conn)
            return
        conn.drained = 0
        self.lingering[conn] = time.monotonic() + self.linger_timeout
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_linger_readable, conn))

    def on_linger_readable(self, conn: TConn, _sock) -> None:
        data = recv_nowait(conn.sock, 4096)
        if data is None:
            return
        conn.drained += len(data)
        if not data or conn.drained >= self.linger_max_bytes:
            del self.lingering[conn]
            self.unregister(conn)
            self.close_conn(conn)

    def refuse(self, conn: TConn, response: bytes) -> None:
        try:
            conn.sock.send(response)  # non-blocking, best effort: the client is not reading, or is gone
        except OSError:
            pass
        self.linger(conn)

    # Deadlines, checked by gthread's loop at least once a second

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn in self.expired(self.heads, now):
            self.unregister(conn)
            if conn.head:
                self.refuse(conn, REQUEST_TIMEOUT)
            else:
                self.close_conn(conn)  # never sent a byte: closed as an idle connection is
        for conn in self.expired(self.lingering, now):
            self.unregister(conn)
            self.close_conn(conn)
        if self.heads_first and self.alive and self.nr_conns >= self.worker_connections:
            self.make_room()

    def _cap_keepalive(self, deadline):
        """On stopping, requests still arriving get as long as kept-alive connections do."""
        super()._cap_keepalive(deadline)
        for conn, due in self.heads.items():
            self.heads[conn] = min(due, deadline)

    @staticmethod
    def expired(deadlines: dict, now: float) -> list:
        due = []
        for conn, deadline in deadlines.items():
            if deadline > now:
                break
            due.append(conn)
        for conn in due:
            del deadlines[conn]
        return due

    def unregister(self, conn: TConn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass  # not registered, or already closed

    def close_conn(self, conn: TConn) -> None:
        self.nr_conns -= 1
        conn.close()
