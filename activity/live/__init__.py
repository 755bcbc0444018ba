"""Live notifications: one event loop per server process holds every open stream (WebSocket and SSE).

A stream request is authenticated and checked by an ordinary view in a request thread; the view then takes the
connection from the server (``locker.http.server_detach``) and hands it to the process's :class:`~.hub.Hub`,
and the thread goes back to the pool. The hub writes the handshake, the notifications the client has not
seen (from its resume point), new ones as they are committed, heartbeats, and ends the stream after
``LOCKER_STREAM_SECONDS`` so the client reconnects. It learns of new notifications from ``notify()`` in the
same process at once, from other processes and servers through Redis pub/sub when ``REDIS_URL`` is set, and
in any case by reading the database every ``LOCKER_STREAM_POLL`` seconds. docs/activity.md has the model and
its measurements.
"""
