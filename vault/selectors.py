"""Reads of the vault. Each takes the acting user; another user's ids are simply not found."""

from __future__ import annotations

from django.db.models import Count, F, Max, Q, QuerySet

from locker.crypto.blind import normalize
from locker.db import one_or_none
from locker.errors import NotFound
from vault import kinds, order_cache
from vault.models import File, FileVersion, Folder, Note, SearchToken, TagIndex
from vault.search import matching_items
from vault.services import _is_uuid


def folder_list(*, user, parent_id=None) -> QuerySet[Folder]:
    return Folder.objects.filter(owner=user, parent_id=parent_id, trashed_at__isnull=True).order_by("created_at", "id")


def folder_get(*, user, folder_id) -> Folder:
    folder = (
        one_or_none(Folder.objects.filter(owner=user, pk=folder_id, trashed_at__isnull=True))
        if _is_uuid(folder_id)
        else None
    )
    if folder is None:
        raise NotFound("No such folder.")
    return folder


def file_list(*, user, folder_id=None, all_folders: bool = False) -> QuerySet[File]:
    files = File.objects.filter(owner=user, trashed_at__isnull=True).select_related("current_version__derived")
    if not all_folders:
        files = files.filter(folder_id=folder_id)
    return files.order_by("-modified_at", "id")


def file_get(*, user, file_id) -> File:
    found = (
        one_or_none(
            File.objects.filter(owner=user, pk=file_id, trashed_at__isnull=True).select_related(
                "current_version__derived", "folder"
            )
        )
        if _is_uuid(file_id)
        else None
    )
    if found is None:
        raise NotFound("No such file.")
    return found


def version_list(*, user, file_id) -> QuerySet[FileVersion]:
    return FileVersion.objects.filter(file=file_get(user=user, file_id=file_id)).order_by("-number")


def version_get(*, user, file: File, number) -> FileVersion:
    version = one_or_none(FileVersion.objects.filter(file=file, number=number)) if isinstance(number, int) else None
    if version is None:
        raise NotFound("No such version.")
    return version


def trash_list(*, user) -> list[Folder | File]:
    """Trash entries (items trashed directly, not their contents), newest first."""
    folders = list(Folder.objects.filter(owner=user, trashed_with=F("pk")).select_related("parent"))
    files = list(File.objects.filter(owner=user, trashed_with=F("pk")).select_related("folder", "current_version"))
    notes = list(Note.objects.filter(owner=user, trashed_with=F("pk")))
    return sorted([*folders, *files, *notes], key=lambda item: item.trashed_at, reverse=True)


def all_folders(*, user) -> list[Folder]:
    """Every folder of the user (for computing keys of a listing spanning folders in one query)."""
    return list(Folder.objects.filter(owner=user).only("id", "parent_id", "key_wrapped", "name_sealed", "trashed_at"))


def search_kinds() -> dict[str, int]:
    """kind name -> index code, for every registered kind (``vault.kinds``)."""
    return {kind.name: kind.code for kind in kinds.all_kinds()}


def search(*, user, keys, query: str, kinds: list[str] | None = None, narrow=None) -> SearchResults:
    """Live items of every registered kind matching every word of ``query``: best match first, then most recent.

    Ranking reads only ids and dates; whole rows are loaded a page at a time. Each result:
    ``{"kind", "item", "score", "words"}``. Trashed items are not found. ``narrow(kind_name, queryset)``, when
    given, may filter each kind's candidate queryset further (the listing filters).
    """
    from vault import kinds as registry

    described = [registry.get(name) for name in kinds] if kinds else registry.all_kinds()
    words, matches = matching_items(
        owner_id=user.pk, keys=keys.search, query=query, kinds=[kind.code for kind in described]
    )
    ranked = []
    for kind in described:
        hits = {m["item_id"]: m["hits"] for m in matches if m["kind"] == kind.code}
        if hits:
            candidates = kind.rows(user).filter(pk__in=list(hits))
            if narrow is not None:
                candidates = narrow(kind.name, candidates)
            live = candidates.values_list("pk", kind.date_field)
            ranked.extend((-hits[pk], -modified.timestamp(), str(pk), kind.name, pk) for pk, modified in live)
    ranked.sort()
    return SearchResults(user, [(kind, pk, -score) for score, _, _, kind, pk in ranked], words)


class SearchResults:
    """Ranked search results that load their rows only for the slice a page asks for (one query per kind)."""

    def __init__(self, user, ranked: list[tuple[str, object, int]], words: list[str]):
        self._user, self._ranked, self._words = user, ranked, words

    def __len__(self) -> int:
        return len(self._ranked)

    def count(self) -> int:
        return len(self._ranked)

    def __iter__(self):
        return iter(self[0 : len(self)])

    def __getitem__(self, index):
        chosen = self._ranked[index] if isinstance(index, slice) else [self._ranked[index]]
        rows = {}
        for kind in kinds.all_kinds():
            ids = [pk for name, pk, _ in chosen if name == kind.name]
            if ids:
                found = kind.model.objects.filter(owner=self._user, pk__in=ids)
                if kind.select_related:
                    found = found.select_related(*kind.select_related)
                rows.update({(kind.name, row.pk): row for row in found})
        results = [
            {"kind": kind, "item": rows[kind, pk], "score": score, "words": self._words}
            for kind, pk, score in chosen
            if (kind, pk) in rows
        ]
        return results if isinstance(index, slice) else results[0]


def _live_items_q(user) -> Q:
    return (
        Q(kind=SearchToken.Kind.FILE, item_id__in=File.objects.filter(owner=user, trashed_at__isnull=True).values("pk"))
        | Q(
            kind=SearchToken.Kind.FOLDER,
            item_id__in=Folder.objects.filter(owner=user, trashed_at__isnull=True).values("pk"),
        )
        | Q(
            kind=SearchToken.Kind.NOTE,
            item_id__in=Note.objects.filter(owner=user, trashed_at__isnull=True).values("pk"),
        )
    )


def tag_list(*, user, keys) -> list[dict]:
    """The user's tags with how many live items carry each, most used first.

    Counted on the tag index (blind tokens), named by decrypting one sealed name per tag.
    """
    rows = (
        TagIndex.objects.filter(owner=user)
        .filter(_live_items_q(user))
        .values("token")
        .annotate(count=Count("id"), sealed=Max("tag_sealed"))
    )
    tags = [{"tag": keys.search.open_tag(user.pk, row["token"], row["sealed"]), "count": row["count"]} for row in rows]
    return sorted(tags, key=lambda t: (-t["count"], t["tag"].casefold()))


def tagged_item_ids(*, user, keys, tag: str, kind: int) -> QuerySet:
    """Ids of the user's items of ``kind`` carrying ``tag`` (case and accents folded), as a subquery."""
    return TagIndex.objects.filter(owner=user, kind=kind, token=keys.search.tag_token(tag)).values("item_id")


ORDERINGS = {"name", "-name", "size", "-size", "modified", "-modified", "created", "-created"}


def folder_subtree_ids(*, user, folder_id) -> list:
    """``folder_id`` and every live folder below it."""
    ids, frontier = [folder_id], [folder_id]
    while frontier:
        frontier = list(
            Folder.objects.filter(owner=user, parent_id__in=frontier, trashed_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        ids.extend(frontier)
    return ids


def order_files(files: QuerySet[File], *, keys, ordering: str, cache_key: tuple | None = None):
    """Order a file queryset. Names are encrypted, so ``name`` decrypts the names of the matching files and sorts
    them in memory (one query; about 15 µs a file); the order is remembered for the next pages (``order_cache``)
    under ``cache_key`` until the vault changes. Returns rows in order, loaded a page at a time."""
    if ordering in {"name", "-name"}:
        ids = order_cache.get(keys.owner_id, cache_key) if cache_key is not None else None
        if ids is None:
            rows = list(files.select_related(None).only("id", "owner_id", "folder_id", "key_wrapped", "name_sealed"))
            named = sorted(rows, key=lambda f: (normalize(keys.file_name(f)), str(f.pk)), reverse=ordering == "-name")
            ids = [f.pk for f in named]
            if cache_key is not None:
                order_cache.put(keys.owner_id, cache_key, ids)
        return RowsInOrder(files, ids)
    field = {"size": "size", "modified": "modified_at", "created": "created_at"}[ordering.lstrip("-")]
    return files.order_by(f"{'-' if ordering.startswith('-') else ''}{field}", "id")


class RowsInOrder:
    """A sequence of rows in a given id order that loads only the slice a page asks for (one query a page)."""

    def __init__(self, queryset: QuerySet, ids: list):
        self._queryset, self._ids = queryset, ids

    def __len__(self) -> int:
        return len(self._ids)

    def count(self) -> int:
        return len(self._ids)

    def __getitem__(self, index):
        ids = self._ids[index] if isinstance(index, slice) else [self._ids[index]]
        by_id = {row.pk: row for row in self._queryset.filter(pk__in=ids)}
        rows = [by_id[pk] for pk in ids if pk in by_id]
        return rows if isinstance(index, slice) else rows[0]
