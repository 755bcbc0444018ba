"""One description of each kind of item the vault indexes: file, folder, note, and the kinds of the apps above it.

Search ranking and result rows (``vault.search.selectors.search``), search-result serialization, reindex
(``vault.search.reindex``) and account wipe (``vault.trash.services.vault_wipe``) read this registry, so a
kind cannot be forgotten by one of them. The vault never imports an app above it: such an app describes its
kinds here from its ``AppConfig.ready()`` (chats registers ``message``). The data export has its own registry
of sections (``vault.export.services.register_section``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class SearchView:
    """What a search result shows of an item, and where it opens."""

    name: str
    parent: str | None
    url: str
    tags: list[str] = field(default_factory=list)
    snippet: str | None = None  # plain text around the first matched word (search.snippets.window)
    parent_name: str | None = None  # the folder it is in, as the reader sees it (None: the top level, "Files")
    parent_url: str | None = None  # the page of that folder


@dataclass(frozen=True)
class ItemKind:
    name: str  # "file": the ``kind`` clients see
    code: int  # ``SearchToken.Kind`` value of its index rows
    model: type[models.Model]
    describe: Callable[[Any, Any, list[str]], SearchView]  # (keys, item, query words) -> what a result shows
    reindex: Callable[[Any, Any, Callable[[], None]], int]  # (user, keys, step) -> items indexed again
    live: Mapping[str, Any] = field(default_factory=lambda: {"trashed_at__isnull": True})  # rows that count
    date_field: str = "modified_at"  # recency, for ranking and date filters
    folder_field: str | None = "folder_id"  # narrows search to folders; None: not in folders
    select_related: tuple[str, ...] = ()  # what ``describe`` reads beside the row
    scan_defer: tuple[str, ...] = ()  # what a scan of many rows leaves unread (describe without words needs none)
    wipe: Callable[[Any], None] | None = None  # (user): delete the user's items (account deletion, admin reset)
    # (keys, item) -> its name and tags as the reader opens them, for a scan of many items (else ``describe``)
    texts: Callable[[Any, Any], list[str]] | None = None
    # (keys, items) -> {item id: its content words}: what a share's recipient searches beside names and tags
    content_words: Callable[[Any, list], dict] | None = None

    def rows(self, user) -> models.QuerySet:
        """The user's live items of this kind."""
        return self.model.objects.filter(owner=user, **self.live)


_KINDS: dict[str, ItemKind] = {}


def register(kind: ItemKind) -> None:
    """Describe a kind (idempotent: ``ready()`` may run twice in tests)."""
    known = _KINDS.get(kind.name)
    if known is not None and known.code != kind.code:
        raise ValueError(f"kind {kind.name} is already registered with code {known.code}")
    _KINDS[kind.name] = kind


def all_kinds() -> list[ItemKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.code)


def get(name: str) -> ItemKind:
    return _KINDS[name]


def names() -> list[str]:
    return [kind.name for kind in all_kinds()]


def by_code() -> dict[int, ItemKind]:
    return {kind.code: kind for kind in all_kinds()}


def each_row(queryset: models.QuerySet, batch: int = 500) -> Iterator[models.Model]:
    """Rows of a queryset in batches (for reindex and export over many items)."""
    return queryset.iterator(chunk_size=batch)


def reindex_rows(rows, step: Callable[[], None], *, read: Callable, write: Callable) -> int:
    """Re-index each row: ``read(row)`` decrypts (and extracts) with no lock held, then ``write(row, value)``
    replaces its index rows in a short transaction of its own. Returns how many rows were re-indexed."""
    from django.db import transaction

    count = 0
    for row in rows if isinstance(rows, list) else each_row(rows):
        value = read(row)
        with transaction.atomic():
            write(row, value)
        count += 1
        step()
    return count
