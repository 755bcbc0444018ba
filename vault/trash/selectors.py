"""Reads of the trash."""

from __future__ import annotations

from django.db.models import F

from vault.models import File, Folder, Note


def trash_list(*, user) -> list[Folder | File]:
    """Trash entries (items trashed directly, not their contents), newest first."""
    folders = list(Folder.objects.filter(owner=user, trashed_with=F("pk")).select_related("parent"))
    files = list(File.objects.filter(owner=user, trashed_with=F("pk")).select_related("folder", "current_version"))
    notes = list(Note.objects.filter(owner=user, trashed_with=F("pk")))
    return sorted([*folders, *files, *notes], key=lambda item: item.trashed_at, reverse=True)
