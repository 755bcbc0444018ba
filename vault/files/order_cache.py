"""Remember the name order of a listing between pages, so paging through 10,000 files does not decrypt and sort
10,000 names on every request.

What is remembered is a list of item ids in name order, in this process's memory only (never in Redis, never on
disk), for a few minutes. It is keyed by the user, the listing's parameters and the user's vault generation, a
counter in the cache that every vault write bumps after it commits, so any change re-sorts.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.core.cache import cache
from django.db import transaction

MAX_ENTRIES = 256
TTL_SECONDS = 300
_lock = threading.Lock()
_orders: OrderedDict[tuple, tuple[float, list]] = OrderedDict()


def _generation_key(user_id) -> str:
    return f"vault:generation:{user_id}"


def generation(user_id) -> int:
    return cache.get(_generation_key(user_id), 0)


def bump_after_commit(user_id) -> None:
    """Call inside a vault write's transaction: listings re-sort once it commits."""

    def bump():
        key = _generation_key(user_id)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, None)

    transaction.on_commit(bump)


def get(user_id, params: tuple) -> list | None:
    key = (str(user_id), generation(user_id), params)
    with _lock:
        found = _orders.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        _orders.move_to_end(key)
        return found[1]


def put(user_id, params: tuple, ids: list) -> None:
    key = (str(user_id), generation(user_id), params)
    with _lock:
        _orders[key] = (time.monotonic() + TTL_SECONDS, ids)
        _orders.move_to_end(key)
        while len(_orders) > MAX_ENTRIES:
            _orders.popitem(last=False)
