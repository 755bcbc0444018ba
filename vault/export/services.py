"""``GET /api/v1/me/data``: everything a user has, as one JSON document streamed in constant memory.

Rows are read in batches (``QuerySet.iterator``), decrypted one at a time and written out as JSON fragments,
so 100,000 messages never sit in memory together. ``?since=<ISO date-time>`` keeps only what was created or
changed since then (an incremental pull). File bytes are not inlined: each file has its content link.

The document's sections come from a registry (:func:`register_section`): the vault writes folders, files,
notes, shares and activity; apps above it add theirs from their ``AppConfig.ready()`` (chats: ``chats``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from activity.models import Event
from vault.keys import VaultKeys
from vault.models import File, Folder, Note, Share
from vault.notes import services as notes

BATCH = 500


@dataclass(frozen=True)
class Section:
    """One top-level entry of the document: ``write(user, keys, request, changed)`` yields its JSON text,
    where ``changed(queryset, field="changed_at")`` keeps the rows changed since ``?since`` (any change: a rename or
    new tags too, which leave ``modified_at`` alone)."""

    label: str
    order: int
    write: Callable[..., Iterator[str]]


_SECTIONS: dict[str, Section] = {}


def register_section(label: str, order: int, write: Callable[..., Iterator[str]]) -> None:
    _SECTIONS[label] = Section(label, order, write)


def dump(value) -> str:
    return _dump(value)


def array(items: Iterator[dict]) -> Iterator[str]:
    """A JSON array written item by item."""
    return _array(items)


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _array(items: Iterator[dict]) -> Iterator[str]:
    yield "["
    first = True
    for item in items:
        yield ("" if first else ",") + _dump(item)
        first = False
    yield "]"


def stream_user_data(*, user, keys: VaultKeys, request, since: datetime | None = None) -> Iterator[str]:
    """Yield the JSON document piece by piece."""
    folders = list(
        Folder.objects.filter(owner=user).only("id", "parent_id", "key_wrapped", "name_sealed", "trashed_at")
    )
    keys.preload(folders)

    def changed(qs, field: str = "changed_at"):
        return qs.filter(**{f"{field}__gte": since}) if since else qs

    profile = {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "quota": user.storage_quota,
        "usage": user.storage_used,
        "date_joined": user.date_joined,
    }
    yield '{"format": "locker-data/1", "since": ' + _dump(since) + ', "profile": ' + _dump(profile)
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        yield f', "{section.label}": '
        yield from section.write(user, keys, request, changed)
    yield "}"


def _folders(user, keys, request, changed) -> Iterator[str]:
    def items():
        for folder in changed(Folder.objects.filter(owner=user)).order_by("created_at", "id").iterator(BATCH):
            yield {
                "id": folder.pk,
                "name": keys.folder_name(folder),
                "parent": folder.parent_id,
                "tags": keys.folder_tags(folder),
                "created_at": folder.created_at,
                "modified_at": folder.modified_at,
                "trashed_at": folder.trashed_at,
            }

    return _array(items())


def _files(user, keys, request, changed) -> Iterator[str]:
    def items():
        files = changed(File.objects.filter(owner=user)).select_related("current_version").order_by("created_at", "id")
        for file in files.iterator(BATCH):
            yield {
                "id": file.pk,
                "name": keys.file_name(file),
                "folder": file.folder_id,
                "tags": keys.file_tags(file),
                "size": file.size,
                "mime_type": file.mime_type,
                "version": file.current_version.number if file.current_version_id else None,
                "created_at": file.created_at,
                "modified_at": file.modified_at,
                "trashed_at": file.trashed_at,
                "content_url": request.build_absolute_uri(reverse("api-file-content", args=[file.pk])),
            }

    return _array(items())


def _notes(user, keys, request, changed) -> Iterator[str]:
    def items():
        for note in changed(Note.objects.filter(owner=user)).order_by("created_at", "id").iterator(BATCH):
            key = notes.note_key(keys, note)
            yield {
                "id": note.pk,
                "title": notes.note_title(keys, note, key),
                "body": notes.note_body(keys, note, key),
                "tags": notes.note_tags(keys, note, key),
                "folder": note.folder_id,
                "version": note.version,
                "created_at": note.created_at,
                "modified_at": note.modified_at,
                "trashed_at": note.trashed_at,
            }

    return _array(items())


def _shares(user, keys, request, changed) -> Iterator[str]:
    """The shares the user made and those made to them: who, what (kind and id), which permission."""

    def items():
        made = changed(Share.objects.filter(owner=user), "modified_at").select_related("recipient")
        received = changed(Share.objects.filter(recipient=user), "modified_at").select_related("owner")
        for direction, rows in (("made", made), ("received", received)):
            for share in rows.order_by("created_at", "id").iterator(BATCH):
                yield {
                    "id": share.pk,
                    "direction": direction,
                    "kind": share.kind,
                    "item": share.item_id,
                    "owner": share.owner.username if direction == "received" else user.username,
                    "recipient": share.recipient.username if direction == "made" else user.username,
                    "permission": share.permission,
                    "created_at": share.created_at,
                    "modified_at": share.modified_at,
                }

    return _array(items())


def _activity(user, keys, request, changed) -> Iterator[str]:
    def items():
        events = changed(Event.objects.filter(user=user), "created_at").order_by("created_at", "id")
        for event in events.iterator(BATCH):
            yield {
                "id": event.pk,
                "created_at": event.created_at,
                "action": event.action,
                "outcome": event.outcome,
                "ip": event.ip,
                "object_type": event.object_type,
                "object_id": event.object_id,
            }

    return _array(items())


register_section("folders", 10, _folders)
register_section("files", 20, _files)
register_section("notes", 30, _notes)
register_section("shares", 50, _shares)
register_section("activity", 60, _activity)
