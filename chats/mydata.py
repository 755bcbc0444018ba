"""Chats with their messages as a section of the data export (``vault.export.services``), registered at start-up."""

from __future__ import annotations

from collections.abc import Iterator

from chats.models import Chat, Message
from chats.services import chat_title, message_content
from vault.export.services import BATCH, array, dump, register_section


def write_chats(user, keys, request, changed) -> Iterator[str]:
    def message_items(chat):
        messages = changed(Message.objects.filter(chat=chat), "created_at").order_by("created_at", "id")
        for message in messages.prefetch_related("attachments").iterator(BATCH):
            yield {
                "id": message.pk,
                "role": message.role,
                "status": message.status,
                "content": message_content(keys, message, chat),
                "reply_to": message.reply_to_id,
                "created_at": message.created_at,
                "attachments": [
                    {"file": a.file_id, "kind": a.kind, "duration": a.duration} for a in message.attachments.all()
                ],
            }

    yield "["
    for n, chat in enumerate(Chat.objects.filter(owner=user).order_by("created_at", "id").iterator(BATCH)):
        head = {
            "id": chat.pk,
            "title": chat_title(keys, chat),
            "created_at": chat.created_at,
            "updated_at": chat.updated_at,
        }
        yield ("," if n else "") + dump(head)[:-1] + ', "messages": '
        yield from array(message_items(chat))
        yield "}"
    yield "]"


def register() -> None:
    register_section("chats", 40, write_chats)
