"""Telling the hubs that a user has new notifications: this process's hub directly, the other processes' and
servers' through Redis pub/sub when ``REDIS_URL`` is set. Only the user's id travels (no content); each hub
reads the notifications themselves from the database, so a lost message costs at most one poll interval."""

from __future__ import annotations

import logging
import threading
import time
import uuid

from django.conf import settings

log = logging.getLogger(__name__)

CHANNEL = "locker:notifications"
_client = None


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


def announce(user_id) -> None:
    """After a commit that wrote notifications for ``user_id``: wake the hubs that may stream them."""
    from activity.live.hub import running_hub

    hub = running_hub()
    if hub is not None:
        hub.wake(user_id)
    if settings.REDIS_URL:
        try:
            _redis().publish(CHANNEL, str(user_id))
        except Exception:  # noqa: BLE001 - Redis down: the hubs' database polls still deliver, a little later
            log.warning("live notifications: could not publish to Redis", exc_info=True)


def listen(hub) -> None:
    """With ``REDIS_URL``: a thread that wakes ``hub`` for every user announced by any process."""
    if not settings.REDIS_URL:
        return
    threading.Thread(target=_listen, args=(hub,), name="locker-live-redis", daemon=True).start()


def _listen(hub) -> None:
    while True:
        try:
            pubsub = _redis().pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CHANNEL)
            for message in pubsub.listen():
                try:
                    hub.wake(uuid.UUID(message["data"].decode()))
                except (ValueError, AttributeError, UnicodeDecodeError):
                    continue
        except Exception:  # noqa: BLE001 - reconnect; meanwhile the database polls deliver
            log.warning("live notifications: Redis subscription lost; retrying", exc_info=True)
            time.sleep(1)
