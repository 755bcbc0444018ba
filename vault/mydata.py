"""``GET /api/v1/me/data``: everything a user has, as one JSON document streamed in constant memory.

Rows are read in batches (``QuerySet.iterator``), decrypted one at a time and written out as JSON fragments,
so 100,000 messages never sit in memory together. ``?since=<ISO date-time>`` keeps only what was created or
changed since then (an incremental pull). File bytes are not inlined: each file has its content link.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from django.urls import reverse

from activity.models import Event
from chats import services as chat_services
from chats.models import Chat, Message
from vault import notes
from vault.keys import VaultKeys
from vault.models import File, Folder, Note

BATCH = 500


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

    def changed(qs, field: str = "modified_at"):
        return qs.filter(**{f"{field}__gte": since}) if since else qs

    def folder_items():
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

    def file_items():
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

    def note_items():
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

    def chat_items():
        yield from Chat.objects.filter(owner=user).order_by("created_at", "id").iterator(BATCH)

    def message_items(chat):
        messages = changed(Message.objects.filter(chat=chat), "created_at").order_by("created_at", "id")
        for message in messages.prefetch_related("attachments").iterator(BATCH):
            yield {
                "id": message.pk,
                "role": message.role,
                "status": message.status,
                "content": chat_services.message_content(keys, message, chat),
                "reply_to": message.reply_to_id,
                "created_at": message.created_at,
                "attachments": [
                    {"file": a.file_id, "kind": a.kind, "duration": a.duration} for a in message.attachments.all()
                ],
            }

    def event_items():
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
    for label, items in (("folders", folder_items()), ("files", file_items()), ("notes", note_items())):
        yield f', "{label}": '
        yield from _array(items)
    yield ', "chats": ['
    for n, chat in enumerate(chat_items()):
        head = {
            "id": chat.pk,
            "title": chat_services.chat_title(keys, chat),
            "created_at": chat.created_at,
            "updated_at": chat.updated_at,
        }
        yield ("," if n else "") + _dump(head)[:-1] + ', "messages": '
        yield from _array(message_items(chat))
        yield "}"
    yield '], "shares": [], "activity": '
    yield from _array(event_items())
    yield "}"
