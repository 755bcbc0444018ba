"""Reads of the vault. Each takes the acting user; another user's ids are simply not found."""

from __future__ import annotations

from django.db.models import F, QuerySet

from locker.errors import NotFound
from vault.models import File, FileVersion, Folder, Note, SearchToken
from vault.search import matching_items
from vault.services import _is_uuid


def folder_list(*, user, parent_id=None) -> QuerySet[Folder]:
    return Folder.objects.filter(owner=user, parent_id=parent_id, trashed_at__isnull=True).order_by("created_at", "id")


def folder_get(*, user, folder_id) -> Folder:
    folder = (
        Folder.objects.filter(owner=user, pk=folder_id, trashed_at__isnull=True).first()
        if _is_uuid(folder_id)
        else None
    )
    if folder is None:
        raise NotFound("No such folder.")
    return folder


def file_list(*, user, folder_id=None, all_folders: bool = False) -> QuerySet[File]:
    files = File.objects.filter(owner=user, trashed_at__isnull=True).select_related("current_version")
    if not all_folders:
        files = files.filter(folder_id=folder_id)
    return files.order_by("-modified_at", "id")


def file_get(*, user, file_id) -> File:
    found = (
        File.objects.filter(owner=user, pk=file_id, trashed_at__isnull=True)
        .select_related("current_version", "folder")
        .first()
        if _is_uuid(file_id)
        else None
    )
    if found is None:
        raise NotFound("No such file.")
    return found


def version_list(*, user, file_id) -> QuerySet[FileVersion]:
    return FileVersion.objects.filter(file=file_get(user=user, file_id=file_id)).order_by("-number")


def version_get(*, user, file: File, number) -> FileVersion:
    version = FileVersion.objects.filter(file=file, number=number).first() if isinstance(number, int) else None
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


SEARCH_KINDS = {"file": SearchToken.Kind.FILE, "folder": SearchToken.Kind.FOLDER, "note": SearchToken.Kind.NOTE}


def search(*, user, keys, query: str, kinds: list[str] | None = None) -> list[dict]:
    """Live files, folders and notes matching every word of ``query``: best match first, then most recent.

    Each result: ``{"kind", "item", "score", "words"}``. Trashed items are not found.
    """
    wanted = [SEARCH_KINDS[k] for k in (kinds or SEARCH_KINDS)]
    words, matches = matching_items(owner_id=user.pk, keys=keys.search, query=query, kinds=wanted)
    hits = {(m["kind"], m["item_id"]): m["hits"] for m in matches}
    file_ids = [item_id for kind, item_id in hits if kind == SearchToken.Kind.FILE]
    folder_ids = [item_id for kind, item_id in hits if kind == SearchToken.Kind.FOLDER]
    note_ids = [item_id for kind, item_id in hits if kind == SearchToken.Kind.NOTE]
    results = (
        [
            {"kind": "file", "item": f, "score": hits[SearchToken.Kind.FILE, f.pk]}
            for f in File.objects.filter(owner=user, pk__in=file_ids, trashed_at__isnull=True)
        ]
        + [
            {"kind": "folder", "item": f, "score": hits[SearchToken.Kind.FOLDER, f.pk]}
            for f in Folder.objects.filter(owner=user, pk__in=folder_ids, trashed_at__isnull=True)
        ]
        + [
            {"kind": "note", "item": n, "score": hits[SearchToken.Kind.NOTE, n.pk]}
            for n in Note.objects.filter(owner=user, pk__in=note_ids, trashed_at__isnull=True)
        ]
    )
    for result in results:
        result["words"] = words
    results.sort(key=lambda r: (-r["score"], -r["item"].modified_at.timestamp(), str(r["item"].pk)))
    return results
