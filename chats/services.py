"""Chat services and selectors: encrypted titles and messages, searchable through the vault's blind index.

Keyword-only functions taking the acting user and the request's :class:`~vault.keys.VaultKeys`; another
user's chat or message is simply not found (404). Each write records its activity event in its transaction.
"""

from __future__ import annotations

import mimetypes
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from activity import actions
from activity.services import event_record
from chats.audio import probe
from chats.models import Attachment, Chat, Message
from locker.crypto.aead import context
from locker.errors import InvalidInput, LockerError, NotFound
from locker.units import format_bytes
from vault.common import clean_title, is_uuid, owned_folder
from vault.derived.derive import derive_upload
from vault.files import services as vault_services
from vault.keys import VaultKeys, open_text, seal_text
from vault.models import Folder, SearchToken
from vault.search.index import index_item, unindex
from vault.transfers.downloads import PlaintextReader
from vault.trash import services as trash

MAX_TITLE = 200


# --- keys and sealed fields ---------------------------------------------------------------------


def chat_key(keys: VaultKeys, chat: Chat) -> bytes:
    """A chat's key, wrapped by the user's data key (through the vault's key hierarchy, remembered per request)."""
    return keys.object_key("chat-key", chat.pk, chat.key_wrapped)


def chat_title(keys: VaultKeys, chat: Chat) -> str:
    return open_text(chat_key(keys, chat), chat.title_sealed, aad=context("chat-title", keys.owner_id, chat.pk))


def message_content(keys: VaultKeys, message: Message, chat: Chat | None = None) -> str:
    key = chat_key(keys, chat or message.chat)
    return open_text(key, message.content_sealed, aad=context("message", keys.owner_id, message.chat_id, message.pk))


def _clean_content(content) -> str:
    if not isinstance(content, str):
        raise InvalidInput(errors={"content": ["Must be text."]})
    if "\x00" in content:
        raise InvalidInput(errors={"content": ["Messages cannot contain NUL characters."]})
    if len(content.encode()) > settings.LOCKER_MAX_MESSAGE_BYTES:
        raise InvalidInput(
            "This message is too long.",
            code="message_too_large",
            errors={"content": [f"At most {format_bytes(settings.LOCKER_MAX_MESSAGE_BYTES, trim=True)} of text."]},
        )
    return content


# --- chats -----------------------------------------------------------------------------------------


def chat_create(*, user, keys: VaultKeys, title="", meta=None) -> Chat:
    title = clean_title(title, max_length=MAX_TITLE)
    chat_id, key = uuid.uuid4(), keys.new_key()
    with transaction.atomic():
        chat = Chat.objects.create(
            id=chat_id,
            owner=user,
            key_wrapped=keys.wrap_object_key("chat-key", chat_id, key),
            title_sealed=seal_text(key, title, aad=context("chat-title", user.pk, chat_id)),
        )
        event_record(action=actions.CHAT_CREATED, user=user, meta=meta, object_type="chat", object_id=chat_id)
    return chat


def _chat(user, chat_id, *, lock: bool = False) -> Chat:
    qs = Chat.objects.filter(owner=user, pk=chat_id)
    chat = (qs.select_for_update() if lock else qs).first() if is_uuid(chat_id) else None
    if chat is None:
        raise NotFound("No such chat.")
    return chat


def chat_update(*, user, keys: VaultKeys, chat_id, title, meta=None) -> Chat:
    title = clean_title(title, max_length=MAX_TITLE)
    with transaction.atomic():
        chat = _chat(user, chat_id, lock=True)
        chat.title_sealed = seal_text(chat_key(keys, chat), title, aad=context("chat-title", user.pk, chat.pk))
        chat.updated_at = timezone.now()
        chat.save(update_fields=["title_sealed", "updated_at"])
        event_record(action=actions.CHAT_RENAMED, user=user, meta=meta, object_type="chat", object_id=chat.pk)
    return chat


def chat_delete(*, user, chat_id, meta=None) -> None:
    """Delete a chat with its messages (the chat key goes with the row: crypto-shred); its attachments go to the
    trash like any deleted file."""
    with transaction.atomic():
        chat = _chat(user, chat_id, lock=True)
        message_ids = list(Message.objects.filter(chat=chat).values_list("pk", flat=True))
        # Attachments are vault files: they go to the trash (restorable until purged), not silently kept.
        attached = Attachment.objects.filter(message__chat=chat, file__isnull=False, file__trashed_at__isnull=True)
        for file_id in attached.values_list("file_id", flat=True):
            trash.item_trash(user=user, kind="file", item_id=file_id, meta=meta)
        chat.delete()
        unindex(kind=SearchToken.Kind.MESSAGE, item_ids=message_ids)
        event_record(action=actions.CHAT_DELETED, user=user, meta=meta, object_type="chat", object_id=chat_id)


# --- messages ----------------------------------------------------------------------------------------


class UnsupportedAudio(LockerError):
    status_code = 415
    code = "unsupported_audio"
    detail = "The audio part is not a recording we can read (WebM, Ogg, MP3, M4A, WAV, FLAC...)."


class AudioTooLarge(LockerError):
    status_code = 413
    code = "audio_too_large"


ATTACHMENTS_FOLDER = "Chat attachments"


def attachments_folder_find(*, user, keys: VaultKeys) -> Folder | None:
    """The top-level "Chat attachments" folder, if it exists yet (live, not in the trash)."""
    mac = keys.name_mac(keys.folder_key(None), ATTACHMENTS_FOLDER)
    return Folder.objects.filter(owner=user, parent=None, name_mac=mac, trashed_at__isnull=True).first()


def _attachments_folder(user, keys: VaultKeys):
    """The top-level vault folder that holds chat attachments (made on first use)."""
    folder = attachments_folder_find(user=user, keys=keys)
    return folder or vault_services.folder_create(user=user, keys=keys, name=ATTACHMENTS_FOLDER, on_conflict="rename")


def _message_row(user, keys: VaultKeys, chat: Chat, role, content: str, reply_to=None) -> Message:
    """A message's row, its text sealed under the chat's key (inside the caller's transaction)."""
    message_id = uuid.uuid4()
    return Message.objects.create(
        id=message_id,
        chat=chat,
        owner=user,
        role=role,
        reply_to=reply_to,
        content_sealed=seal_text(chat_key(keys, chat), content, aad=context("message", user.pk, chat.pk, message_id)),
    )


def _message_made(user, keys: VaultKeys, chat: Chat, message: Message, content: str, meta, **data) -> None:
    """What a new message does after its row (inside its transaction): index its words, touch its chat, record it."""
    index_message(user=user, keys=keys, message_id=message.pk, content=content)
    Chat.objects.filter(pk=chat.pk).update(updated_at=timezone.now())
    event_record(
        action=actions.MESSAGE_CREATED,
        user=user,
        meta=meta,
        object_type="message",
        object_id=message.pk,
        data={"chat": str(chat.pk), "role": message.role, **data},
    )


def message_create(
    *,
    user,
    keys: VaultKeys,
    chat_id,
    role,
    content,
    reply_to=None,
    files=(),
    audio=None,
    folder_id=None,
    meta=None,
) -> Message:
    """Post a message with any number of file attachments and one optional voice recording, atomically:
    either the message and all its attachments exist, or none of them (the caller discards the blobs).

    The attachments are vault files: in ``folder_id`` (one of the user's own folders; 404 for any other id), or
    else in the top-level "Chat attachments" folder, made on first use."""
    if role not in Message.Role.values:
        raise InvalidInput(errors={"role": [f"One of: {', '.join(Message.Role.values)}."]})
    content = _clean_content(content)
    # Thumbnails, text and the recording's length come from the content: decrypted and worked out before the
    # transaction, so that no other writer waits on SQLite's lock meanwhile.
    for upload in files:
        derive_upload(keys=keys, upload=upload)
    recording = _probe_recording(keys, audio) if audio is not None else None
    with transaction.atomic():
        chat = _chat(user, chat_id, lock=True)
        parent = None
        if reply_to is not None:
            parent = Message.objects.filter(chat=chat, pk=reply_to).first() if is_uuid(reply_to) else None
            if parent is None:
                raise InvalidInput(errors={"reply_to": ["No such message in this chat."]})
        if not content and not files and audio is None:
            raise InvalidInput("A message needs text, a file or a recording.", code="empty_message")
        message = _message_row(user, keys, chat, role, content, reply_to=parent)
        chosen = owned_folder(user, folder_id) if folder_id is not None else None
        if files or audio is not None:
            folder = chosen or _attachments_folder(user, keys)
        for position, upload in enumerate(files):
            stored = vault_services.file_upload(
                user=user, keys=keys, upload=upload, folder_id=folder.pk, on_conflict="rename", meta=meta
            )
            Attachment.objects.create(message=message, file=stored.file, kind=Attachment.Kind.FILE, position=position)
        if audio is not None:
            _attach_audio(user, keys, message, folder, audio, recording, position=len(files), meta=meta)
        _message_made(user, keys, chat, message, content, meta, attachments=len(files) + (audio is not None))
    return message


def message_import(*, user, keys: VaultKeys, chat_id, role, content, attachments=(), meta=None) -> Message:
    """A message brought back by an import (``vault.export.imports``): its text, and attachments that are files
    the import already stored (``(file id, kind, duration)``), linked instead of uploaded again."""
    if role not in Message.Role.values:
        raise InvalidInput(errors={"role": [f"One of: {', '.join(Message.Role.values)}."]})
    content = _clean_content(content)
    with transaction.atomic():
        chat = _chat(user, chat_id, lock=True)
        message = _message_row(user, keys, chat, role, content)
        for position, (file_id, kind, duration) in enumerate(attachments):
            if kind not in Attachment.Kind.values:
                kind = Attachment.Kind.FILE
            Attachment.objects.create(message=message, file_id=file_id, kind=kind, duration=duration, position=position)
        _message_made(user, keys, chat, message, content, meta, attachments=len(attachments), imported=True)
    return message


def index_message(*, user, keys: VaultKeys, message_id, content: str) -> None:
    """A message's words in the vault's blind index (inside the write's transaction)."""
    index_item(
        owner_id=user.pk,
        keys=keys.search,
        kind=SearchToken.Kind.MESSAGE,
        item_id=message_id,
        fields={"body": [content]},
    )


def _probe_recording(keys: VaultKeys, upload) -> tuple[str, float | None]:
    """``(MIME type, duration)`` of a recording upload, read through its encrypted blob; refuses what is not one."""
    if upload.size > settings.LOCKER_MAX_AUDIO_SIZE:
        upload.discard()
        raise AudioTooLarge(f"Recordings are limited to {format_bytes(settings.LOCKER_MAX_AUDIO_SIZE, trim=True)}.")
    reader = PlaintextReader.of_upload(keys.owner_id, upload)
    try:
        mime, duration = probe(reader)
    finally:
        reader.close()
    if mime is None:
        raise UnsupportedAudio()
    upload.mime_type = mime
    return mime, duration


def _attach_audio(user, keys: VaultKeys, message: Message, folder, upload, recording, *, position: int, meta) -> None:
    if not upload.name or upload.name.lower() in {"blob", "audio", "recording"}:  # what browsers send for recordings
        extension = mimetypes.guess_extension(upload.mime_type) or ""
        upload.name = f"Recording {timezone.now():%Y-%m-%d %H.%M.%S}{extension}"
    stored = vault_services.file_upload(
        user=user, keys=keys, upload=upload, folder_id=folder.pk, on_conflict="rename", meta=meta
    )
    _mime, duration = recording
    Attachment.objects.create(
        message=message, file=stored.file, kind=Attachment.Kind.AUDIO, duration=duration, position=position
    )
    event_record(action=actions.AUDIO_UPLOADED, user=user, meta=meta, object_type="file", object_id=stored.file.pk)


def message_status_update(*, user, message_id, status, meta=None) -> Message:
    if status not in Message.Status.values:
        raise InvalidInput(errors={"status": [f"One of: {', '.join(Message.Status.values)}."]})
    with transaction.atomic():
        message = (
            Message.objects.filter(owner=user, pk=message_id).select_related("chat").first()
            if is_uuid(message_id)
            else None
        )
        if message is None:
            raise NotFound("No such message.")
        message.status = status
        message.save(update_fields=["status"])
        event_record(
            action=actions.MESSAGE_STATUS_CHANGED,
            user=user,
            meta=meta,
            object_type="message",
            object_id=message.pk,
            data={"status": status},
        )
    return message


# --- selectors ---------------------------------------------------------------------------------------


def chat_list(*, user) -> QuerySet[Chat]:
    return Chat.objects.filter(owner=user).order_by("-updated_at", "id")


def chat_get(*, user, chat_id) -> Chat:
    return _chat(user, chat_id)


def message_list(*, user, chat_id, after=None) -> tuple[Chat, QuerySet[Message]]:
    """A chat and its messages; ``after``: only those that come after that message of the chat (in the list's
    order: time, then id), for a client that follows a conversation (400 when it is not a message of this chat)."""
    chat = _chat(user, chat_id)
    messages = Message.objects.filter(chat=chat)
    if after is not None:
        seen = messages.filter(pk=after).first() if is_uuid(after) else None
        if seen is None:
            raise InvalidInput(errors={"after": ["No such message in this chat."]})
        messages = messages.filter(Q(created_at__gt=seen.created_at) | Q(created_at=seen.created_at, id__gt=seen.id))
    return chat, messages.prefetch_related("attachments__file__current_version__derived")
