"""Names for the items events point at, for the person reading the log: events hold ids only (no content at rest),
and the names are encrypted, so they are opened at read time with the reader's keys by the app that owns the items
(the vault, chats and accounts register themselves from their ``AppConfig.ready()``; activity never imports
them). Nothing is stored.

An event (or a notification) points at its own item (``object_type``, ``object_id``) and may name others by id in
its data: ``folder`` is the folder an item was created, uploaded or moved into (null for the top level), ``chat``
the chat a message was written in. A namer
is given :class:`Ref` objects, each with an ``object_type`` and an ``object_id``, one per distinct item of a page,
and answers with the names it can open; an item it leaves out gets a neutral word from :mod:`activity.words`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Namer = Callable[[object, list], dict[tuple[str, str], str]]  # (request, refs) -> {(object_type, object_id): name}
_namers: list[Namer] = []

# The keys of an event's data that name another item by id, and the kind of item each one names.
DATA_REFS = {"folder": "folder", "chat": "chat"}


@dataclass(frozen=True)
class Ref:
    """One item a page of events points at: the shape a namer reads (an event or a notification has it too)."""

    object_type: str
    object_id: str


def register(namer: Namer) -> None:
    if namer not in _namers:
        _namers.append(namer)


def refs_of(rows: Iterable) -> list[Ref]:
    """Every distinct item that ``rows`` (events or notifications) point at: their own, and those in their data."""
    refs: dict[Ref, None] = {}
    for row in rows:
        if row.object_type and row.object_id:
            refs[Ref(row.object_type, str(row.object_id))] = None
        data = row.data if isinstance(row.data, dict) else {}
        for key, kind in DATA_REFS.items():
            value = data.get(key)
            if isinstance(value, str) and value:
                refs[Ref(kind, value)] = None
    return list(refs)


def names_for(request, events: Iterable) -> dict[tuple[str, str], str]:
    """The names the reader of ``request`` can open for the items ``events`` point at (others are left out)."""
    refs = refs_of(events)
    names: dict[tuple[str, str], str] = {}
    if not refs:
        return names
    for namer in _namers:
        try:
            names.update(namer(request, refs))
        except Exception:  # noqa: BLE001 - a log page without names beats no log page
            log.exception("activity: naming the objects of a page of events failed")
    return names
