"""WebDAV locks and dead properties in Redis, when several app servers serve one instance (``REDIS_URL`` set).

A client that locks a file through one server must find the lock on the next, whichever server its request
lands on; a property it sets (Windows' file times, say) must read back the same. WsgiDAV ships a Redis lock
storage (``LockStorageRedis``); it is used here under the cache's key prefix and with the full ``REDIS_URL``
(TLS, user names). Dead properties have no Redis manager in WsgiDAV, so :class:`RedisPropertyManager` keeps one
hash per resource (property name → its XML), with WsgiDAV's ``PropertyManager`` interface.
"""

from __future__ import annotations

import redis
from django.conf import settings
from wsgidav import util
from wsgidav.lock_man.lock_storage_redis import LockStorageRedis


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX') or 'locker'}:dav"


def _connect() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


class SharedLockStorage(LockStorageRedis):
    """WsgiDAV's Redis lock storage, connected from ``REDIS_URL``, its keys under this instance's prefix."""

    def __init__(self):
        super().__init__()
        self._redis_prefix = _prefix() + ":{}"
        self._redis_lock_prefix = self._redis_prefix.format("lock:{}")
        self._redis_url2token_prefix = self._redis_prefix.format("URL2TOKEN:{}")

    def open(self):
        self._redis = _connect()


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


class RedisPropertyManager:
    """Dead properties, one Redis hash per resource URL (WsgiDAV's ``PropertyManager`` interface)."""

    def __init__(self):
        self._redis = _connect()
        self._prefix = _prefix() + ":props:"

    def __repr__(self) -> str:
        return self.__class__.__name__

    def _key(self, url: str) -> str:
        return self._prefix + url

    def _urls_under(self, url: str):
        """``url`` and every URL below it that has properties."""
        pattern = _glob_escape(self._key(url)) + "*"
        for key in self._redis.scan_iter(match=pattern, count=1000):
            found = key.decode()[len(self._prefix) :]
            if util.is_equal_or_child_uri(url, found):
                yield found

    def clear(self) -> None:
        """Delete every property (tests)."""
        for key in self._redis.scan_iter(match=_glob_escape(self._prefix) + "*", count=1000):
            self._redis.delete(key)

    def get_properties(self, norm_url, environ=None):
        return [name.decode() for name in self._redis.hkeys(self._key(norm_url))]

    def get_property(self, norm_url, name, environ=None):
        return self._redis.hget(self._key(norm_url), name)

    def write_property(self, norm_url, name, property_value, dry_run=False, environ=None):
        assert norm_url and norm_url.startswith("/") and name and property_value is not None
        if not dry_run:
            self._redis.hset(self._key(norm_url), name, property_value)

    def remove_property(self, norm_url, name, dry_run=False, environ=None):
        if not dry_run:
            self._redis.hdel(self._key(norm_url), name)

    def remove_properties(self, norm_url, environ=None):
        self._redis.delete(self._key(norm_url))

    def copy_properties(self, src_url, dest_url, environ=None):
        values = self._redis.hgetall(self._key(src_url))
        if values:
            with self._redis.pipeline() as pipe:
                pipe.delete(self._key(dest_url))
                pipe.hset(self._key(dest_url), mapping=values)
                pipe.execute()

    def move_properties(self, src_url, dest_url, with_children, environ=None):
        urls = list(self._urls_under(src_url)) if with_children else [src_url]
        with self._redis.pipeline() as pipe:
            for url in urls:
                key = self._key(url)
                if self._redis.exists(key):
                    pipe.rename(key, self._key(dest_url + url[len(src_url) :]))
            pipe.execute()
