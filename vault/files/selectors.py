"""Reads of folders, files and versions. Each takes the acting user; another user's ids are simply not found."""

from __future__ import annotations

from django.db.models import QuerySet

from locker.crypto.blind import normalize
from locker.db import one_or_none
from locker.errors import NotFound
from vault import access
from vault.common import is_uuid
from vault.files import order_cache
from vault.models import File, FileVersion, Folder


def folder_list(*, user, parent_id=None) -> QuerySet[Folder]:
    """The live folders in ``parent_id`` (None: the user's own top level; shared folders are listed apart)."""
    if parent_id is None:
        folders = access.items(user, Folder, shared=False).filter(parent_id=None)
    else:
        folders = access.in_folder(user, Folder, parent_id)
    return folders.filter(trashed_at__isnull=True).order_by("created_at", "id")


def folder_get(*, user, folder_id) -> Folder:
    folder = (
        one_or_none(access.items(user, Folder).filter(pk=folder_id, trashed_at__isnull=True))
        if is_uuid(folder_id)
        else None
    )
    if folder is None:
        raise NotFound("No such folder.")
    return folder


def file_list(*, user, folder_id=None, all_folders: bool = False) -> QuerySet[File]:
    if folder_id is not None and not all_folders:
        files = access.in_folder(user, File, folder_id)
    else:  # the top level and "everywhere" are the user's own
        files = access.items(user, File, shared=False)
        files = files if all_folders else files.filter(folder_id=None)
    return (
        files.filter(trashed_at__isnull=True).select_related("current_version__derived").order_by("-modified_at", "id")
    )


def file_get(*, user, file_id, for_download: bool = False) -> File:
    """A live file the user may see, with its current version and folder (and the version's derived data, which
    listings show; ``for_download`` leaves that out: one smaller query before a download's first byte)."""
    if not is_uuid(file_id):
        raise NotFound("No such file.")
    related = ("current_version", "folder") if for_download else ("current_version__derived", "folder")
    live = File.objects.filter(pk=file_id, trashed_at__isnull=True).select_related(*related)
    # The user's own file first: one query, without asking whether anything is shared with them.
    found = one_or_none(live.filter(owner_id=user.pk))
    if found is None and access.receives_shares(user):
        reachable = access.items(user, File).filter(pk=file_id, trashed_at__isnull=True)
        found = one_or_none(reachable.select_related(*related))
    if found is None:
        raise NotFound("No such file.")
    return found


def version_list(*, user, file_id) -> QuerySet[FileVersion]:
    versions = FileVersion.objects.filter(file=file_get(user=user, file_id=file_id))
    return versions.select_related("author").order_by("-number")


def version_get(*, user, file: File, number) -> FileVersion:
    version = one_or_none(FileVersion.objects.filter(file=file, number=number)) if isinstance(number, int) else None
    if version is None:
        raise NotFound("No such version.")
    return version


def all_folders(*, user) -> list[Folder]:
    """Every folder of the user (for computing keys of a listing spanning folders in one query)."""
    return list(Folder.objects.filter(owner=user).only("id", "parent_id", "key_wrapped", "name_sealed", "trashed_at"))


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
