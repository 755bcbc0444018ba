"""The event loop that serves every open stream of one server process.

One thread, one selector: each stream is a non-blocking socket with a buffer of bytes still to send. Request
threads :meth:`Hub.add` streams and :meth:`Hub.wake` users (after a commit, or on a Redis message); the loop
reads the users' new notifications in one query per batch of users and queues their frames. It also reads
the database for every streaming user every ``LOCKER_STREAM_POLL`` seconds (what another process committed,
when there is no Redis to say so), sends heartbeats, and ends streams that reach their time limit, whose
client closed, or that stopped reading (more than :data:`MAX_BUFFERED` bytes waiting).

Nothing lost, nothing twice: each stream starts from the client's last id and remembers the ids it sent
during the last ``LOCKER_STREAM_LOOKBACK`` seconds; the periodic read looks that far back, so a notification
whose transaction committed after one with a higher id (possible on PostgreSQL, where ids are taken before
commit) is still sent, once.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
from collections import defaultdict

from django.conf import settings
from django.db import connection

from activity.live import credentials
from activity.models import Notification
from locker.http import recv_nowait

log = logging.getLogger(__name__)

MAX_BUFFERED = 1 << 20  # bytes waiting for a client that does not read: the stream is ended beyond this
ROWS_PER_READ = 500  # notifications read at once; a longer backlog is read on the next turn of the loop
USERS_PER_READ = 500  # users in one query's IN list


class Stream:
    """One client connection: its socket, transport, resume state and unsent bytes."""

    def __init__(self, sock: socket.socket, user_id, transport, after: int, received: bytes = b"", credential=None):
        self.sock, self.user_id, self.transport = sock, user_id, transport
        self.credential = credential  # rechecked while the stream lasts (activity.live.credentials)
        sock.setblocking(False)  # the loop must never wait on one client
        self.cursor = after  # the highest id sent (or the client's resume point)
        self.floor = after  # ids at or below it are settled: never sent again, never looked for again
        self.recent: dict[int, float] = {}  # ids above the floor sent lately, with when
        self.out = bytearray(transport.handshake())
        self.early = received  # what the client sent beyond its request (a WebSocket frame), read once added
        now = time.monotonic()
        self.deadline = now + settings.LOCKER_STREAM_SECONDS
        self.next_beat = now + settings.LOCKER_STREAM_HEARTBEAT
        self.ending = False  # the end was queued: close once the buffer is sent

    def queue(self, notification: Notification) -> None:
        if notification.pk <= self.floor or notification.pk in self.recent:
            return
        self.out += self.transport.notification(notification)
        self.recent[notification.pk] = time.monotonic()
        self.cursor = max(self.cursor, notification.pk)

    def settle(self, now: float) -> None:
        """Raise the floor over ids sent more than the lookback ago (their stragglers have committed by now)."""
        horizon = now - settings.LOCKER_STREAM_LOOKBACK
        old = [pk for pk, sent in self.recent.items() if sent < horizon]
        for pk in old:
            del self.recent[pk]
        if old:
            self.floor = max(self.floor, max(old))


class Hub:
    def __init__(self):
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._arriving: list[Stream] = []
        self._woken: set = set()
        self._streams: dict[int, Stream] = {}  # by file descriptor
        self._by_user: dict = defaultdict(set)
        self._next_poll = 0.0
        self._next_recheck = time.monotonic() + settings.LOCKER_STREAM_RECHECK
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name="locker-live-hub", daemon=True)
        self.thread.start()

    # From other threads

    def add(self, stream: Stream) -> None:
        with self._lock:
            self._arriving.append(stream)
        self._nudge()

    def wake(self, user_id) -> None:
        """``user_id`` has new notifications (committed): read them now instead of at the next poll."""
        with self._lock:
            self._woken.add(user_id)
        self._nudge()

    def stop(self) -> None:
        """End every stream and the loop (for tests; a server process's hub lives as long as the process)."""
        self._stopping = True
        self._nudge()
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            os.close(self._wake_w)  # here, not in the loop: a nudge racing the loop's end never meets a closed fd

    def count(self) -> int:
        return len(self._streams) + len(self._arriving)

    def _nudge(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # the pipe is full: the loop is waking anyway
        except OSError:
            if not self._stopping:
                raise  # once stopping, the loop may have closed its end of the pipe: there is nothing to wake

    # The loop

    def _run(self) -> None:
        while not self._stopping:
            try:
                self._turn()
            except Exception:  # noqa: BLE001 - the loop must outlive any one failure (a database restart, say)
                log.exception("live notifications: a turn of the loop failed")
                connection.close()
                time.sleep(0.5)
        for stream in list(self._streams.values()):
            self._drop(stream)
        connection.close()
        self._selector.close()
        os.close(self._wake_r)

    def _turn(self) -> None:
        now = time.monotonic()
        timeout = max(0.0, min([self._next_poll - now] + [s.next_beat - now for s in self._streams.values()]))
        for key, mask in self._selector.select(min(timeout, settings.LOCKER_STREAM_HEARTBEAT)):
            if key.data is None:
                self._drain_wake_pipe()
                continue
            stream = key.data
            if mask & selectors.EVENT_READ:
                self._read(stream)
            if mask & selectors.EVENT_WRITE and stream.sock.fileno() in self._streams:
                self._flush(stream)
        woken = self._take_arrivals()
        now = time.monotonic()
        lookback = now >= self._next_poll
        if lookback:  # every streaming user, looking back: what other processes committed, and stragglers
            self._next_poll = now + settings.LOCKER_STREAM_POLL
            for stream in self._streams.values():
                stream.settle(now)
            woken = set(self._by_user)
        if woken:
            self._deliver([user for user in woken if user in self._by_user], lookback)
        if now >= self._next_recheck:
            self._next_recheck = now + settings.LOCKER_STREAM_RECHECK
            self._end_revoked()
        self._beat_end_and_flush(now)

    def _end_revoked(self) -> None:
        """End the streams whose session or app password ended (signed out, revoked, expired, account off)."""
        held = {stream.credential for stream in self._streams.values() if stream.credential}
        if not held:
            return
        valid = credentials.still_valid(held)
        for stream in self._streams.values():
            if stream.credential and stream.credential not in valid and not stream.ending:
                stream.out += stream.transport.end()
                stream.ending = True

    def _take_arrivals(self) -> set:
        """Register the streams added since the last turn; returns the users to read for (theirs and the woken)."""
        with self._lock:
            arriving, self._arriving = self._arriving, []
            woken, self._woken = self._woken, set()
        for stream in arriving:
            self._streams[stream.sock.fileno()] = stream
            self._by_user[stream.user_id].add(stream)
            self._selector.register(stream.sock, selectors.EVENT_READ, stream)
            if stream.early:
                self._reply(stream, stream.early)
            woken.add(stream.user_id)
        return woken

    def _beat_end_and_flush(self, now: float) -> None:
        for stream in list(self._streams.values()):
            if not stream.ending and now >= stream.deadline:
                stream.out += stream.transport.end()
                stream.ending = True
            elif now >= stream.next_beat:
                stream.out += stream.transport.heartbeat()
            if stream.out or stream.ending:
                self._flush(stream)

    def _deliver(self, users: list, lookback: bool) -> None:
        """Queue the unsent notifications of ``users``: above each stream's floor after a poll (``lookback``),
        else above its cursor. A user whose backlog exceeds one read is read again on the next turn."""
        for start in range(0, len(users), USERS_PER_READ):
            batch = users[start : start + USERS_PER_READ]
            streams = [stream for user in batch for stream in self._by_user[user]]
            since = min(stream.floor if lookback else stream.cursor for stream in streams)
            rows = list(Notification.objects.filter(user_id__in=batch, pk__gt=since).order_by("pk")[:ROWS_PER_READ])
            for row in rows:
                for stream in self._by_user.get(row.user_id, ()):
                    stream.queue(row)
            if len(rows) == ROWS_PER_READ:
                with self._lock:
                    self._woken.update(row.user_id for row in rows)
                self._nudge()

    def _drain_wake_pipe(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _read(self, stream: Stream) -> None:
        data = recv_nowait(stream.sock, 65536)
        if data is None:
            return
        if not data:
            self._drop(stream)
            return
        self._reply(stream, data)

    def _reply(self, stream: Stream, data: bytes) -> None:
        reply, over = stream.transport.received(data)
        stream.out += reply
        if over:
            stream.ending = True

    def _flush(self, stream: Stream) -> None:
        try:
            while stream.out:
                sent = stream.sock.send(stream.out)
                del stream.out[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._drop(stream)
            return
        stream.next_beat = time.monotonic() + settings.LOCKER_STREAM_HEARTBEAT
        if stream.ending and not stream.out:
            self._drop(stream)
        elif len(stream.out) > MAX_BUFFERED:
            log.info("live notifications: a client stopped reading; its stream ends")
            self._drop(stream)
        else:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if stream.out else 0)
            self._selector.modify(stream.sock, events, stream)

    def _drop(self, stream: Stream) -> None:
        fd = stream.sock.fileno()
        if self._streams.pop(fd, None) is None:
            return
        self._selector.unregister(stream.sock)
        users = self._by_user[stream.user_id]
        users.discard(stream)
        if not users:
            del self._by_user[stream.user_id]
        try:
            stream.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        stream.sock.close()


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """This process's hub, started on first use (with the Redis listener when ``REDIS_URL`` is set)."""
    global _hub
    if _hub is None:
        with _hub_lock:
            if _hub is None:
                _hub = Hub()
                from activity.live import fanout

                fanout.listen(_hub)
    return _hub


def running_hub() -> Hub | None:
    return _hub
