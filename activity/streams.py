"""Server-Sent Events from a request thread, for servers that cannot hand a connection to the hub (``activity.live``).

A stream sends every notification with an id above the client's last one (``Last-Event-ID``, or ``?after=``),
oldest first, then waits for new ones: it looks for them in the database (so it sees what any process or server
committed) every ``LOCKER_STREAM_POLL`` seconds, sends a comment line as a heartbeat every
``LOCKER_STREAM_HEARTBEAT`` seconds so that proxies keep an idle connection, and ends after
``LOCKER_STREAM_SECONDS``; the client reconnects with the last id it saw (``retry`` tells it how soon), so
nothing is lost or sent twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from django.conf import settings

from activity.live.transports import sse_event
from activity.models import Notification

BATCH = 100


def notification_events(*, user_id, after: int, clock=time.monotonic, sleep=time.sleep) -> Iterator[str]:
    """The text of the stream: a retry hint, then the notifications after ``after`` as they come."""
    yield f"retry: {settings.LOCKER_STREAM_RETRY_MS}\n\n"
    deadline = clock() + settings.LOCKER_STREAM_SECONDS
    quiet_since = clock()
    while clock() < deadline:
        rows = list(Notification.objects.filter(user_id=user_id, pk__gt=after).order_by("pk")[:BATCH])
        for row in rows:
            after = row.pk
            yield sse_event(row).decode()
        if rows:
            quiet_since = clock()
            continue
        if clock() - quiet_since >= settings.LOCKER_STREAM_HEARTBEAT:
            quiet_since = clock()
            yield ": heartbeat\n\n"
        sleep(settings.LOCKER_STREAM_POLL)
