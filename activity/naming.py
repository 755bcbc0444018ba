"""Names for the items events point at, for the person reading the log: events hold ids only (no content at rest),
and the names are encrypted, so they are opened at read time with the reader's keys by the app that owns the items
(the vault registers itself from its ``AppConfig.ready()``; activity never imports it). Nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

Namer = Callable[[object, list], dict[tuple[str, str], str]]  # (request, events) -> {(object_type, object_id): name}
_namers: list[Namer] = []


def register(namer: Namer) -> None:
    if namer not in _namers:
        _namers.append(namer)


def names_for(request, events: Iterable) -> dict[tuple[str, str], str]:
    """The names the reader of ``request`` can open for the objects of ``events`` (others are left out)."""
    events = [event for event in events if event.object_type and event.object_id]
    names: dict[tuple[str, str], str] = {}
    for namer in _namers:
        try:
            names.update(namer(request, events))
        except Exception:  # noqa: BLE001 - a log page without names beats no log page
            log.exception("activity: naming the objects of a page of events failed")
    return names
